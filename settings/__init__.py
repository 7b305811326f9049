"""The configuration of every process, read from the environment in one place.

Environment variables are the only configuration source (README.md, "Configuration"
lists them; a test keeps that table and :class:`Settings` equal). The portal
(:func:`portal.create_app`), the indexer (``python -m indexer``), the CLIs, devnode and
devdb build one :class:`Settings` with :meth:`Settings.from_env` and read their values
from it.

Adding a variable is one field: ``name: type = env("VARIABLE", default)``. The field's
type says how the text is parsed (``str``, ``int``, ``float``, ``bool``); an invalid
value raises :class:`SettingsError`, whose message is one line naming the variable.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import click

FALSE_WORDS = ("0", "false", "no", "off")
"""Values of a ``bool`` variable that mean off; anything else non-empty means on."""


class SettingsError(click.ClickException):
    """An environment variable has a value that cannot be used.

    A :class:`click.ClickException`, so a ``flask`` command prints its one-line
    message (``Error: …``) and exits 1 without a traceback; other entry points print
    ``str(exc)`` themselves.
    """


def env(
    name: str,
    default: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] = (),
):
    """Declare a settings field read from the environment variable ``name``.

    Args:
        name: the variable, e.g. ``"SEARCH_TIMEOUT_S"``.
        default: the value when the variable is unset or empty.
        minimum, maximum: inclusive bounds for ``int``/``float`` fields.
        choices: the allowed values of a ``str`` field (empty: any text).
    Returns:
        a :func:`dataclasses.field` carrying the variable name, bounds and choices.
    """
    metadata = {"env": name, "min": minimum, "max": maximum, "choices": choices}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """Every configuration value of Innovatiebieb (units in the field names: ``_s``
    seconds, ``_days`` days). Defaults and meanings: README.md, "Configuration"."""

    opensearch_url: str = env("OPENSEARCH_URL", "")
    """Empty: the local node ``http://127.0.0.1:<opensearch_port>`` (see
    :attr:`search_url`)."""
    opensearch_port: int = env("OPENSEARCH_PORT", 9200, minimum=1, maximum=65535)
    opensearch_cluster_port: int = env("OPENSEARCH_CLUSTER_PORT", 9211, minimum=1, maximum=65400)
    """First HTTP port of ``python -m devnode start --nodes N``."""
    opensearch_heap: str = env("OPENSEARCH_HEAP", "")
    """Empty: devnode's default (512m for the single node, 384m per cluster member)."""
    index_shards: int = env("INDEX_SHARDS", 1, minimum=1, maximum=64)
    index_replicas: int = env("INDEX_REPLICAS", 0, minimum=0, maximum=8)
    """0 is right for one node; 1 on a cluster of three (every shard survives a lost node)."""
    cache_dir: str = env("INNOVATIEBIEB_CACHE", "")
    """Empty: devnode's default (:func:`devnode.config.cache_dir`)."""
    database_url: str = env("DATABASE_URL", "")
    """Empty: the SQLite file of :func:`registry.db.database_url`."""
    devdb_port: int = env("DEVDB_PORT", 5433, minimum=1, maximum=65535)
    index_prefix: str = env("INDEX_PREFIX", "")
    secret_key: str = env("SECRET_KEY", "")
    """Empty: the portal makes a random key per process (``make run`` stores one)."""
    port: int = env("PORT", 8000, minimum=1, maximum=65535)
    web_concurrency: int = env("WEB_CONCURRENCY", 2, minimum=1, maximum=256)
    gunicorn_worker_class: str = env(
        "GUNICORN_WORKER_CLASS", "gthread", choices=("gthread", "sync")
    )
    gunicorn_threads: int = env("GUNICORN_THREADS", 16, minimum=1, maximum=256)
    ratelimit_storage_uri: str = env("RATELIMIT_STORAGE_URI", "memory://")
    """``memory://`` counts per process; ``redis://host:port/0`` shares the counters."""
    trusted_proxies: int = env("TRUSTED_PROXIES", 0, minimum=0, maximum=8)
    devredis_port: int = env("DEVREDIS_PORT", 6390, minimum=1, maximum=65535)
    search_timeout_s: float = env("SEARCH_TIMEOUT_S", 5.0, minimum=0)
    search_breaker_s: float = env("SEARCH_BREAKER_S", 10.0, minimum=0)
    search_concurrency: int = env("SEARCH_CONCURRENCY", 6, minimum=1)
    indexer_poll_seconds: float = env("INDEXER_POLL_SECONDS", 0.5, minimum=0)
    search_log_retention_days: int = env("SEARCH_LOG_RETENTION_DAYS", 365, minimum=0)
    session_cookie_secure: bool = env("SESSION_COOKIE_SECURE", True)
    smtp_url: str = env("SMTP_URL", "")
    mail_from: str = env("MAIL_FROM", "Innovatiebieb <noreply@innovatiebieb.example>")
    public_base_url: str = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    taxonomy_check_s: float = env("TAXONOMY_CHECK_S", 1.0, minimum=0)
    community_formerly_days: int = env("COMMUNITY_FORMERLY_DAYS", 365, minimum=0)
    oai_page_size: int = env("OAI_PAGE_SIZE", 100, minimum=1)
    oai_token_ttl_s: int = env("OAI_TOKEN_TTL_S", 3600, minimum=1)
    sitemap_max_urls: int = env("SITEMAP_MAX_URLS", 50000, minimum=1)
    testcontainers: bool = env("TESTCONTAINERS", False)

    @property
    def search_url(self) -> str:
        """The OpenSearch cluster: ``OPENSEARCH_URL``, else the local node's URL."""
        return self.opensearch_url or f"http://127.0.0.1:{self.opensearch_port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every variable of :func:`variables` from ``environ``.

        Args:
            environ: the environment (default :data:`os.environ`, read now).
        Returns:
            the settings; unset or empty (whitespace-only) variables take their default.
        Raises:
            SettingsError: a value is not of the field's type or outside its bounds;
                the message names the variable and the value.
        """
        if environ is None:
            import os

            environ = os.environ
        hints = typing.get_type_hints(cls)
        values = {}
        for spec in fields(cls):
            raw = environ.get(spec.metadata["env"])
            if raw is not None and raw.strip():
                values[spec.name] = _parse(spec, hints[spec.name], raw)
        return cls(**values)


def variables() -> list[str]:
    """The environment variables :class:`Settings` reads, in declaration order."""
    return [spec.metadata["env"] for spec in fields(Settings)]


def _parse(spec, kind: type, raw: str) -> Any:
    name = spec.metadata["env"]
    if kind is str:
        choices = spec.metadata["choices"]
        if choices and raw.strip() not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
        return raw.strip() if choices else raw
    if kind is bool:
        return raw.strip().lower() not in FALSE_WORDS
    what = "a whole number" if kind is int else "a number"
    try:
        value = kind(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be {what}, not {raw!r}") from None
    if kind is float and not math.isfinite(value):
        raise SettingsError(f"{name} must be {what}, not {raw!r}")
    low, high = spec.metadata["min"], spec.metadata["max"]
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low:g}" if high is None else f"between {low:g} and {high:g}"
        raise SettingsError(f"{name} must be {bounds}, not {raw!r}")
    return value
