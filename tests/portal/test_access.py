"""Members, roles and restricted fields, against a real node.

Canary records carry unique strings in member-only and editor-only fields and in
records that are not published; every public route is then searched for them.
"""

from __future__ import annotations

import json
import re

import pytest

from indexer.client import IndexNames
from indexer.rebuild import rebuild
from registry.db import transaction
from registry.records import import_jsonl
from registry.roles import ROLES
from registry.users import reset_password
from tests.conftest import DATA_FILE, RUN_ID, make_registry
from tests.helpers import create_role_users, site_config

MEMBER_CANARIES = (
    "kanariecontact7x3q",
    "kanarieles9k2p",
    "kanarie-mail@kanarie.example",
    "987654321",
)
EDITOR_CANARIES = ("kanarieredactie5m1z",)
HIDDEN_RECORD_CANARIES = ("kanarieconcept4t", "kanariereview2h")
ARCHIVED_CANARY = "kanariearchief8w"
PASSWORD = "een-lang-wachtwoord"

BASE = {
    "summary": "Kanarierecord voor de toegangstest.",
    "description": "Een record dat alleen in de toegangstest bestaat.",
    "results": None,
    "priorities": ["jeugd-onderwijs"],
    "communities": ["doorgaande-leeslijn"],
    "phase": "experiment",
    "innovation_type": "dienstverlening",
    "target_groups": ["kinderen"],
    "evidence_level": 1,
    "organisation": "Kanariebibliotheek",
    "province": "zeeland",
    "places_applied": 1,
    "start_year": 2025,
    "programmes": [],
    "url": "https://example.org/kanarie",
    "keywords": ["kanarie"],
    "last_verified": "2026-06-01",
    "created": "2026-06-01",
    "contact": {"name": "Kees kanariecontact7x3q", "email": "kanarie-mail@kanarie.example",
                "phone": "+31 6 0000 0000"},
    "budget_eur": 987654321,
    "lessons_learned": "Geleerd: kanarieles9k2p.",
    "internal_notes": "Twijfel van de redactie: kanarieredactie5m1z.",
    "status": "published",
}  # fmt: skip
CANARY_RECORDS = [
    {"id": "kanarie-gepubliceerd", "title": "Kanarie gepubliceerd"},
    {"id": "kanarie-archief", "title": f"Kanarie {ARCHIVED_CANARY}", "status": "archived"},
    {"id": "kanarie-concept", "title": f"Kanarie {HIDDEN_RECORD_CANARIES[0]}", "status": "draft"},
    {
        "id": "kanarie-review",
        "title": f"Kanarie {HIDDEN_RECORD_CANARIES[1]}",
        "status": "in_review",
    },
]


@pytest.fixture(scope="module")
def site(tmp_path_factory, client, opensearch_url, database):
    """An app over real data + canary records, with one user per role."""
    from portal import create_app

    path = tmp_path_factory.mktemp("access")
    url, factory = make_registry(path, database)
    extra = path / "canary.jsonl"
    extra.write_text("\n".join(json.dumps({**BASE, **r}) for r in CANARY_RECORDS) + "\n", "utf-8")
    assert not import_jsonl(factory, DATA_FILE).rejected
    assert not import_jsonl(factory, extra).rejected
    create_role_users(factory, lambda role: f"{role}@bieb.example", PASSWORD)
    names = IndexNames(f"t{RUN_ID}-access-")
    rebuild(client, factory, names)
    config = site_config(url, opensearch_url, names.prefix, "access-test")
    yield {"app": create_app(config), "config": config, "factory": factory}
    client.indices.delete(index=f"{names.prefix}*", ignore_unavailable=True)


_address = iter(range(1, 250))


def browser_for(site, role: str | None, app=None):
    """A test client (own client address, so rate limits do not mix) logged in as ``role``."""
    http = (app or site["app"]).test_client()
    http.environ_base["REMOTE_ADDR"] = f"10.9.0.{next(_address)}"
    if role:
        response = http.post("/login", data={"email": f"{role}@bieb.example", "password": PASSWORD})
        assert response.status_code == 302, response.data
    return http


