"""Process handling shared by the local servers of development and tests.

``devnode`` (OpenSearch), ``devdb`` (PostgreSQL) and ``devredis`` (Redis) each run one
server process per port from a state folder in the project's cache. What they have in
common lives here once (:mod:`devserver.process`): running as an unprivileged system
user when started by root, the pid file, telling our process from a recycled pid,
waiting until the server is ready, stopping by pid, and the ``start|stop|status|url``
command line (:mod:`devserver.cli`). What differs — the binary, its configuration and
how to tell that it is ready — stays in each package.
"""
