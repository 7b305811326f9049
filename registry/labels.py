"""Marking English labels of declarations for translation.

The registry knows no request and no locale, yet some of its declarations carry a
label a person reads (a role, a record status). Such a label is written in English
inside :func:`N_`, which returns it unchanged but lets ``pybabel extract`` (``make
translations``, ``babel.cfg``) collect it into the portal's catalogue; the portal
translates it when it renders it (``gettext(label)``).
"""


def N_(text: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Return ``text`` unchanged; marks it as an English source string to translate."""
    return text