PUBLIC_GETS = [
    "/",
    "/zoeken?q=kanarie",
    "/zoeken?q=kanarie&sort=title",
    "/zoeken?q=kanarie&sort=newest",
    "/zoeken?q=kanarie&sort=evidence",
    "/zoeken?province=zeeland&size=100",
    "/innovaties/kanarie-gepubliceerd",
    "/innovaties/kanarie-archief",
    "/innovaties/kanarie-concept",
    "/innovaties/kanarie-review",
    "/api/v1/search?q=kanarie&size=100",
    "/api/v1/search?size=100&sort=title",
    "/api/v1/search?cursor=start&size=100",
    "/api/v1/innovations/kanarie-gepubliceerd",
    "/api/v1/innovations/kanarie-archief",
    "/api/v1/innovations/kanarie-concept",
    "/api/v1/export?format=csv",
    "/api/v1/export?format=json",
    "/api/v1/autocomplete?q=kanarie",
    "/feed.atom",
    "/feed.atom?q=kanarie",
    "/opensearch.xml",
    "/api/v1/openapi.json",
    "/sitemap.xml",
    "/robots.txt",
    "/oai?verb=ListRecords&metadataPrefix=oai_dc",
    "/oai?verb=ListRecords&metadataPrefix=ibieb",
    "/oai?verb=GetRecord&metadataPrefix=ibieb&identifier=oai:innovatiebieb:kanarie-gepubliceerd",
    "/oai?verb=GetRecord&metadataPrefix=ibieb&identifier=oai:innovatiebieb:kanarie-archief",
    "/oai?verb=GetRecord&metadataPrefix=ibieb&identifier=oai:innovatiebieb:kanarie-concept",
    "/login",
    "/bestaat-niet",
    "/zoeken?size=1000",
]
ALL_CANARIES = MEMBER_CANARIES + EDITOR_CANARIES + HIDDEN_RECORD_CANARIES + (ARCHIVED_CANARY,)


@pytest.mark.parametrize("path", PUBLIC_GETS)
def test_no_restricted_value_reaches_an_anonymous_visitor(site, path):
    body = browser_for(site, None).get(path).get_data(as_text=True)
    for canary in ALL_CANARIES:
        assert canary not in body, (path, canary)


@pytest.mark.parametrize("canary", ALL_CANARIES)
def test_searching_for_a_restricted_value_finds_nothing_publicly(site, canary):
    http = browser_for(site, None)
    # quoted: the value as a whole (free words may each match public text, and half of
    # them is enough for a hit: "kanarie" of the e-mail address is a public keyword)
    exact = http.get("/api/v1/search", query_string={"q": f'"{canary}"'}).get_json()
    assert exact["total"] == 0
    typed = http.get("/api/v1/search", query_string={"q": canary}).get_json()
    assert canary not in json.dumps(typed)


def test_a_member_sees_member_fields_but_no_editor_notes(site):
    http = browser_for(site, "member")
    html = http.get("/innovaties/kanarie-gepubliceerd").get_data(as_text=True)
    for canary in ("kanariecontact7x3q", "kanarieles9k2p", "kanarie-mail@kanarie.example"):
        assert canary in html
    assert "987.654.321" in html
    api = http.get("/api/v1/innovations/kanarie-gepubliceerd").get_json()
    assert api["budget_eur"] == 987654321 and "internal_notes" not in api
    found = http.get("/api/v1/search?q=kanarieles9k2p").get_json()
    assert {h["id"] for h in found["hits"]} == {"kanarie-gepubliceerd", "kanarie-archief"}
    assert http.get("/innovaties/kanarie-archief").status_code == 200
    for path in PUBLIC_GETS:
        body = http.get(path).get_data(as_text=True)
        for canary in EDITOR_CANARIES + HIDDEN_RECORD_CANARIES:
            assert canary not in body, (path, canary)


def test_a_members_result_shows_the_excerpt_of_a_members_only_field(site):
    html = browser_for(site, "member").get("/zoeken?q=kanarieles9k2p").get_data(as_text=True)
    assert "<mark>kanarieles9k2p</mark>" in html
    public = browser_for(site, None).get("/zoeken?q=kanarieles9k2p").get_data(as_text=True)
    assert "kanarieles9k2p</mark>" not in public


ROLE_NAMES = {
    "member": ("Lid", "Member"),
    "editor": ("Redacteur", "Editor"),
    "analyst": ("Analist", "Analyst"),
    "admin": ("Beheerder", "Administrator"),
}


@pytest.mark.parametrize("role", ROLES)
def test_the_account_page_names_the_role_in_the_visitors_language(site, role):
    dutch, english = ROLE_NAMES[role]
    http = browser_for(site, role)
    assert f"({dutch})" in http.get("/mijn/account").get_data(as_text=True)
    assert f"({english})" in http.get("/mijn/account?lang=en").get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_no_role_sees_editor_notes_through_search_or_api(site, role):
    http = browser_for(site, role)
    for canary in EDITOR_CANARIES:
        result = http.get("/api/v1/search", query_string={"q": canary}).get_json()
        assert result["total"] == 0
        assert canary not in http.get("/api/v1/innovations/kanarie-gepubliceerd").get_data(
            as_text=True
        )


