"""The editorial workflow end to end, against a real node and a real
local SMTP server process (aiosmtpd with a Maildir handler).

draft → review → change request → resubmission → publish → verification reminder →
confirmation, checking the public search at each step; saved-search digests.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import re
import socket
import subprocess
import sys
import time
from email.header import decode_header, make_header

import pytest

from indexer.rebuild import rebuild
from indexer.sync import sync_all
from registry.db import transaction
from registry.models import Innovation, SavedSearch
from registry.records import import_jsonl
from registry.users import create_user
from tests.conftest import DATA_FILE, free_port

PASSWORD = "een-lang-wachtwoord"
FORM = {
    "title": "Voorleesbus zeldzaamproef",
    "summary": "Een bus die voorlezers naar wijken brengt.",
    "description": "Vrijwilligers lezen voor in de bus op het plein.",
    "priorities": ["jeugd-onderwijs"],
    "communities": ["doorgaande-leeslijn"],
    "phase": "experiment",
    "innovation_type": "dienstverlening",
    "target_groups": ["kinderen", "ouders"],
    "organisation": "Bibliotheek Proefstad",
    "province": "drenthe",
    "evidence_level": "1",
    "places_applied": "2",
    "keywords": "voorlezen\nbus",
    "contact_name": "Petra Proef",
    "contact_email": "petra@proef.example",
}


@pytest.fixture(scope="module")
def smtp(tmp_path_factory, database):
    """A real SMTP server process on loopback, one per database the module runs on (so
    each run reads only its own mail); yields (url, Maildir path)."""
    maildir = tmp_path_factory.mktemp("mail") / "inbox"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"smtp://127.0.0.1:{port}", maildir
    proc.terminate()
    proc.wait(timeout=10)


def messages_to(maildir, address: str) -> list:
    return [m for m in mailbox.Maildir(maildir) if address in (m["To"] or "")]


@pytest.fixture
def desk(client, registry, names, opensearch_url, smtp):
    from portal import create_app

    url, factory = registry
    import_jsonl(factory, DATA_FILE)
    with transaction(factory) as session:
        create_user(session, "inzender@bieb.example", "member", PASSWORD)
        create_user(session, "redacteur@bieb.example", "editor", PASSWORD)
    rebuild(client, factory, names)
    app = create_app({
        "TESTING": True, "DATABASE_URL": url, "OPENSEARCH_URL": opensearch_url,
        "INDEX_PREFIX": names.prefix, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "redactie",
        "SMTP_URL": smtp[0], "PUBLIC_BASE_URL": "http://portal.test",
    })  # fmt: skip

    def login(email):
        http = app.test_client()
        assert http.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        return http

    def publicly_found() -> set[str]:
        assert not sync_all(client, factory, names).failed
        client.indices.refresh(index=f"{names.prefix}*")
        result = app.test_client().get("/api/v1/search?q=zeldzaamproef").get_json()
        return {h["id"] for h in result["hits"]}

    return {"app": app, "factory": factory, "login": login, "found": publicly_found,
            "maildir": smtp[1]}  # fmt: skip


def test_submission_walks_to_publication_and_verification(desk):
    member, editor = desk["login"]("inzender@bieb.example"), desk["login"]("redacteur@bieb.example")
    assert member.get("/innovaties/nieuw").status_code == 200

    broken = member.post("/innovaties/nieuw", data={**FORM, "title": "", "places_applied": "veel",
                                                    "action": "save"})  # fmt: skip
    assert broken.status_code == 400
    page = broken.get_data(as_text=True)
    assert "Dit veld is verplicht" in page and "Vul een geheel getal in." in page
    assert 'value="Bibliotheek Proefstad"' in page and ">Vul" in page
    assert 'value="veel"' in page and 'value="kinderen" checked' in page

    saved = member.post("/innovaties/nieuw", data={**FORM, "action": "save"})
    assert saved.status_code == 302
    record_id = "voorleesbus-zeldzaamproef"
    with desk["factory"]() as session:
        assert session.get(Innovation, record_id).status == "draft"
    assert desk["found"]() == set()

    submitted = member.post(f"/innovaties/{record_id}/bewerken", data={**FORM, "action": "submit"})
    assert submitted.status_code == 302
    assert record_id in editor.get("/redactie").get_data(as_text=True)
    assert desk["found"]() == set()

    asked = editor.post(f"/redactie/{record_id}/wijzigingen-vragen",
                        data={"comment": "Noem ook het aantal voorlezers."})  # fmt: skip
    assert asked.status_code == 302
    mine = member.get("/mijn/inzendingen").get_data(as_text=True)
    assert "Noem ook het aantal voorlezers." in mine and "Concept" in mine
    assert "Noem ook het aantal" in member.get(f"/innovaties/{record_id}/bewerken").get_data(
        as_text=True
    )

    member.post(
        f"/innovaties/{record_id}/bewerken",
        data={**FORM, "description": "Twaalf vrijwilligers lezen voor.", "action": "submit"},
    )
    assert desk["found"]() == set()
    assert (
        member.post(
            f"/innovaties/{record_id}/bewerken", data={**FORM, "action": "save"}
        ).status_code
        == 403
    )  # in review: no longer the member's to edit

    assert editor.post(f"/redactie/{record_id}/publiceren").status_code == 302
    assert desk["found"]() == {record_id}
    review = editor.get(f"/redactie/{record_id}").get_data(as_text=True)
    assert "wijzigingen gevraagd" in review and "gepubliceerd" in review
    assert "Twaalf vrijwilligers lezen voor." in review  # old → new in the audit log
    assert "redacteur@bieb.example" in review and "inzender@bieb.example" in review

    later = dt.date.today() + dt.timedelta(days=200)
    runner = desk["app"].test_cli_runner()
    first = runner.invoke(args=["editorial", "send-reminders", "--today", later.isoformat()])
    assert first.exit_code == 0, first.output
    assert "reminded inzender@bieb.example about voorleesbus-zeldzaamproef" in first.output
    again = runner.invoke(args=["editorial", "send-reminders", "--today", later.isoformat()])
    assert "reminders: 0 sent" in again.output, "one reminder per record per cycle"

    mail = messages_to(desk["maildir"], "inzender@bieb.example")
    assert len(mail) == 1
    body = mail[0].get_payload(decode=True).decode()
    link = re.search(r"http://portal\.test(/innovaties/[^/]+/controleren/\S+)", body).group(1)
    assert f"/innovaties/{record_id}/bewerken" in body
    anonymous = desk["app"].test_client()
    assert anonymous.get(link.replace(record_id, "walk-and-talk")).status_code == 400
    assert anonymous.get(link[:-3] + "xyz").status_code == 400
    assert anonymous.get(link).status_code == 200
    with desk["factory"]() as session:
        session.get(Innovation, record_id).last_verified = dt.date(2020, 1, 1)
        session.commit()
    assert anonymous.post(link).status_code == 200
    with desk["factory"]() as session:
        assert session.get(Innovation, record_id).last_verified == dt.date.today()

    assert editor.post(f"/redactie/{record_id}/archiveren").status_code == 302
    assert desk["found"]() == set()


def test_status_moves_that_make_no_sense_are_refused(desk):
    member, editor = desk["login"]("inzender@bieb.example"), desk["login"]("redacteur@bieb.example")
    member.post("/innovaties/nieuw", data={**FORM, "action": "save"})
    draft = "voorleesbus-zeldzaamproef"
    assert editor.post(f"/redactie/{draft}/publiceren").status_code == 400  # not submitted
    assert editor.post(f"/redactie/{draft}/archiveren").status_code == 400
    page = editor.get(f"/redactie/{draft}").get_data(as_text=True)
    assert "/publiceren" not in page and "nog niet ter beoordeling" in page
    assert editor.post("/redactie/walk-and-talk/publiceren").status_code == 400  # published
    too_long = editor.post(f"/redactie/{draft}/wijzigingen-vragen", data={"comment": "x" * 6000})
    assert too_long.status_code == 400
    signed = member.get("/mijn/zoekopdrachten")
    assert signed.status_code == 200
    assert member.post("/mijn/zoekopdrachten", data={"delete": "abc"}).status_code == 404
    assert member.post("/mijn/zoekopdrachten", data={"delete": "9" * 30}).status_code == 404
    with desk["app"].test_request_context():
        from portal.mail import sign

        token = sign("verify", {"r": "bestaat-niet", "c": "2026-H2", "to": "x@y.example"})
        listed = sign("verify", ["niet", "een", "object"])
    anonymous = desk["app"].test_client()
    assert anonymous.post(f"/innovaties/bestaat-niet/controleren/{token}").status_code == 404
    assert anonymous.get(f"/innovaties/bestaat-niet/controleren/{listed}").status_code == 400
    unknown = member.post("/innovaties/nieuw", data={**FORM, "priorities": ["verzonnen"],
                                                     "action": "save"})  # fmt: skip
    assert unknown.status_code == 400
    assert "Onbekende waarde: verzonnen." in unknown.get_data(as_text=True)


def test_roles_on_the_editorial_pages(desk):
    member = desk["login"]("inzender@bieb.example")
    assert member.get("/redactie").status_code == 403
    assert member.post("/redactie/walk-and-talk/publiceren").status_code == 403
    assert member.get("/innovaties/walk-and-talk/bewerken").status_code == 403  # published
    with transaction(desk["factory"]) as session:
        others_draft = session.query(Innovation).filter_by(status="draft").first().id
    assert member.get(f"/innovaties/{others_draft}/bewerken").status_code == 404
    anonymous = desk["app"].test_client()
    assert anonymous.get("/innovaties/nieuw").status_code == 302
    editor = desk["login"]("redacteur@bieb.example")
    assert editor.get("/innovaties/walk-and-talk/bewerken").status_code == 200
    empty = editor.post("/redactie/walk-and-talk/wijzigingen-vragen", data={"comment": " "})
    assert empty.status_code == 400


def test_saved_search_digest_and_unsubscribe(desk, client):
    member = desk["login"]("inzender@bieb.example")
    saved = member.post(
        "/mijn/zoekopdrachten", data={"name": "Voorlezen", "query": "q=voorlezen", "weekly": "1"}
    )
    assert saved.status_code == 200 and "Voorlezen" in saved.get_data(as_text=True)
    with transaction(desk["factory"]) as session:
        search = session.query(SavedSearch).one()
        search.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
        row = session.get(Innovation, "walk-and-talk")
        row.summary += " Met voorlezen."
        row.version += 1
        row.updated_at = dt.datetime.now(dt.UTC)
        from registry.records import append_change

        append_change(session, row.id, row.version, "upsert")
    desk["found"]()
    result = desk["app"].test_cli_runner().invoke(args=["editorial", "send-digests"])
    assert "digests: 1 sent" in result.output, result.output
    digests = [m for m in messages_to(desk["maildir"], "inzender@bieb.example")
               if "Voorlezen" in str(make_header(decode_header(m["Subject"])))]  # fmt: skip
    assert len(digests) == 1
    body = digests[0].get_payload(decode=True).decode()
    assert "/innovaties/walk-and-talk" in body
    unsubscribe = re.search(r"http://portal\.test(/zoekopdrachten/afmelden/\S+)", body).group(1)
    assert desk["app"].test_client().get(unsubscribe).status_code == 200
    with desk["factory"]() as session:
        assert session.query(SavedSearch).one().weekly is False
    again = desk["app"].test_cli_runner().invoke(args=["editorial", "send-digests"])
    assert "digests: 0 sent" in again.output


def test_a_draft_needs_only_a_title_and_the_steps_are_said_in_words(desk):
    member, editor = desk["login"]("inzender@bieb.example"), desk["login"]("redacteur@bieb.example")
    only_title = {"title": "Alleen een titel zeldzaamproef", "action": "save"}
    saved = member.post("/innovaties/nieuw", data=only_title)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    draft = "alleen-een-titel-zeldzaamproef"
    with desk["factory"]() as session:
        row = session.get(Innovation, draft)
        assert row.status == "draft" and row.summary == "" and row.priorities == []
    mine = member.get(saved.headers["Location"]).get_data(as_text=True)
    assert "“Alleen een titel zeldzaamproef” is bewaard als concept" in mine
    assert f'<a href="/innovaties/{draft}/bewerken">Alleen een titel zeldzaamproef</a>' in mine
    assert "Bewerken of indienen ter beoordeling" in mine
    assert "Opgeslagen:" not in mine
    # a filled-in value is still checked in a draft
    bad = member.post("/innovaties/nieuw", data={**only_title, "url": "geen-adres"})
    assert bad.status_code == 400
    # submitting applies every rule
    refused = member.post(f"/innovaties/{draft}/bewerken", data={**only_title, "action": "submit"})
    assert refused.status_code == 400
    assert "Dit veld is verplicht" in refused.get_data(as_text=True)
    form = {**FORM, "title": only_title["title"], "action": "submit"}
    submitted = member.post(f"/innovaties/{draft}/bewerken", data=form)
    assert submitted.status_code == 302
    mine = member.get(submitted.headers["Location"]).get_data(as_text=True)
    notice = re.search(r'<p class="notice" role="status">(.*?)</p>', mine).group(1)
    assert "is ingediend ter beoordeling" in notice and draft not in notice
    assert "Wacht op de redactie" in mine
    assert editor.post(f"/redactie/{draft}/publiceren").status_code == 302
    mine = member.get("/mijn/inzendingen").get_data(as_text=True)
    assert f'<a href="/innovaties/{draft}">Alleen een titel zeldzaamproef</a>' in mine
