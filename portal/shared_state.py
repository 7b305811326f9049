"""State shared by every portal process, and the start-up check of the shared servers.

A deployment runs several gunicorn workers in several portal processes. What must
hold across all of them lives outside the processes:

- **login rate limits**: Flask-Limiter's counters in ``RATELIMIT_STORAGE_URI``
  (Redis; ``memory://`` counts per process and is only right for a single
  single-worker process, :func:`preflight` warns otherwise). A storage that does
  not answer makes a login answer 503 with ``Retry-After`` (:func:`init_app`).
- **taxonomy and thesaurus**: each process caches them, and asks the registry (shared
  by all) at most every ``TAXONOMY_CHECK_S`` seconds whether they changed
  (:class:`portal.backends.Backends`); so a change is live everywhere within that delay.

:func:`preflight` is run once by gunicorn's master at start-up (``gunicorn.conf.py``);
it returns one line per problem and never raises, so a portal whose servers are not
there yet still starts and answers 503 until they are.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask
from flask_babel import gettext as _
from limits.errors import StorageError
from limits.storage import storage_from_string

from indexer.client import make_client

log = logging.getLogger("portal")

STORAGE_RETRY_AFTER_S = 30
"""``Retry-After`` of a login refused because the rate-limit storage does not answer."""


def init_app(app: Flask) -> None:
    """Answer a failing rate-limit storage with 503 and ``Retry-After`` (a login must not
    go unlimited while the shared counters are away, nor end in a stack trace)."""

    @app.errorhandler(StorageError)
    def storage_unavailable(exc: StorageError):
        from .errors import _respond

        log.warning("rate-limit storage unavailable: %s", type(exc.storage_error).__name__)
        response = _respond(
            503, "unavailable", _("Logging in is temporarily unavailable. Please try again soon.")
        )
        response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_S)
        return response


def preflight(config: Mapping, workers: int = 1) -> list[str]:
    """Check the servers the portal shares with other processes; one line per problem.

    Args:
        config: the portal's configuration (``portal.config.from_env()``).
        workers: gunicorn workers this process runs.
    Returns:
        messages for a person (empty when all is well): an OpenSearch node list of
        which no node answers, a cluster in red health, a rate-limit storage that does
        not answer, or ``memory://`` limits with several workers.
    """
    problems = []
    url = config.get("OPENSEARCH_URL", "")
    try:
        health = make_client(url, timeout_s=3).cluster.health()
        if health.get("status") == "red":
            problems.append(
                f"OpenSearch cluster at {url} is red (primary shards missing); "
                "searches answer 503 until it recovers"
            )
    except ValueError as exc:
        problems.append(f"{exc}; searches answer 503")
    except Exception as exc:  # any transport failure: the message is what a person needs
        problems.append(
            f"no OpenSearch node answers at {url} ({type(exc).__name__}); "
            "searches answer 503 until one does"
        )
    storage_uri = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if storage_uri.startswith("memory://"):
        if workers > 1:
            problems.append(
                f"RATELIMIT_STORAGE_URI=memory:// with {workers} workers: each worker counts "
                "login attempts on its own, so the limit is multiplied; use redis://…"
            )
    else:
        try:
            options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
            if not storage_from_string(storage_uri, **options).check():
                raise ConnectionError("no answer")
        except Exception as exc:  # a malformed URI or an unreachable server alike
            problems.append(
                f"rate-limit storage {_redact(storage_uri)} does not answer "
                f"({type(exc).__name__}); logins answer 503 until it does"
            )
    return problems


def _redact(uri: str) -> str:
    """``uri`` without a password (``redis://:secret@host`` → ``redis://***@host``)."""
    scheme, sep, rest = uri.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"