# endpoint -> expected status per caller; a new route without a row fails the test
MATRIX = {
    ("GET", "/"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/zoeken"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/innovaties/kanarie-gepubliceerd"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/innovaties/kanarie-archief"): {"anonymous": 404, **dict.fromkeys(ROLES, 200)},
    ("GET", "/innovaties/kanarie-concept"): dict.fromkeys(("anonymous", *ROLES), 404),
    ("GET", "/feed.atom"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/opensearch.xml"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/api/v1/search"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/api/v1/export"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/api/v1/autocomplete?q=lees"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/api/v1/openapi.json"): dict.fromkeys(("anonymous", *ROLES), 200),
    # OAI-PMH for harvesters: public, the same for everyone (errors are XML, not HTTP)
    ("GET", "/oai?verb=Identify"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("POST", "/oai?verb=Identify"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/oai/schemas/innovatiebieb.xsd"): dict.fromkeys(("anonymous", *ROLES), 200),
    # for search engines: the same for everyone
    ("GET", "/robots.txt"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/sitemap.xml"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/sitemaps/1.xml"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/api/v1/innovations/kanarie-archief"): {"anonymous": 404, **dict.fromkeys(ROLES, 200)},
    ("GET", "/healthz"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/readyz"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("GET", "/login"): dict.fromkeys(("anonymous", *ROLES), 200),
    ("POST", "/logout"): dict.fromkeys(("anonymous", *ROLES), 302),
    ("GET", "/static/style.css"): dict.fromkeys(("anonymous", *ROLES), 200),
    # administrators re-map communities; empty POSTs are refused with 400
    ("GET", "/beheer/communities"): {"anonymous": 302, **dict.fromkeys(ROLES[:3], 403),
                                     "admin": 200},
    ("POST", "/beheer/communities/voorbeeld"): {"anonymous": 302,
                                                **dict.fromkeys(ROLES[:3], 403), "admin": 400},
    ("POST", "/beheer/communities/toepassen"): {"anonymous": 302,
                                                **dict.fromkeys(ROLES[:3], 403), "admin": 400},
    ("POST", "/beheer/communities/ongedaan"): {"anonymous": 302,
                                               **dict.fromkeys(ROLES[:3], 403), "admin": 400},
    # administrators keep the thesaurus; an empty POST is refused with 400
    ("GET", "/beheer/thesaurus"): {"anonymous": 302, **dict.fromkeys(ROLES[:3], 403),
                                   "admin": 200},
    ("POST", "/beheer/thesaurus"): {"anonymous": 302, **dict.fromkeys(ROLES[:3], 403),
                                    "admin": 400},
    ("GET", "/beheer/thesaurus/export"): {"anonymous": 302, **dict.fromkeys(ROLES[:3], 403),
                                          "admin": 200},
    # members submit
    ("GET", "/innovaties/nieuw"): {"anonymous": 302, **dict.fromkeys(ROLES, 200)},
    ("GET", "/innovaties/kanarie-gepubliceerd/bewerken"): {
        "anonymous": 302, "member": 403, "editor": 200, "analyst": 403, "admin": 200},
    ("GET", "/mijn/inzendingen"): {"anonymous": 302, **dict.fromkeys(ROLES, 200)},
    ("GET", "/mijn/zoekopdrachten"): {"anonymous": 302, **dict.fromkeys(ROLES, 200)},
    # the account page and "log out everywhere"
    ("GET", "/mijn/account"): {"anonymous": 302, **dict.fromkeys(ROLES, 200)},
    ("POST", "/mijn/account/overal-uitloggen"): dict.fromkeys(("anonymous", *ROLES), 302),
    ("GET", "/innovaties/kanarie-gepubliceerd/controleren/vals"): dict.fromkeys(
        ("anonymous", *ROLES), 400),
    ("GET", "/zoekopdrachten/afmelden/vals"): dict.fromkeys(("anonymous", *ROLES), 400),
    # editors review
    ("GET", "/redactie"): {"anonymous": 302, "member": 403, "editor": 200, "analyst": 403,
                           "admin": 200},
    ("GET", "/redactie/kanarie-gepubliceerd"): {"anonymous": 302, "member": 403, "editor": 200,
                                                "analyst": 403, "admin": 200},
    ("POST", "/redactie/kanarie-gepubliceerd/onbekend"): {
        "anonymous": 302, "member": 403, "editor": 404, "analyst": 403, "admin": 404},
    ("GET", "/statistieken"): {"anonymous": 302, "member": 403, "editor": 403,
                               "analyst": 200, "admin": 200},
    ("GET", "/statistieken/export.csv?view=facet-phase"): {
        "anonymous": 302, "member": 403, "editor": 403, "analyst": 200, "admin": 200},
    ("GET", "/api/v1/stats"): {"anonymous": 401, "member": 403, "editor": 403,
                               "analyst": 200, "admin": 200},
}  # fmt: skip


LOGOUTS = ("/logout", "/mijn/account/overal-uitloggen")
"""Matrix rows after which the caller logs in again."""


def _rule_of(app, method: str, path: str) -> str:
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(path.split("?")[0], method=method)
    return endpoint


def test_every_route_has_a_row_in_the_matrix(site):
    app = site["app"]
    covered = {_rule_of(app, method, path) for method, path in MATRIX}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - covered == set(), "add these routes to MATRIX"


@pytest.mark.parametrize("caller", ("anonymous", *ROLES))
def test_authorization_matrix(site, caller):
    http = browser_for(site, None if caller == "anonymous" else caller)
    for (method, path), expected in MATRIX.items():
        response = http.open(path, method=method)
        assert response.status_code == expected[caller], (caller, method, path)
        if method == "POST" and path in LOGOUTS and caller != "anonymous":
            http = browser_for(site, caller)


def test_login_renews_the_session_and_sets_safe_cookie_flags(site):
    from portal import create_app

    app = create_app({**site["config"], "SESSION_COOKIE_SECURE": True,
                      "REMEMBER_COOKIE_SECURE": True})  # fmt: skip
    http = browser_for(site, None, app)
    with http.session_transaction() as session:
        session["planted"] = "before-login"
    response = http.post(
        "/login",
        data={"email": "member@bieb.example", "password": PASSWORD, "remember": "y"},
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember_cookie = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session_cookie, remember_cookie):
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    with http.session_transaction() as session:
        assert "planted" not in session and session.get("_user_id")


def test_wrong_passwords_end_in_429_with_retry_after(site):
    http = browser_for(site, None)
    statuses = []
    for _ in range(7):
        response = http.post("/login", data={"email": "member@bieb.example", "password": "fout"})
        statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    ["https://elsewhere.example/", "//elsewhere.example/", "/\\elsewhere.example",
     "javascript:alert(1)", "http:/elsewhere.example"],
)  # fmt: skip
def test_next_never_leaves_the_site(site, target):
    http = browser_for(site, None)
    response = http.post(
        "/login", query_string={"next": target},
        data={"email": "member@bieb.example", "password": PASSWORD},
    )  # fmt: skip
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "elsewhere" not in location


def test_next_to_a_local_page_is_followed(site):
    http = browser_for(site, None)
    response = http.post(
        "/login", query_string={"next": "/zoeken?q=lezen"},
        data={"email": "member@bieb.example", "password": PASSWORD},
    )  # fmt: skip
    assert response.headers["Location"] == "/zoeken?q=lezen"


def test_post_without_csrf_token_is_refused(site):
    from portal import create_app

    app = create_app({**site["config"], "WTF_CSRF_ENABLED": True})
    http = browser_for(site, None, app)
    response = http.post("/login", data={"email": "member@bieb.example", "password": PASSWORD})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    page = http.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = http.post(
        "/login", data={"email": "member@bieb.example", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_password_reset_ends_existing_sessions(site):
    http = browser_for(site, "analyst")
    assert "kanarieles9k2p" in http.get("/innovaties/kanarie-gepubliceerd").get_data(as_text=True)
    with transaction(site["factory"]) as session:
        reset_password(session, "analyst@bieb.example", PASSWORD + "-nieuw")
    body = http.get("/innovaties/kanarie-gepubliceerd").get_data(as_text=True)
    assert "kanarieles9k2p" not in body
    with transaction(site["factory"]) as session:
        reset_password(session, "analyst@bieb.example", PASSWORD)


def test_security_headers(site):
    response = browser_for(site, None).get("/zoeken")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script found"
    tags = re.findall(r"<[a-zA-Z][^>]*>", html)
    assert not [t for t in tags if re.search(r"\son[a-z]+\s*=", t)], "inline event handler"


def test_unpublished_records_are_404_not_403(site):
    http = browser_for(site, None)
    response = http.get("/api/v1/innovations/kanarie-concept")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    html = http.get("/innovaties/kanarie-concept").get_data(as_text=True)
    assert "kanarieconcept4t" not in html and "Niet gevonden" in html
