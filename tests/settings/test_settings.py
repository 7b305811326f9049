"""The one settings object: parsing, errors naming the variable, and the README table."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import FrozenInstanceError, fields

import pytest

from settings import Settings, SettingsError, variables

from ..conftest import ROOT


def readme_variables() -> list[str]:
    """Variable names in the first column of README.md's configuration table."""
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE)


def test_every_setting_is_in_the_readme_table_and_nothing_else():
    documented = readme_variables()
    assert len(documented) == len(set(documented)), "a variable is listed twice"
    assert sorted(documented) == sorted(variables())


def test_defaults_when_the_environment_is_empty():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.search_url == "http://127.0.0.1:9200"
    assert settings.search_timeout_s == 5.0 and settings.session_cookie_secure is True


def test_values_are_parsed_by_the_field_type():
    settings = Settings.from_env(
        {
            "SEARCH_TIMEOUT_S": " 2.5 ",
            "OAI_PAGE_SIZE": "7",
            "SESSION_COOKIE_SECURE": "off",
            "TESTCONTAINERS": "1",
            "INDEX_PREFIX": "x-",
            "OPENSEARCH_PORT": "9300",
        }
    )
    assert settings.search_timeout_s == 2.5 and settings.oai_page_size == 7
    assert settings.session_cookie_secure is False and settings.testcontainers is True
    assert settings.index_prefix == "x-"
    assert settings.search_url == "http://127.0.0.1:9300"
    assert Settings.from_env({"OPENSEARCH_URL": "http://os:9200"}).search_url == "http://os:9200"


def test_empty_values_take_the_default():
    assert Settings.from_env({"OAI_PAGE_SIZE": "  ", "SESSION_COOKIE_SECURE": ""}) == Settings()


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SEARCH_TIMEOUT_S", "vijf", "must be a number, not 'vijf'"),
        ("SEARCH_TIMEOUT_S", "nan", "must be a number"),
        ("SEARCH_TIMEOUT_S", "-1", "must be at least 0"),
        ("OAI_PAGE_SIZE", "2.5", "must be a whole number"),
        ("SEARCH_LOG_RETENTION_DAYS", "een jaar", "must be a whole number"),
        ("PORT", "70000", "must be between 1 and 65535"),
    ],
)
def test_an_invalid_value_names_the_variable(variable, value, says):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value})
    message = raised.value.message
    assert message.startswith(f"{variable} ") and says in message and "\n" not in message


def test_settings_are_frozen():
    with pytest.raises(FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]


def test_every_field_has_one_variable():
    names = [spec.metadata["env"] for spec in fields(Settings)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "indexer", "status"],
        [sys.executable, "-m", "flask", "--app", "portal", "stats", "purge-search-log"],
    ],
    ids=["indexer", "flask"],
)
def test_a_command_reports_an_invalid_value_in_one_line(command, tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
        "SEARCH_TIMEOUT_S": "vijf",
        "INDEXER_POLL_SECONDS": "snel",
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "INDEXER_POLL_SECONDS" in lines[0] or "SEARCH_TIMEOUT_S" in lines[0]
    assert "Traceback" not in done.stderr


def test_the_app_factory_takes_a_settings_object_and_overrides_win(monkeypatch):
    from portal import create_app

    monkeypatch.setenv("OAI_PAGE_SIZE", "geen getal")  # not read: the settings are given
    given = Settings(oai_page_size=7, index_prefix="x-", session_cookie_secure=False)
    app = create_app({"TESTING": True, "INDEX_PREFIX": "y-"}, settings=given)
    assert app.config["OAI_PAGE_SIZE"] == 7
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["INDEX_PREFIX"] == "y-"
    with pytest.raises(SettingsError, match="OAI_PAGE_SIZE"):
        create_app({"TESTING": True})
