"""Portal configuration from environment variables (the only configuration source).

| variable | default | meaning |
| --- | --- | --- |
| ``SECRET_KEY`` | random per process | signs sessions; set it in production |
| ``DATABASE_URL`` | SQLite file in ``instance/`` | the registry |
| ``OPENSEARCH_URL`` | ``http://127.0.0.1:9200`` | the search cluster |
| ``INDEX_PREFIX`` | empty | prefix of aliases and indices |
| ``SEARCH_TIMEOUT_S`` | ``5`` | per-request OpenSearch timeout, seconds |
"""

from __future__ import annotations

import os
import secrets


def from_env() -> dict:
    """Flask config values read from the environment (see the module table)."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_hex(32),
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
        "OPENSEARCH_URL": os.environ.get("OPENSEARCH_URL", "http://127.0.0.1:9200"),
        "INDEX_PREFIX": os.environ.get("INDEX_PREFIX", ""),
        "SEARCH_TIMEOUT_S": float(os.environ.get("SEARCH_TIMEOUT_S", "5")),
        "BABEL_DEFAULT_LOCALE": "nl",
        "JSON_SORT_KEYS": False,
    }
