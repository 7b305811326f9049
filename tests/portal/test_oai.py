"""OAI-PMH against a real gunicorn and a real SQLite registry, harvested with Sickle.

Expected sets are recounted from ``data/innovations.jsonl``; every response is
validated against the protocol's XML schema (``portal/oai/schemas/``).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from lxml import etree
from sickle import Sickle
from sickle.oaiexceptions import NoRecordsMatch

from registry.db import transaction
from registry.models import Innovation
from registry.records import RECORD_FIELDS, import_jsonl, upsert
from registry.taxonomy_ops import Operation, apply

from ..conftest import DATA_FILE, ROOT, make_registry, read_data, serve_portal

OAI = "{http://www.openarchives.org/OAI/2.0/}"
SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "portal/oai/schemas/validation.xsd")))
MEMBER_CANARIES = ("oaikanariecontact", "oaikanarieles", "oaikanarie@kanarie.example", "97531")
DRAFT_CANARY = "oaikanarieconcept"
MERGED = ("mediawijsheid", "digitale-bibliotheek")
MERGE_TARGET = "digitaal-mediawijs"
EDITED = "azc-bibliotheek-tilburg"
SECRET = "oai-test"

CANARIES = [
    {
        "id": "oai-kanarie", "title": "OAI-kanarie", "status": "published",
        "summary": "Een record voor de OAI-test.", "description": "Alleen in de OAI-test.",
        "results": None, "priorities": ["jeugd-onderwijs"], "communities": ["werkplaats"],
        "phase": "experiment", "innovation_type": "dienstverlening", "target_groups": ["kinderen"],
        "evidence_level": 1, "organisation": "Kanariebibliotheek", "province": "zeeland",
        "places_applied": 1, "start_year": 2025, "programmes": [], "url": None,
        "keywords": ["kanarie"], "last_verified": "2026-06-01", "created": "2026-06-01",
        "contact": {"name": "Kees oaikanariecontact", "email": "oaikanarie@kanarie.example",
                    "phone": "+31 6 0000 0000"},
        "budget_eur": 97531, "lessons_learned": "Geleerd: oaikanarieles.",
        "internal_notes": "Redactie.",
    },
]  # fmt: skip
CANARIES.append({**CANARIES[0], "id": "oai-kanarie-concept", "status": "draft",
                 "title": f"Concept {DRAFT_CANARY}"})  # fmt: skip


def visible(status_of: dict[str, str]) -> tuple[set[str], set[str]]:
    """(published ids, archived ids) of ``{id: status}``."""
    return (
        {i for i, s in status_of.items() if s == "published"},
        {i for i, s in status_of.items() if s == "archived"},
    )


def fetch(base: str, params: dict | list, method: str = "GET") -> etree._Element:
    """One response, checked: HTTP 200, XML, valid against the schema."""
    query = urllib.parse.urlencode(params, doseq=True)
    if method == "POST":
        request = urllib.request.Request(f"{base}/oai", data=query.encode(), method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    else:
        request = urllib.request.Request(f"{base}/oai?{query}")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/xml")
        body = response.read()
    doc = etree.fromstring(body)
    assert SCHEMA.validate(doc), (params, SCHEMA.error_log.last_error)
    text = body.decode()
    for canary in (*MEMBER_CANARIES, DRAFT_CANARY):
        assert canary not in text, (params, canary)
    return doc


def error_code(doc) -> str | None:
    error = doc.find(f"{OAI}error")
    return None if error is None else error.get("code")


def walk(base: str, params: dict) -> list[etree._Element]:
    """Every page of a list request, following resumption tokens (each page validated)."""
    pages = [fetch(base, params)]
    while True:
        token = pages[-1].find(f".//{OAI}resumptionToken")
        if token is None or not token.text:
            return pages
        pages.append(fetch(base, {"verb": params["verb"], "resumptionToken": token.text}))


def harvest(base: str, **params) -> dict[str, object]:
    """Sickle's ListRecords: ``{record id: header}`` (deleted records included)."""
    sickle = Sickle(f"{base}/oai")
    try:
        records = list(sickle.ListRecords(ignore_deleted=False, **params))
    except NoRecordsMatch:
        return {}
    return {r.header.identifier.rsplit(":", 1)[1]: r for r in records}


