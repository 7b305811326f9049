"""Import of JSON Lines into the registry: validation, upsert, change feed."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from registry.models import Change, Innovation
from registry.records import import_jsonl
from tests.conftest import DATA_FILE, read_data
from tests.helpers import assert_failed_cleanly, run_flask


def count(factory, model) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_real_data_imports_completely_and_reimport_is_a_no_op(registry):
    _, factory = registry
    report = import_jsonl(factory, DATA_FILE)
    assert report.rejected == []
    assert report.created == len(read_data()) == count(factory, Innovation)
    feed_rows = count(factory, Change)
    assert feed_rows == report.created

    again = import_jsonl(factory, DATA_FILE)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(read_data()))
    assert count(factory, Change) == feed_rows, "an unchanged re-import wrote to the feed"


def test_changed_line_updates_bumps_version_and_feeds(registry, tmp_path):
    _, factory = registry
    import_jsonl(factory, DATA_FILE)
    record = read_data()[0]
    record["title"] = "Een nieuwe titel"
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    report = import_jsonl(factory, path)
    assert report.updated == 1
    with factory() as session:
        row = session.get(Innovation, record["id"])
        assert (row.title, row.version) == ("Een nieuwe titel", 2)
        last = session.scalars(select(Change).order_by(Change.seq.desc())).first()
        assert (last.record_id, last.record_version) == (record["id"], 2)


def _write_mixed_file(tmp_path):
    records = read_data()[:3]
    bad_vocab = dict(records[1], id="kapot-vocab", phase="onbekende-fase")
    bad_type = dict(records[2], id="kapot-type", evidence_level="hoog")
    lines = [
        json.dumps(records[0]),
        "{this is not json",
        json.dumps(bad_vocab),
        "",
        json.dumps(bad_type),
        json.dumps(["a", "list"]),
        json.dumps(records[1]),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, records


def test_bad_lines_are_reported_with_line_numbers_and_the_rest_imports(registry, tmp_path):
    _, factory = registry
    path, records = _write_mixed_file(tmp_path)
    report = import_jsonl(factory, path)
    rejected = {(line, field) for line, field, _ in report.rejected}
    assert rejected == {(2, "_line"), (3, "phase"), (5, "evidence_level"), (6, "_line")}
    assert report.created == 2
    with factory() as session:
        ids = set(session.scalars(select(Innovation.id)))
    assert ids == {records[0]["id"], records[1]["id"]}


def test_cli_import_prints_rejected_lines_and_exits_1(registry, tmp_path):
    url, factory = registry
    path, _ = _write_mixed_file(tmp_path)
    proc = run_flask("records", "import", str(path), env={"DATABASE_URL": url})
    assert_failed_cleanly(proc)
    lines = proc.stdout.splitlines()
    assert "line 3: phase: unknown phases id: onbekende-fase" in lines
    assert any(line.startswith("line 2: _line: invalid JSON") for line in lines)
    assert any(line.startswith("line 5: evidence_level:") for line in lines)
    assert count(factory, Innovation) == 2


def test_cli_import_of_a_missing_file_is_a_clear_error(registry, tmp_path):
    url, _ = registry
    proc = run_flask("records", "import", str(tmp_path / "nope.jsonl"), env={"DATABASE_URL": url})
    assert_failed_cleanly(proc, "cannot read")


def test_values_the_index_cannot_hold_and_non_utf8_lines_are_rejected(registry, tmp_path):
    _, factory = registry
    records = read_data()[:3]
    lines = [
        json.dumps(dict(records[0], places_applied=10**30)).encode(),
        json.dumps(dict(records[1], places_applied=3_000_000_000)).encode(),
        b'{"id": "kapot-\xff"}',
        json.dumps(records[2]).encode(),
        json.dumps(dict(records[2], title="Tweede versie")).encode(),
    ]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = import_jsonl(factory, path)
    assert [(line, field) for line, field, _ in report.rejected] == [
        (1, "places_applied"),
        (2, "places_applied"),
        (3, "_line"),
    ]
    assert "UTF-8" in report.rejected[2][2]
    assert report.warnings and report.warnings[0][0] == 5
    with factory() as session:
        assert session.get(Innovation, records[2]["id"]).title == "Tweede versie"


def test_cli_import_of_a_directory_is_a_clear_error(registry, tmp_path):
    url, _ = registry
    proc = run_flask("records", "import", str(tmp_path), env={"DATABASE_URL": url})
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
