"""Outgoing mail and signed links.

``SMTP_URL`` configures the server: ``smtp://host:port`` (plain),
``smtp+starttls://user:password@host:587`` or ``smtps://…`` (TLS). Links in mails
are signed and, where they change something, expire (itsdangerous).
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

VERIFY_LINK_MAX_AGE_S = 60 * 24 * 3600
"""A "still correct" link works for 60 days (one reminder per half-year cycle)."""

SENDER = "Innovatiebieb <noreply@innovatiebieb.example>"


class MailError(RuntimeError):
    """Mail could not be sent (configuration or server); message for people."""


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one plain-text UTF-8 message to ``to`` through ``SMTP_URL``.

    Raises:
        MailError: ``SMTP_URL`` is missing or malformed, or the server refused.
    """
    url = current_app.config.get("SMTP_URL")
    if not url:
        raise MailError("SMTP_URL is not set; configure the mail server first")
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtp+starttls", "smtps") or not parts.hostname:
        raise MailError(f"SMTP_URL must look like smtp://host:port, not {url!r}")
    message = EmailMessage()
    message["From"] = current_app.config.get("MAIL_FROM", SENDER)
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    try:
        with smtp_class(parts.hostname, parts.port or 25, timeout=30) as server:
            if parts.scheme == "smtp+starttls":
                server.starttls()
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"the mail server at {parts.hostname} refused: {exc}") from exc


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def sign(purpose: str, payload: dict) -> str:
    """A URL-safe signed token of ``payload`` for ``purpose`` (the salt)."""
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, max_age_s: int | None = None) -> dict | None:
    """The payload of a valid token, or None when forged, altered or expired."""
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age_s)
    except (SignatureExpired, BadSignature):
        return None
    return payload if isinstance(payload, dict) else None