@pytest.fixture(scope="module")
def world(tmp_path_factory, opensearch_url):
    """A registry with the real data and canaries, served by gunicorn (25 per page)."""
    path: Path = tmp_path_factory.mktemp("oai")
    url, factory = make_registry(path)
    extra = path / "canaries.jsonl"
    extra.write_text("\n".join(json.dumps(r) for r in CANARIES) + "\n", "utf-8")
    assert not import_jsonl(factory, DATA_FILE).rejected
    assert not import_jsonl(factory, extra).rejected
    status_of = {r["id"]: r["status"] for r in read_data() + CANARIES}
    env = {"OAI_PAGE_SIZE": "25", "TAXONOMY_CHECK_S": "0"}
    with serve_portal(url, opensearch_url, "t-oai-none-", secret=SECRET, env=env) as base:
        yield {"url": url, "factory": factory, "base": base, "status_of": status_of,
               "opensearch_url": opensearch_url, "env": env}  # fmt: skip


def test_sickle_harvests_everything_then_incrementally(world):
    base, factory, status_of = world["base"], world["factory"], dict(world["status_of"])
    published, archived = visible(status_of)
    time.sleep(1.1)  # the import's datestamps lie in an earlier second than the harvest
    started = fetch(base, {"verb": "Identify"}).find(f"{OAI}responseDate").text

    copy = harvest(base, metadataPrefix="oai_dc")
    assert {i for i, r in copy.items() if not r.deleted} == published
    assert {i for i, r in copy.items() if r.deleted} == archived
    assert len(copy) > 25, "the harvest must have paged"
    record = copy[EDITED]
    assert record.metadata["title"] == [next(r["title"] for r in read_data() if r["id"] == EDITED)]
    assert record.metadata["identifier"] == [f"http://127.0.0.1:8000/innovaties/{EDITED}"]
    assert "budget_eur" not in json.dumps(record.metadata)

    # an edit, a merge and an archive, after the first harvest
    archived_now = sorted(published - {EDITED, "oai-kanarie"})[0]
    with transaction(factory) as session:
        row = session.get(Innovation, EDITED)
        upsert(session, {**{f: getattr(row, f) for f in RECORD_FIELDS}, "title": "Bijgewerkt"})
        gone = session.get(Innovation, archived_now)
        upsert(session, {**{f: getattr(gone, f) for f in RECORD_FIELDS}, "status": "archived"})
        labels = {"nl": "Digitaal en mediawijs", "en": "Digital"}
        apply(session, Operation("merge", list(MERGED), MERGE_TARGET, labels=labels), "test")
    status_of[archived_now] = "archived"
    merged_ids = {
        r["id"] for r in read_data()
        if r["status"] in ("published", "archived") and set(r["communities"]) & set(MERGED)
    }  # fmt: skip
    assert merged_ids

    changes = harvest(base, metadataPrefix="oai_dc", **{"from": started})
    assert set(changes) == {EDITED, archived_now} | merged_ids
    assert changes[EDITED].metadata["title"] == ["Bijgewerkt"]
    assert changes[archived_now].deleted
    for record_id in merged_ids - {archived_now}:
        specs = changes[record_id].header.setSpecs
        assert f"community:{MERGE_TARGET}" in specs and not set(MERGED) & {
            s.split(":", 1)[-1] for s in specs
        }

    # the harvester's copy, updated, equals the published set recounted from the data
    for record_id, record in changes.items():
        copy[record_id] = record
    published_now, archived_after = visible(status_of)
    assert {i for i, r in copy.items() if not r.deleted} == published_now
    assert {i for i, r in copy.items() if r.deleted} == archived_after

    sets = {s.setSpec for s in Sickle(f"{base}/oai").ListSets()}
    assert f"community:{MERGE_TARGET}" in sets and not {f"community:{c}" for c in MERGED} & sets
    assert harvest(base, metadataPrefix="oai_dc", set=f"community:{MERGED[0]}") == {}
    in_target = harvest(base, metadataPrefix="ibieb", set=f"community:{MERGE_TARGET}")
    assert set(in_target) == merged_ids


def test_sets_hold_what_the_data_says(world):
    data = {r["id"]: r for r in read_data() + CANARIES if r["status"] in ("published", "archived")}
    expected = {i for i, r in data.items() if "jeugd-onderwijs" in r["priorities"]}
    got = harvest(world["base"], metadataPrefix="ibieb", set="priority:jeugd-onderwijs")
    # archived records of the set are reported too, as deleted
    assert set(got) == expected
    ids = {
        h.identifier
        for h in Sickle(f"{world['base']}/oai").ListIdentifiers(
            metadataPrefix="oai_dc", set="priority", ignore_deleted=False
        )
    }
    assert len(ids) == len(data)


