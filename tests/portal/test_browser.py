"""Real browser tests: Debian's Chromium driven by Playwright against gunicorn.

Checks the facet workflow as a person does it (tick boxes, apply, read counts and
the URL) and runs axe-core on the search and detail pages. Screenshots go to
``instance/screenshots/`` to be looked at.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import (
    AXE,
    BROWSER_READY,
    SHOTS,
    launch_chromium,
    published_records,
    serve_portal,
)

pytestmark = pytest.mark.skipif(
    not BROWSER_READY,
    reason="needs Debian chromium and node_modules/axe-core (make test installs both)",
)


@pytest.fixture(scope="module")
def live_url(loaded):
    """The portal against the shared, read-only index."""
    with serve_portal(loaded["url"], loaded["opensearch_url"], loaded["names"].prefix) as url:
        yield url


@pytest.fixture(scope="module")
def workflow(tmp_path_factory, client, opensearch_url):
    """A portal over its own registry and index, with an admin, an editor and a member,
    for tests that change data."""
    from indexer.client import IndexNames
    from indexer.rebuild import rebuild
    from registry.db import transaction
    from registry.records import import_jsonl
    from registry.users import create_user
    from tests.conftest import DATA_FILE, RUN_ID, make_registry

    url, factory = make_registry(tmp_path_factory.mktemp("workflow"))
    import_jsonl(factory, DATA_FILE)
    with transaction(factory) as session:
        for role in ("admin", "editor", "member"):
            create_user(session, f"{role}@bieb.example", role, "browser-wachtwoord")
    names = IndexNames(f"t{RUN_ID}-browserflow-")
    rebuild(client, factory, names)
    with serve_portal(url, opensearch_url, names.prefix) as base:
        yield {"url": base, "factory": factory}
    client.indices.delete(index=f"{names.prefix}*", ignore_unavailable=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = launch_chromium(pw)
        yield instance
        instance.close()


def _page(browser, locale: str = "nl-NL"):
    # bypass_csp only lets the test inject axe-core; the portal's CSP forbids inline script
    context = browser.new_context(
        locale=locale, viewport={"width": 1280, "height": 1400}, bypass_csp=True
    )
    return context.new_page()


def test_content_security_policy_blocks_inline_script(browser, live_url):
    page = browser.new_context().new_page()
    page.goto(f"{live_url}/zoeken")
    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")


def _axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document)")
    return [v for v in results["violations"] if v["impact"] in ("serious", "critical")]


def test_select_two_phases_and_a_province_by_clicking(browser, live_url):
    page = _page(browser)
    page.goto(f"{live_url}/zoeken")
    # every change applies at once (search.js), so each tick loads the page
    for selector in (
        '#facet-phase input[value="experiment"]',
        '#facet-phase input[value="idee"]',
        '#facet-province input[value="zuid-holland"]',
    ):
        with page.expect_navigation():
            page.locator(selector).check()
    query = parse_qs(urlparse(page.url).query)
    assert sorted(query["phase"]) == ["experiment", "idee"]
    assert query["province"] == ["zuid-holland"]
    chosen = [
        r for r in published_records()
        if r["phase"] in ("idee", "experiment") and r["province"] == "zuid-holland"
    ]  # fmt: skip
    heading = page.locator("#results-heading").inner_text()
    assert heading.startswith(f"{len(chosen)} innovatie")
    phases_in_zh = Counter(
        r["phase"] for r in published_records() if r["province"] == "zuid-holland"
    )
    label = page.locator('label[for] >> text="Breed beschikbaar"').first.inner_text()
    assert f"({phases_in_zh['beschikbaar']})" in label
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "search-two-facets-nl.png"), full_page=True)


def test_keyboard_only_filtering(browser, live_url):
    page = _page(browser)
    page.goto(f"{live_url}/zoeken")
    page.locator('#facet-phase input[value="beschikbaar"]').focus()
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert parse_qs(urlparse(page.url).query)["phase"] == ["beschikbaar"]


def test_sort_applies_on_change_and_clear_all_filters_keeps_the_words(browser, live_url):
    page = _page(browser)
    page.goto(f"{live_url}/zoeken?q=lezen&phase=idee&province=utrecht")
    with page.expect_navigation():
        page.locator("#sort").select_option("title")
    query = parse_qs(urlparse(page.url).query)
    assert query["sort"] == ["title"] and query["phase"] == ["idee"]
    with page.expect_navigation():
        page.get_by_role("link", name="Alle filters wissen").click()
    assert parse_qs(urlparse(page.url).query) == {"q": ["lezen"], "sort": ["title"]}
    assert page.get_by_role("link", name="Alle filters wissen").count() == 0


def _phone(browser, javascript: bool = True):
    context = browser.new_context(
        locale="nl-NL", viewport={"width": 390, "height": 844}, java_script_enabled=javascript
    )
    return context.new_page()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_phone_shows_results_first_without_horizontal_scroll(browser, live_url, javascript):
    page = _phone(browser, javascript)
    page.goto(f"{live_url}/zoeken?q=lezen&phase=experiment")
    SHOTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if javascript else "-no-js"
    page.screenshot(path=str(SHOTS / f"phone-search-nl{suffix}.png"), full_page=True)
    width = "document.documentElement.scrollWidth"
    assert page.evaluate(width) <= 390
    first_hit = page.locator(".hit").first.bounding_box()
    assert first_hit["y"] + 40 < 844, "the first result is not on the first screen"
    facet = page.locator("#facet-phase")
    assert not facet.is_visible()
    page.get_by_text("Filteren", exact=True).click()
    assert facet.is_visible()
    assert page.evaluate(width) <= 390
    page.screenshot(path=str(SHOTS / f"phone-filters-open-nl{suffix}.png"), full_page=True)


@pytest.mark.parametrize(
    "path, name",
    [
        ("/zoeken?phase=idee&phase=experiment&province=noord-brabant", "search-nl"),
        ("/zoeken?q=lezen&lang=en", "search-en"),
        ("/zoeken?q=leesbevordring", "zero-results-nl"),
        ("/innovaties/walk-and-talk", "detail-nl"),
        ("/innovaties/bestaat-niet", "not-found-nl"),
    ],
)
def test_pages_have_no_serious_accessibility_violations(browser, live_url, path, name):
    page = _page(browser)
    page.goto(f"{live_url}{path}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    violations = _axe_violations(page)
    assert violations == [], [(v["id"], v["help"], len(v["nodes"])) for v in violations]


def test_page_works_without_javascript(browser, live_url):
    context = browser.new_context(java_script_enabled=False, locale="nl-NL")
    page = context.new_page()
    page.goto(f"{live_url}/zoeken")
    page.fill("#q", "koffiepauze")
    with page.expect_navigation():
        page.get_by_role("button", name="Zoeken", exact=True).click()
    assert "q=koffiepauze" in page.url
    assert Path(page.url).name.startswith("zoeken")
    assert page.locator(".hit").count() >= 1
    # filters beside the results, applied with the button
    phase = page.locator("#facet-phase input").first
    value = phase.get_attribute("value")
    phase.check()
    with page.expect_navigation():
        page.get_by_role("button", name="Filters toepassen").click()
    assert parse_qs(urlparse(page.url).query)["phase"] == [value]


def test_member_logs_in_and_sees_restricted_fields(browser, live_url, loaded):
    from registry.db import transaction
    from registry.users import UserError, create_user
    from tests.conftest import read_data

    try:
        with transaction(loaded["factory"]) as session:
            create_user(session, "browser-lid@bieb.example", "member", "browser-wachtwoord")
    except UserError:
        pass  # the module ran before in this session
    record = next(r for r in read_data() if r["status"] == "published" and r["lessons_learned"])
    anonymous = _page(browser)
    anonymous.goto(f"{live_url}/innovaties/{record['id']}")
    assert record["lessons_learned"] not in anonymous.content()
    assert record["contact"]["email"] not in anonymous.content()

    page = _page(browser)
    page.goto(f"{live_url}/innovaties/{record['id']}")
    with page.expect_navigation():
        page.get_by_role("link", name="Inloggen").click()
    page.get_by_label("E-mailadres").fill("browser-lid@bieb.example")
    page.get_by_label("Wachtwoord").fill("browser-wachtwoord")
    with page.expect_navigation():
        page.get_by_role("button", name="Inloggen").click()
    assert urlparse(page.url).path == f"/innovaties/{record['id']}"
    assert record["lessons_learned"] in page.content()
    assert record["contact"]["email"] in page.content()
    assert record["internal_notes"] not in page.content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "detail-member-nl.png"), full_page=True)
    assert _axe_violations(page) == []


def _login(browser, base: str, email: str):
    page = _page(browser)
    page.goto(f"{base}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill("browser-wachtwoord")
    with page.expect_navigation():
        page.get_by_role("button", name="Inloggen").click()
    return page


def test_admin_merges_two_communities_with_a_preview(browser, workflow):
    page = _login(browser, workflow["url"], "admin@bieb.example")
    page.goto(f"{workflow['url']}/beheer/communities")
    page.locator("#merge-mediawijsheid").check()
    page.locator("#merge-digitale-bibliotheek").check()
    page.locator("#merge-target").fill("digitaal-en-mediawijs")
    page.locator("#merge-nl").fill("Digitaal en mediawijs")
    with page.expect_navigation():
        page.get_by_role("button", name="Voorbeeld samenvoegen").click()
    assert "Voorbeeld: Samenvoegen" in page.content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-merge-preview-nl.png"), full_page=True)
    assert _axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="Uitvoeren").click()
    assert "is uitgevoerd" in page.content()
    page.screenshot(path=str(SHOTS / "admin-merge-applied-nl.png"), full_page=True)
    assert _axe_violations(page) == []


def test_admin_adds_a_synonym_set_with_the_keyboard_and_search_uses_it(browser, workflow):
    page = _login(browser, workflow["url"], "admin@bieb.example")
    page.goto(f"{workflow['url']}/beheer/thesaurus?toevoegen=knorretjesfeest")
    assert _axe_violations(page) == []
    terms = page.get_by_label("Termen, één per regel of gescheiden door komma’s")
    assert terms.input_value() == "knorretjesfeest"
    terms.fill("knorretjesfeest, voorlezen")
    with page.expect_navigation():
        page.get_by_role("button", name="Toevoegen").press("Enter")
    assert "opgeslagen" in page.content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-thesaurus-nl.png"), full_page=True)
    assert _axe_violations(page) == []
    deadline = time.monotonic() + 5  # a portal process looks for changes once a second
    while True:
        page.goto(f"{workflow['url']}/zoeken?q=knorretjesfeest&correct=0")
        if page.locator("ol.hits").count() or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert "voorlezen" in page.locator("ol.hits").inner_text().lower()


def test_member_form_errors_and_editor_queue(browser, workflow):
    page = _login(browser, workflow["url"], "member@bieb.example")
    page.goto(f"{workflow['url']}/innovaties/nieuw")
    page.locator("#f-summary").fill("Een samenvatting die blijft staan.")
    with page.expect_navigation():
        page.get_by_role("button", name="Indienen ter beoordeling").click()
    assert "Verbeter deze velden" in page.content()
    assert page.locator("#f-summary").input_value() == "Een samenvatting die blijft staan."
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "submission-errors-nl.png"), full_page=True)
    assert _axe_violations(page) == []
    editor = _login(browser, workflow["url"], "editor@bieb.example")
    editor.goto(f"{workflow['url']}/redactie")
    editor.screenshot(path=str(SHOTS / "editor-queue-nl.png"), full_page=True)
    assert _axe_violations(editor) == []
