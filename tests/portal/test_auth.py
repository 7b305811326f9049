"""The ``next`` of the login form stays on this site (no open redirect)."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask

from portal.auth import safe_next


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    public = Blueprint("public", __name__)
    public.add_url_rule("/zoeken", "search_page", lambda: "")
    app.register_blueprint(public)
    return app


@pytest.mark.parametrize("target", ["/mijn/inzendingen", "/zoeken?q=lezen", " /redactie "])
def test_local_paths_are_kept(app, target):
    with app.test_request_context():
        assert safe_next(target) == target.strip()


@pytest.mark.parametrize(
    "target",
    [None, "", "https://evil.example/", "//evil.example", "/\\evil.example", "relative",
     "javascript:alert(1)", "/a\nb"],
)  # fmt: skip
def test_anything_else_goes_to_the_search_page(app, target):
    with app.test_request_context():
        assert safe_next(target) == "/zoeken"
