"""The base of every domain error the registry raises.

A domain error carries a machine ``code`` (one of its class's :attr:`DomainError.codes`),
the values a message needs (``params``) and a technical English ``message`` for logs
and the command line. People never see the English text in the portal: one module,
:mod:`portal.errors`, maps each class and code to an HTTP status and a translated
message, so nothing reads the text of an error to find out what went wrong.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the registry that a request broke.

    Args:
        message: technical English (``str(exc)``), for logs and the command line.
        code: machine code, one of the class's :attr:`codes`.
        **params: the values the translated message names (ids, limits).
    """

    codes: tuple[str, ...] = ()
    """Every code this class raises (its subclasses list their own)."""

    def __init__(self, message: str, code: str, **params):
        super().__init__(message)
        self.message, self.code, self.params = message, code, params


def domain_error_classes() -> list[type[DomainError]]:
    """Every :class:`DomainError` subclass that is imported, depth first."""
    found: list[type[DomainError]] = []
    pending = list(DomainError.__subclasses__())
    while pending:
        cls = pending.pop(0)
        if cls not in found:
            found.append(cls)
            pending.extend(cls.__subclasses__())
    return found
