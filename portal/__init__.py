"""The Innovatiebieb portal: Flask app factory.

``create_app()`` wires configuration (environment only, :class:`settings.Settings`),
the registry, the OpenSearch client, i18n (Flask-Babel; Dutch first), error
handlers and one blueprint per audience. Run with ``flask --app portal …`` or
gunicorn ``'portal:create_app()'``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_babel import Babel
from werkzeug.middleware.proxy_fix import ProxyFix

from registry.languages import DEFAULT_LANGUAGE, LANGUAGES
from settings import Settings

from . import config as config_module
from .json_provider import OrjsonProvider

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def select_locale() -> str:
    """``lang`` parameter if valid, else the browser's preference, else Dutch
    (:data:`registry.languages.LANGUAGES`)."""
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        return lang
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def create_app(overrides: dict | None = None, settings: Settings | None = None) -> Flask:
    """Build the portal.

    Args:
        overrides: Flask config values that win over ``settings`` (tests use this).
        settings: the configuration; default :meth:`Settings.from_env`.
    Returns:
        the Flask application.
    Raises:
        settings.SettingsError: ``settings`` is not given and a variable is invalid.
    """
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    settings = settings or Settings.from_env()
    app.config.update(config_module.from_settings(settings))
    app.config.update(overrides or {})
    app.json = OrjsonProvider(app)
    app.json.sort_keys = False
    if app.config.get("TRUSTED_PROXIES"):
        # behind a reverse proxy every request comes from the proxy: take the client's
        # address and scheme from the headers the trusted proxies set, and no others
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    Babel(app, locale_selector=select_locale)

    from . import auth, backends, cli, errors, http_cache, security, shared_state, ui
    from .views import admin, api, discovery, editorial, health, oai, public, stats

    backends.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    errors.register_error_handlers(app)
    shared_state.init_app(app)
    cli.register(app)
    ui.register(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(oai.bp)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(editorial.members)
    app.register_blueprint(editorial.review)
    stats.init_app(app)
    http_cache.init_app(app)
    return app
