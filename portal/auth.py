"""Login, logout, sessions and role checks (Flask-Login, Flask-WTF, Flask-Limiter).

Roles, from least to most rights: anonymous < member < editor/analyst < admin; every
logged-in person is a member of the network and queries ``innovations-members``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from registry import roles
from registry.db import transaction
from registry.models import User
from registry.users import (
    authenticate,
    close_all_logins,
    close_login,
    login_is_open,
    open_login,
    session_token,
)

from .backends import backends

LOGIN_LIMIT = "5 per minute;20 per hour"
"""Login attempts per client address (POST only)."""
ACCOUNT_LOGIN_LIMIT = "10 per 15 minutes"
"""Failed logins per account, from any number of addresses: password guessing spread
over many addresses stops here (OWASP Authentication Cheat Sheet, account lockout).
Only failures count, so the owner who types the password right is never blocked
by their own logins; once the limit is reached, the password is not even checked."""

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
# storage from RATELIMIT_STORAGE_URI (portal.config): shared by every process when Redis
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@dataclass(frozen=True)
class PortalUser:
    """The logged-in person as Flask-Login sees it (no registry object in the session)."""

    user_id: int
    email: str
    role: str
    token: str
    login: str
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        """Session id: ``<user id>.<session token>.<login token>``.

        A password reset or role change invalidates the session token
        (:func:`registry.users.session_token`); logout removes the login token from
        the registry (:func:`registry.users.close_login`). The session and the
        remember-me cookie both carry this id, so both stop working either way.
        """
        return f"{self.user_id}.{self.token}.{self.login}"

    def may(self, right: str) -> bool:
        """Whether this user's role includes ``right`` (a role name, see
        :data:`registry.roles.ROLE_TABLE`); raises ValueError for an unknown right."""
        return roles.may(self.role, right)


def _portal_user(user: User, login: str) -> PortalUser:
    return PortalUser(user.id, user.email, user.role, session_token(user), login)


def _login_max_age_s() -> int:
    # a login lives as long as its longest cookie, the remember-me cookie
    return int(current_app.config["REMEMBER_COOKIE_DURATION"])


@login_manager.user_loader
def load_user(session_id: str) -> PortalUser | None:
    """The user of a session or remember-me cookie id, or None when the user is
    gone or inactive, the password or role changed, or the login was closed."""
    user_id, token, login = (session_id.split(".") + ["", ""])[:3]
    if not user_id.isdigit() or len(user_id) > 18 or not login:
        return None
    with backends().sessions() as db:
        user = db.get(User, int(user_id))
        if user is None or not user.active or session_token(user) != token:
            return None
        if not login_is_open(db, user.id, login, _login_max_age_s()):
            return None
        return _portal_user(user, login)


def current_role() -> str:
    """``anonymous`` or the logged-in user's role."""
    return current_user.role if current_user.is_authenticated else "anonymous"


def requires(right: str):
    """Decorator: the view needs a logged-in user whose role includes ``right``.

    ``right`` is a role name of :data:`registry.roles.ROLES` (checked when the view is
    declared: ValueError otherwise). Anonymous visitors are sent to the login page (401
    for the JSON API); a logged-in user without the right gets 403.
    """
    roles.Role(right)

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not current_user.may(right):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def safe_next(target: str | None) -> str:
    """``target`` when it is a local path on this site, else the search page.

    Refuses absolute URLs, scheme-relative ``//host`` and backslash tricks, so
    ``next`` cannot redirect anywhere else (open redirect).
    """
    if not target:
        return url_for("public.search_page")
    target = target.strip()
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 32 for ch in target)
    ):
        return url_for("public.search_page")
    return target


def _account_key() -> str:
    # the e-mail as the registry normalises it: "A@x " and "a@x" are one account
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:320]


def _failed_login(response) -> bool:
    return response.status_code == 401


def _account_limit_message() -> str:
    return _(
        "Too many failed logins for this account. Wait 15 minutes and try again, or "
        "ask an administrator to reset your password."
    )


class LoginForm(FlaskForm):
    """E-mail, password, remember me (CSRF-protected by Flask-WTF)."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    remember = BooleanField(_l("Remember me on this device"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@limiter.limit(
    ACCOUNT_LOGIN_LIMIT, key_func=_account_key, methods=["POST"], deduct_when=_failed_login,
    error_message=_account_limit_message,
)  # fmt: skip
def login():
    """The login page; a successful login renews the session and follows ``next``.

    Limits: :data:`LOGIN_LIMIT` per client address and :data:`ACCOUNT_LOGIN_LIMIT`
    failures per account (429 with a message that says which). An unknown e-mail
    costs the same password check as a known one
    (:func:`registry.users.authenticate`), so the answer time does not tell which
    accounts exist.
    """
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        with transaction(backends().sessions) as db:
            user = authenticate(db, form.email.data, form.password.data)
            login = open_login(db, user, _login_max_age_s()) if user else ""
            portal_user = _portal_user(user, login) if user else None
        if portal_user:
            # a fresh session at login: nothing from before survives (fixation)
            session.clear()
            login_user(portal_user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        failed = True
    status = 401 if failed else (400 if form.errors else 200)
    return render_template("login.html", form=form, failed=failed), status


@bp.post("/logout")
def logout():
    """End this login (POST with CSRF token only, so no link can log anyone out).

    The login's token is removed from the registry, so a saved copy of this
    session's cookie or of its remember-me cookie no longer logs anyone in.
    """
    if current_user.is_authenticated:
        with transaction(backends().sessions) as db:
            close_login(db, current_user.user_id, current_user.login)
    logout_user()
    session.clear()
    return redirect(url_for("public.search_page"))


@bp.get("/mijn/account")
@requires("member")
def account():
    """The account page: who is logged in, and "log out everywhere"."""
    return render_template("account.html")


@bp.post("/mijn/account/overal-uitloggen")
@requires("member")
def logout_everywhere():
    """End every login of this user, on every device (this one too)."""
    with transaction(backends().sessions) as db:
        close_all_logins(db, current_user.user_id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login", uitgelogd="overal"))


def init_app(app: Flask) -> None:
    """Install Flask-Login, the limiter and the blueprint on ``app``."""
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    limiter.init_app(app)
    app.register_blueprint(bp)

    @app.context_processor
    def user_context():
        return {"current_role": current_role()}
