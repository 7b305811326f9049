"""orjson behind Flask's JSON and opensearch-py's serializer: the same documents as the
standard library writes, with Flask's conventions kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid

import pytest
from flask import Flask
from markupsafe import Markup
from opensearchpy.exceptions import SerializationError
from opensearchpy.serializer import JSONSerializer

from portal.json_provider import OrjsonProvider, OrjsonSerializer


@dataclasses.dataclass
class Bucket:
    value: str
    count: int


DOCUMENT = {
    "q": "leesbevordering én Zoë",
    "total": 3,
    "when": dt.date(2026, 12, 2),
    "at": dt.datetime(2026, 12, 2, 1, 55, tzinfo=dt.UTC),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "bucket": Bucket("idee", 4),
    "html": Markup("<b>vet</b>"),
    "z": 1,
    "a": [1.5, None, True],
}


def app(debug: bool = False) -> Flask:
    flask_app = Flask(__name__)
    flask_app.debug = debug
    flask_app.json = OrjsonProvider(flask_app)
    flask_app.json.sort_keys = False
    return flask_app


def test_responses_hold_what_the_standard_provider_writes_in_utf8():
    orjson_app, standard = app(), Flask("standard")
    standard.json.sort_keys = False
    with orjson_app.app_context():
        body = orjson_app.json.response(DOCUMENT).get_data()
    with standard.app_context():
        expected = standard.json.response(DOCUMENT).get_data()
    assert json.loads(body) == json.loads(expected)
    assert body.endswith(b"}\n") and b'"total":3,' in body  # compact, one newline
    assert "én Zoë".encode() in body  # not \u escapes
    assert list(json.loads(body)) == list(DOCUMENT)  # key order kept
    assert json.loads(body)["when"] == "Wed, 02 Dec 2026 00:00:00 GMT"  # HTTP dates, as Flask


def test_debug_mode_indents_and_other_layouts_fall_back_to_the_standard_library():
    debug = app(debug=True)
    with debug.app_context():
        assert debug.json.response({"a": 1}).get_data() == b'{\n  "a": 1\n}\n'
    provider = app().json
    assert provider.dumps({"a": [1, 2]}) == '{"a":[1,2]}'
    assert provider.dumps({"a": 1}, indent=4) == '{\n    "a": 1\n}'
    assert provider.dumps({"b": 1, "a": 2}, sort_keys=True) == '{"a":2,"b":1}'
    assert provider.loads(b'{"a": "\\u00e9"}') == {"a": "é"}
    with pytest.raises(TypeError):
        provider.dumps({"a": object()})


def test_the_search_serializer_round_trips_and_reports_bad_json():
    serializer, standard = OrjsonSerializer(), JSONSerializer()
    body = {"query": {"match": {"title": "Zoë"}}, "at": dt.datetime(2026, 1, 2, 3, 4), 7: "x"}
    assert json.loads(serializer.dumps(body)) == json.loads(standard.dumps(body))
    assert serializer.dumps('{"already": "text"}') == '{"already": "text"}'
    assert serializer.dumps({"n": 2**70}) == '{"n":1180591620717411303424}'
    assert serializer.loads(b'{"hits": {"total": {"value": 3}}}')["hits"]["total"]["value"] == 3
    with pytest.raises(SerializationError):
        serializer.loads("{not json")
