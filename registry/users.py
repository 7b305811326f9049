"""People who log in: creation, roles, passwords, authentication.

Passwords are hashed with scrypt through Werkzeug's ``generate_password_hash`` (a
memory-hard KDF from a well-kept library); plain passwords are never stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import DomainError
from .models import LoginToken, User
from .roles import ROLES

MIN_PASSWORD_LENGTH = 10
# compared against when the e-mail is unknown, so both paths cost one scrypt check
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000")


class UserError(DomainError, ValueError):
    """A user operation that cannot be done; ``code`` says why."""

    codes = ("invalid_email", "password_too_short", "unknown_role", "user_exists", "no_user")


def normalise_email(email: str) -> str:
    """Trimmed, lower-cased e-mail address.

    The syntax is checked by ``email-validator`` (RFC 5322/6531, a domain with a dot),
    without a DNS look-up: accounts are created offline.

    Raises:
        UserError: not the syntax of an e-mail address, or over 320 characters.
    """
    email = email.strip().lower()
    if len(email) > 320:
        raise UserError(f"not an e-mail address: {email!r}", "invalid_email", email=email)
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise UserError(f"not an e-mail address: {email!r}", "invalid_email", email=email) from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
            "password_too_short",
            min=MIN_PASSWORD_LENGTH,
        )


def create_user(session: Session, email: str, role: str, password: str) -> User:
    """Add a user; raises :class:`UserError` for a bad role, password or a taken e-mail."""
    email = normalise_email(email)
    if role not in ROLES:
        raise UserError(
            f"unknown role {role!r}; one of {', '.join(ROLES)}",
            "unknown_role",
            role=role,
            roles=", ".join(ROLES),
        )
    _check_password(password)
    if session.scalar(select(User).where(User.email == email)):
        raise UserError(f"a user {email} exists already", "user_exists", email=email)
    user = User(email=email, role=role, password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User:
    """The user with ``email``; raises :class:`UserError` when there is none."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise UserError(f"no user {email}", "no_user", email=email)
    return user


def set_role(session: Session, email: str, role: str) -> User:
    """Change a user's role; raises :class:`UserError`."""
    if role not in ROLES:
        raise UserError(
            f"unknown role {role!r}; one of {', '.join(ROLES)}",
            "unknown_role",
            role=role,
            roles=", ".join(ROLES),
        )
    user = find_user(session, email)
    user.role = role
    return user


def reset_password(session: Session, email: str, password: str) -> User:
    """Set a new password; existing sessions of the user stop working (see
    :func:`session_token`)."""
    _check_password(password)
    user = find_user(session, email)
    user.password_hash = generate_password_hash(password)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user whose e-mail and password match, else None (constant work)."""
    try:
        email = normalise_email(email)
    except UserError:
        email = ""
    user = session.scalar(select(User).where(User.email == email)) if email else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def session_token(user: User) -> str:
    """A short value that changes whenever the password or role changes.

    Stored in the login session beside the user id, so a password reset or a role
    change logs the user out everywhere.
    """
    digest = hashlib.sha256(f"{user.password_hash}|{user.role}".encode()).hexdigest()
    return digest[:16]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_login(session: Session, user: User, max_age_s: int) -> str:
    """Record a new login of ``user``; returns its token (for the cookies only).

    The registry stores the token's SHA-256, so its rows do not let anyone log in.
    Logins of this user older than ``max_age_s`` seconds are removed on the way.
    """
    now = dt.datetime.now(dt.UTC)
    session.execute(
        delete(LoginToken)
        .where(LoginToken.user_id == user.id)
        .where(LoginToken.created_at < now - dt.timedelta(seconds=max_age_s))
    )
    token = secrets.token_urlsafe(24)
    session.add(LoginToken(user_id=user.id, token_hash=_token_hash(token), created_at=now))
    session.flush()
    return token


def login_is_open(session: Session, user_id: int, token: str, max_age_s: int) -> bool:
    """Whether ``token`` is a login of ``user_id`` that was not closed and is at most
    ``max_age_s`` seconds old (the longest a remember-me cookie lives)."""
    found = session.scalar(
        select(LoginToken)
        .where(LoginToken.token_hash == _token_hash(token))
        .where(LoginToken.user_id == user_id)
    )
    if found is None:
        return False
    created = found.created_at
    if created.tzinfo is None:  # SQLite returns naive datetimes (stored as UTC)
        created = created.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC) - created <= dt.timedelta(seconds=max_age_s)


def close_login(session: Session, user_id: int, token: str) -> None:
    """End one login (logout): its session and remember-me cookies stop working."""
    session.execute(
        delete(LoginToken)
        .where(LoginToken.token_hash == _token_hash(token))
        .where(LoginToken.user_id == user_id)
    )


def close_all_logins(session: Session, user_id: int) -> int:
    """End every login of ``user_id`` ("log out everywhere"); returns how many."""
    result = session.execute(delete(LoginToken).where(LoginToken.user_id == user_id))
    return result.rowcount or 0
