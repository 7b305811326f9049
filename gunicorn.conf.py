"""gunicorn settings shared by ``make run``, the tests and the benchmark (gunicorn
reads ``./gunicorn.conf.py`` by itself; command-line options still win).

Threaded workers by default: a request waiting on OpenSearch holds one thread, not a
whole process, so ``/healthz`` and pages that do not search keep answering while
searches are slow. The portal makes at most ``SEARCH_CONCURRENCY`` (default 6)
OpenSearch calls at once per process (:mod:`portal.breaker`), fewer than
``threads``, so some threads are always free.

From the environment (README, "Running at scale"): ``WEB_CONCURRENCY`` workers
(default 2), ``GUNICORN_WORKER_CLASS`` ``gthread`` (default) or ``sync``,
``GUNICORN_THREADS`` threads per gthread worker (default 16).
"""

import os


def _whole(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 256:
        raise SystemExit(f"gunicorn.conf.py: {name}={raw!r} should be a whole number 1-256")
    return int(raw)


workers = _whole("WEB_CONCURRENCY", 2)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "").strip() or "gthread"
if worker_class not in ("gthread", "sync"):
    raise SystemExit(f"gunicorn.conf.py: GUNICORN_WORKER_CLASS={worker_class!r}: gthread or sync")
threads = _whole("GUNICORN_THREADS", 16)


def when_ready(server):
    """Say in one line each what the portal's shared servers lack (never stops start-up)."""
    from portal.config import from_env
    from portal.shared_state import preflight

    for problem in preflight(from_env(), server.cfg.workers):
        server.log.warning("portal: %s", problem)
