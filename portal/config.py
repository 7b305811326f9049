"""Portal configuration from environment variables (the only configuration source).

| variable | default | meaning |
| --- | --- | --- |
| ``SECRET_KEY`` | random per process | signs sessions; set it in production |
| ``DATABASE_URL`` | SQLite file in ``instance/`` | the registry |
| ``OPENSEARCH_URL`` | ``http://127.0.0.1:9200`` | the search cluster |
| ``INDEX_PREFIX`` | empty | prefix of aliases and indices |
| ``SEARCH_TIMEOUT_S`` | ``5`` | per-request OpenSearch timeout, seconds |
| ``SEARCH_BREAKER_S`` | ``10`` | after 3 failed or timed-out OpenSearch calls in a
  row, answer 503 at once for this many seconds, then probe again |
| ``SEARCH_CONCURRENCY`` | ``6`` | OpenSearch calls one portal process makes at once;
  fewer than gunicorn's threads, so a hanging cluster never takes every thread |
| ``SMTP_URL`` | empty | mail server, e.g. ``smtp://127.0.0.1:8025`` |
| ``MAIL_FROM`` | ``noreply@innovatiebieb.example`` | sender of reminders and digests |
| ``PUBLIC_BASE_URL`` | ``http://127.0.0.1:8000`` | base of every absolute link (mails, Atom
  feed, OpenSearch description, permalinks); never the request's Host header |
| ``TAXONOMY_CHECK_S`` | ``1`` | how often (s) a process checks for taxonomy changes |
| ``COMMUNITY_FORMERLY_DAYS`` | ``365`` | days a merged/renamed community's facet label
  shows "(voorheen …)" |
| ``OAI_PAGE_SIZE`` | ``100`` | records or headers per OAI-PMH list response |
| ``OAI_TOKEN_TTL_S`` | ``3600`` | how long an OAI-PMH resumption token stays valid, seconds |
| ``SITEMAP_MAX_URLS`` | ``50000`` | URLs per sitemap file (the sitemaps protocol's limit);
  more published innovations make ``/sitemap.xml`` a sitemap index |
| ``RATELIMIT_STORAGE_URI`` | ``memory://`` | where login rate-limit counters live; ``memory://``
  counts per process (only right for one single-worker process), ``redis://host:port/0``
  shares them between every worker and portal process |
| ``TRUSTED_PROXIES`` | ``0`` | reverse proxies in front that set ``X-Forwarded-For`` and
  ``X-Forwarded-Proto``; with ``1`` behind one proxy, the client address (rate limits) is
  the one the proxy saw, not the proxy's own |
| ``SESSION_COOKIE_SECURE`` | ``1`` | send session cookies over HTTPS only (``0`` for
  plain-HTTP development; ``make run`` sets it) |
"""

from __future__ import annotations

import os
import secrets


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def from_env() -> dict:
    """Flask config values read from the environment (see the module table)."""
    secure = _flag("SESSION_COOKIE_SECURE", True)
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
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0") or 0),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "").strip() or "memory://",
        # a Redis that does not answer costs a login at most 2 s, never a hung thread, and
        # its failure is a limits StorageError (answered 503, portal.shared_state)
        "RATELIMIT_STORAGE_OPTIONS": {
            "socket_connect_timeout": 2,
            "socket_timeout": 2,
            "wrap_exceptions": True,
        },  # fmt: skip
        # a form stays valid as long as the session: nobody loses a long text
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_hex(32),
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
        "OPENSEARCH_URL": os.environ.get("OPENSEARCH_URL", "http://127.0.0.1:9200"),
        "INDEX_PREFIX": os.environ.get("INDEX_PREFIX", ""),
        "SEARCH_TIMEOUT_S": float(os.environ.get("SEARCH_TIMEOUT_S", "5")),
        "SEARCH_BREAKER_S": float(os.environ.get("SEARCH_BREAKER_S", "10")),
        "SEARCH_CONCURRENCY": int(os.environ.get("SEARCH_CONCURRENCY", "6")),
        "SMTP_URL": os.environ.get("SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Innovatiebieb <noreply@innovatiebieb.example>"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        "TAXONOMY_CHECK_S": float(os.environ.get("TAXONOMY_CHECK_S", "1")),
        "COMMUNITY_FORMERLY_DAYS": int(os.environ.get("COMMUNITY_FORMERLY_DAYS", "365")),
        "OAI_PAGE_SIZE": int(os.environ.get("OAI_PAGE_SIZE", "100")),
        "OAI_TOKEN_TTL_S": int(os.environ.get("OAI_TOKEN_TTL_S", "3600")),
        "SITEMAP_MAX_URLS": int(os.environ.get("SITEMAP_MAX_URLS", "50000")),
        "BABEL_DEFAULT_LOCALE": "nl",
        "JSON_SORT_KEYS": False,
    }
