"""HTTP hardening: cookie flags, CSRF on every form, security headers.

The Content-Security-Policy allows no inline script at all (the only script is
``static/autocomplete.js``), and ``frame-ancestors 'none'`` forbids framing.

Why not Flask-Talisman (1.1): it has no ``Cross-Origin-Opener-Policy``, so a hook of
our own would stay anyway; it writes the session-cookie flags into the app config,
taking them from :class:`settings.Settings`; it sends HSTS only on requests it sees as
HTTPS (behind a TLS proxy the portal sees HTTP) where we tie it to
``SESSION_COOKIE_SECURE``; and it adds a ``Permissions-Policy`` and overwrites headers
a view set. The headers below are the whole rule.
"""

from __future__ import annotations

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


HSTS = ("Strict-Transport-Security", "max-age=31536000")
"""Sent when the session cookie is ``Secure``: the site is then served over HTTPS."""


def init_app(app: Flask) -> None:
    """CSRF protection for every POST form and security headers on every response."""
    csrf.init_app(app)
    headers = list(SECURITY_HEADERS.items())
    if app.config.get("SESSION_COOKIE_SECURE"):
        headers.append(HSTS)
    # the values are fixed per app: built once here, so a response only adds those
    # its view did not set itself
    wanted = tuple((name.lower(), name, value) for name, value in headers)

    @app.after_request
    def add_headers(response: Response) -> Response:
        present = {name.lower() for name, _value in response.headers.items()}
        for key, name, value in wanted:
            if key not in present:
                response.headers.add(name, value)
        return response
