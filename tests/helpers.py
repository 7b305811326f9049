"""Helpers shared by test modules: command-line runs, error answers, a portal site's
configuration and users. Fixtures live in ``conftest.py``; these are plain functions."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask_babel import Babel

import portal
from registry.db import transaction
from registry.roles import ROLES
from registry.users import create_user

from .conftest import ROOT


def run_module(module: str, *args: str, env: dict[str, str], timeout: float = 120):
    """``python -m <module> <args…>`` from the repository root as a real process.

    Args:
        env: variables added to this process's environment.
        timeout: seconds before ``subprocess.TimeoutExpired``.
    Returns:
        the ``CompletedProcess`` with text ``stdout`` and ``stderr``.
    """
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env={**os.environ, **env},
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def run_flask(*args: str, env: dict[str, str], timeout: float = 120):
    """``flask --app portal <args…>`` as a real process (see :func:`run_module`)."""
    return run_module("flask", "--app", "portal", *args, env=env, timeout=timeout)


def assert_failed_cleanly(proc, expected: str = "", returncode: int = 1) -> None:
    """The command exited with ``returncode``, said ``expected`` on stderr, and
    printed no traceback."""
    assert proc.returncode == returncode, proc.stderr
    assert expected in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def assert_error_answer(response, code: str, field: str | None) -> dict:
    """``response`` is a 400 with ``{"error": {"code", "message", "field"}}`` naming
    ``code`` and ``field`` and a message; returns the error object."""
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    return error


def site_config(database_url: str, opensearch_url: str, prefix: str, secret: str, **extra) -> dict:
    """The Flask config of a test portal over a registry and an index prefix of its own
    (testing mode, no CSRF tokens); ``extra`` adds or overrides keys."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "OPENSEARCH_URL": opensearch_url,
        "INDEX_PREFIX": prefix,
        "SECRET_KEY": secret,
        "WTF_CSRF_ENABLED": False,
        **extra,
    }


def create_role_users(factory, email: Callable[[str], str], password: str) -> None:
    """One user per role of :data:`registry.roles.ROLES`, at ``email(role)``."""
    with transaction(factory) as session:
        for role in ROLES:
            create_user(session, email(role), role, password)


def fold(text: str | None) -> str:
    """``text`` without accents and case (NFKD, combining marks dropped, casefolded): how
    the tests compare words independently of the index's analysis."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def text_of(record: dict) -> str:
    """The searchable text of a source record (title, summary, description, results,
    keywords), folded with :func:`fold`."""
    fields = [record["title"], record["summary"], record["description"], record["results"] or ""]
    return fold(" ".join(fields + record["keywords"]))


def start_indexer(env: dict[str, str]) -> subprocess.Popen:
    """``python -m indexer run`` as a real process with ``env`` added to this one's
    environment; stderr is piped (text), stdout discarded. The caller stops it."""
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", "run"], cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def translating_app():
    """A bare Flask app with the portal's translations (Flask-Babel) and nothing else:
    enough to word messages in a language without a registry or a node."""
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(portal.__file__).parent / "translations")
    Babel(app)
    return app
