"""Portal configuration: Flask config values from the one :class:`settings.Settings`.

Every variable and its default is declared once, in :mod:`settings` (the README's
configuration table lists them); this module only maps them to Flask's config keys and
adds the fixed session and cookie rules.
"""

from __future__ import annotations

import secrets

from registry.db import database_url
from registry.languages import DEFAULT_LANGUAGE
from settings import Settings


def from_settings(settings: Settings) -> dict:
    """Flask config values for ``settings`` (keys are the environment variable names,
    plus Flask's own session and cookie keys)."""
    secure = settings.session_cookie_secure
    return {
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        "RATELIMIT_HEADERS_ENABLED": True,
        "TRUSTED_PROXIES": settings.trusted_proxies,
        "RATELIMIT_STORAGE_URI": settings.ratelimit_storage_uri.strip() or "memory://",
        # a Redis that does not answer costs a login at most 2 s, never a hung thread, and
        # its failure is a limits StorageError (answered 503, portal.shared_state)
        "RATELIMIT_STORAGE_OPTIONS": {
            "socket_connect_timeout": 2,
            "socket_timeout": 2,
            "wrap_exceptions": True,
        },  # fmt: skip
        # a form stays valid as long as the session: nobody loses a long text
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
        "SECRET_KEY": settings.secret_key or secrets.token_hex(32),
        "DATABASE_URL": database_url(settings),
        "OPENSEARCH_URL": settings.search_url,
        "INDEX_PREFIX": settings.index_prefix,
        "SEARCH_TIMEOUT_S": settings.search_timeout_s,
        "SEARCH_BREAKER_S": settings.search_breaker_s,
        "SEARCH_CONCURRENCY": settings.search_concurrency,
        "SMTP_URL": settings.smtp_url,
        "MAIL_FROM": settings.mail_from,
        "PUBLIC_BASE_URL": settings.public_base_url,
        "TAXONOMY_CHECK_S": settings.taxonomy_check_s,
        "COMMUNITY_FORMERLY_DAYS": settings.community_formerly_days,
        "OAI_PAGE_SIZE": settings.oai_page_size,
        "OAI_TOKEN_TTL_S": settings.oai_token_ttl_s,
        "SITEMAP_MAX_URLS": settings.sitemap_max_urls,
        "BABEL_DEFAULT_LOCALE": DEFAULT_LANGUAGE,
        "JSON_SORT_KEYS": False,
    }


def from_env() -> dict:
    """Flask config values read from the environment now (:meth:`Settings.from_env`).

    Raises:
        settings.SettingsError: a variable has an invalid value.
    """
    return from_settings(Settings.from_env())
