"""gunicorn settings shared by ``make run``, the tests and the benchmark (gunicorn
reads ``./gunicorn.conf.py`` by itself; command-line options still win).

Threaded workers: a request waiting on OpenSearch holds one thread, not a whole
process, so ``/healthz`` and pages that do not search keep answering while
searches are slow. The portal makes at most ``SEARCH_CONCURRENCY`` (default 6)
OpenSearch calls at once per process (:mod:`portal.breaker`), fewer than
``threads``, so some threads are always free.
"""

worker_class = "gthread"
threads = 16


def on_starting(_server):
    """Refuse to start, in one line, when a configuration variable is invalid (rather
    than a traceback from every worker that fails to boot)."""
    import sys

    from settings import Settings, SettingsError

    try:
        Settings.from_env()
    except SettingsError as exc:
        print(f"gunicorn: {exc.message}", file=sys.stderr)
        sys.exit(1)
