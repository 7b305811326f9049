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

from settings import Settings, SettingsError

try:
    _settings = Settings.from_env()
except SettingsError as exc:
    # one line instead of a traceback from every worker that fails to boot
    raise SystemExit(f"gunicorn: {exc.message}") from None

workers = _settings.web_concurrency
worker_class = _settings.gunicorn_worker_class
threads = _settings.gunicorn_threads


def when_ready(server):
    """Say in one line each what the portal's shared servers lack (never stops start-up)."""
    from portal.config import from_settings
    from portal.shared_state import preflight

    for problem in preflight(from_settings(_settings), server.cfg.workers):
        server.log.warning("portal: %s", problem)
