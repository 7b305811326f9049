"""Pure helpers of the portal, without a server: the login redirect and CSV guarding."""

from __future__ import annotations

import csv
import io

import pytest

from portal import create_app
from portal.auth import safe_next
from portal.csv_writer import FORMULA_START, CsvWriter, csv_text, safe_cell

SEARCH_PAGE = "/zoeken"


@pytest.fixture(scope="module")
def context():
    app = create_app({"TESTING": True, "SECRET_KEY": "unit"})
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    "target", ["/innovaties/walk-and-talk", "/zoeken?q=lezen&phase=idee", "/mijn/inzendingen"]
)
def test_a_local_path_is_kept(context, target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/pad",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "innovaties/relatief",
        "/pad\x00met-nul",
        "/pad\nmet-regeleinde",
    ],
)
def test_anything_else_goes_to_the_search_page(context, target):
    assert safe_next(target) == SEARCH_PAGE


@pytest.mark.parametrize("start", FORMULA_START)
def test_text_that_starts_like_a_formula_gets_a_quote(start):
    assert safe_cell(f"{start}SUM(A1)") == f"'{start}SUM(A1)"


@pytest.mark.parametrize("value", ["gewoon", "a=b", "", None, -3, 2.5, 0])
def test_other_cells_pass_unchanged(value):
    assert safe_cell(value) == value


def test_csv_lines_round_trip_through_a_csv_reader():
    rows = [["titel", "aantal"], ['=HYPERLINK("x")', -1], ['met "quotes", komma', 3]]
    text = csv_text(rows)
    assert list(csv.reader(io.StringIO(text))) == [
        ["titel", "aantal"],
        ['\'=HYPERLINK("x")', "-1"],
        ['met "quotes", komma', "3"],
    ]
    writer = CsvWriter()
    assert writer.line(["a"]) == "a\r\n" and writer.line(["b"]) == "b\r\n"