def test_every_response_validates_against_the_schema(world):
    base = world["base"]
    for params in (
        {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
        {"verb": "ListRecords", "metadataPrefix": "ibieb"},
        {"verb": "ListIdentifiers", "metadataPrefix": "ibieb", "set": "community"},
    ):
        pages = walk(base, params)
        assert len(pages) > 1
        last = pages[-1].find(f".//{OAI}resumptionToken")
        assert last is not None and not last.text and int(last.get("completeListSize")) > 25
    for params in (
        {"verb": "Identify"},
        {"verb": "ListSets"},
        {"verb": "ListMetadataFormats"},
        {"verb": "ListMetadataFormats", "identifier": "oai:innovatiebieb:oai-kanarie"},
        {"verb": "GetRecord", "identifier": "oai:innovatiebieb:oai-kanarie",
         "metadataPrefix": "ibieb"},
    ):  # fmt: skip
        assert error_code(fetch(base, params)) is None, params
    identify = fetch(base, {"verb": "Identify"}).find(f"{OAI}Identify")
    assert identify.find(f"{OAI}deletedRecord").text == "persistent"
    assert identify.find(f"{OAI}granularity").text == "YYYY-MM-DDThh:mm:ssZ"


def test_an_invalid_document_fails_the_schema():
    doc = etree.fromstring(
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-01'
        b"</responseDate></OAI-PMH>"
    )
    assert not SCHEMA.validate(doc)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Oogst"}, "badVerb"),
        ([("verb", "Identify"), ("verb", "Identify")], "badVerb"),
        ({"verb": "Identify", "extra": "1"}, "badArgument"),
        ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "ibieb")],
         "badArgument"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "gisteren"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "9999-99-99"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01",
          "until": "2030-01-01T00:00:00Z"}, "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "x" * 200}, "badResumptionToken"),
        ([("verb", "ListRecords"), ("resumptionToken", "a"), ("resumptionToken", "b")],
         "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "identifier": "oai:innovatiebieb:oai-kanarie",
          "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "identifier": "oai:innovatiebieb:bestaat-niet",
          "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
        ({"verb": "GetRecord", "identifier": "oai:innovatiebieb:oai-kanarie-concept",
          "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
        ({"verb": "GetRecord", "identifier": "urn:isbn:123", "metadataPrefix": "oai_dc"},
         "idDoesNotExist"),
        ({"verb": "ListMetadataFormats", "identifier": "oai:innovatiebieb:nee"}, "idDoesNotExist"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2999-01-01"},
         "noRecordsMatch"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "community:nergens"},
         "noRecordsMatch"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "provincie"},
         "noRecordsMatch"),
        ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
    ],
)  # fmt: skip
def test_errors_are_the_protocols_never_http_errors(world, params, code):
    doc = fetch(world["base"], params)
    assert error_code(doc) == code
    request = doc.find(f"{OAI}request")
    if code in ("badVerb", "badArgument"):
        assert dict(request.attrib) == {}  # only the base URL (section 3.2)


def test_post_is_answered_like_get(world):
    params = {"verb": "GetRecord", "metadataPrefix": "oai_dc",
              "identifier": "oai:innovatiebieb:oai-kanarie"}  # fmt: skip
    doc = fetch(world["base"], params, method="POST")
    assert doc.find(f".//{OAI}identifier").text == "oai:innovatiebieb:oai-kanarie"


def test_a_token_survives_a_restart_but_not_another_key(world):
    first = fetch(world["base"], {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    token = first.find(f".//{OAI}resumptionToken").text
    assert first.find(f".//{OAI}resumptionToken").get("expirationDate").endswith("Z")
    args = (world["url"], world["opensearch_url"], "t-oai-none-")
    with serve_portal(*args, secret=SECRET, env=world["env"]) as again:
        page = fetch(again, {"verb": "ListIdentifiers", "resumptionToken": token})
        assert error_code(page) is None
        assert page.find(f".//{OAI}resumptionToken").get("cursor") == "25"
    with serve_portal(*args, secret="another-key", env=world["env"]) as other:
        page = fetch(other, {"verb": "ListIdentifiers", "resumptionToken": token})
        assert error_code(page) == "badResumptionToken"


def test_the_own_schema_is_served(world):
    for name in ("innovatiebieb.xsd", "xml.xsd"):  # the format and what it imports
        with urllib.request.urlopen(f"{world['base']}/oai/schemas/{name}") as response:
            assert response.read() == (ROOT / "portal/oai/schemas" / name).read_bytes()
    etree.XMLSchema(etree.parse(str(ROOT / "portal/oai/schemas/innovatiebieb.xsd")))
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{world['base']}/oai/schemas/OAI-PMH.xsd")
