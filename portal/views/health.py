"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from ..backends import backends

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up (no dependency is checked)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """OpenSearch (the public alias) and the registry answer; 503 with reasons if not."""
    be = backends()
    checks = {}
    try:
        with be.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["registry"] = "ok"
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        checks["registry"] = f"unavailable: {type(exc).__name__}"
    try:
        alias = be.names.alias("public")
        if be.search.indices.exists_alias(name=alias):
            checks["opensearch"] = "ok"
        else:
            checks["opensearch"] = f"no index behind {alias}: run `python -m indexer rebuild`"
    except Exception as exc:
        checks["opensearch"] = f"unavailable: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return jsonify({"status": "ready" if ready else "unavailable", "checks": checks}), (
        200 if ready else 503
    )
