"""People who log in: creation, roles, passwords, authentication.

Passwords are hashed with scrypt through Werkzeug's ``generate_password_hash`` (a
memory-hard KDF from a well-kept library); plain passwords are never stored.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import ROLES, User

MIN_PASSWORD_LENGTH = 10
# compared against when the e-mail is unknown, so both paths cost one scrypt check
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000")


class UserError(ValueError):
    """A user operation that cannot be done (message is for people)."""


def normalise_email(email: str) -> str:
    """Trimmed, lower-cased e-mail; raises :class:`UserError` when it has no ``@``."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise UserError(f"not an e-mail address: {email!r}")
    return email


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")


def create_user(session: Session, email: str, role: str, password: str) -> User:
    """Add a user; raises :class:`UserError` for a bad role, password or a taken e-mail."""
    email = normalise_email(email)
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    _check_password(password)
    if session.scalar(select(User).where(User.email == email)):
        raise UserError(f"a user {email} exists already")
    user = User(email=email, role=role, password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User:
    """The user with ``email``; raises :class:`UserError` when there is none."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise UserError(f"no user {email}")
    return user


def set_role(session: Session, email: str, role: str) -> User:
    """Change a user's role; raises :class:`UserError`."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
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
