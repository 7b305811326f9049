"""For search engines: sitemaps, robots.txt and schema.org JSON-LD (pure functions).

The views (:mod:`portal.views.discovery`) read the registry through
:class:`portal.oai.repository.Repository`, so the sitemap's ``lastmod``, the
JSON-LD ``dateModified`` and the OAI-PMH datestamp are one and the same fact.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

from registry.taxonomy import Taxonomy

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
"""Namespace of the sitemaps protocol (sitemaps.org, version 0.9)."""
SITEMAP_LIMIT = 50_000
"""Most URLs one sitemap file may list (sitemaps.org protocol)."""

ROBOTS_DISALLOW = (
    "/zoeken?",
    "/?",
    "/feed.atom?",
    "/innovaties/*?",
    "/innovaties/nieuw",
    "/login",
    "/logout",
    "/mijn/",
    "/redactie",
    "/beheer/",
    "/statistieken",
    "/zoekopdrachten/",
    "/api/",
    "/oai",
)
"""Paths crawlers keep out of: every search with parameters (facet combinations are
endless; the sitemap lists each innovation once instead), detail pages with a query
string (the same page again), login and member pages, the APIs and OAI-PMH (for
harvesters, not crawlers). ``*`` is the wildcard of RFC 9309."""


def _lastmod(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _document(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def urlset(entries: list[tuple[str, dt.datetime]]) -> bytes:
    """A sitemap: ``<urlset>`` of ``(absolute URL, last modified)``, at most
    :data:`SITEMAP_LIMIT` entries (the caller splits)."""
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for url, modified in entries:
        element = ET.SubElement(root, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(element, f"{{{SITEMAP_NS}}}loc").text = url
        ET.SubElement(element, f"{{{SITEMAP_NS}}}lastmod").text = _lastmod(modified)
    return _document(root)


def sitemap_index(parts: list[tuple[str, dt.datetime | None]]) -> bytes:
    """A sitemap index: ``<sitemapindex>`` of ``(sitemap URL, newest lastmod)``."""
    root = ET.Element(f"{{{SITEMAP_NS}}}sitemapindex")
    for url, modified in parts:
        element = ET.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
        ET.SubElement(element, f"{{{SITEMAP_NS}}}loc").text = url
        if modified:
            ET.SubElement(element, f"{{{SITEMAP_NS}}}lastmod").text = _lastmod(modified)
    return _document(root)


def part_count(total: int, limit: int) -> int:
    """How many sitemap files ``total`` URLs need at ``limit`` per file (0 for none).

    Raises:
        ValueError: ``limit`` is not between 1 and :data:`SITEMAP_LIMIT`.
    """
    if not 1 <= limit <= SITEMAP_LIMIT:
        raise ValueError(f"a sitemap holds 1 to {SITEMAP_LIMIT} URLs, not {limit}")
    return -(-total // limit)


def robots_txt(sitemap_url: str) -> str:
    """``robots.txt``: every crawler, :data:`ROBOTS_DISALLOW`, and the sitemap."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW)]
    return "\n".join([*lines, "", f"Sitemap: {sitemap_url}", ""])


def json_ld(record: dict, taxonomy: Taxonomy, page_url: str, modified: dt.datetime) -> dict:
    """schema.org ``CreativeWork`` of a published innovation, from public fields only.

    Args:
        record: public fields (as :class:`portal.oai.repository.Item` holds them;
            communities resolved).
        taxonomy: for the Dutch labels of priorities, communities, province.
        page_url: the canonical detail page.
        modified: the record's datestamp (also the sitemap's ``lastmod``).
    Returns:
        the JSON-LD object: name, description, url, inLanguage, dateModified,
        creator (the organisation), spatialCoverage (province, in the Netherlands),
        keywords (keywords, priority and community labels), about (priorities and
        communities as DefinedTerms), dateCreated when known.
    """
    terms = [
        {"@type": "DefinedTerm", "termCode": term_id, "name": taxonomy.label(vocab, term_id, "nl"),
         "inDefinedTermSet": vocab}
        for vocab in ("priorities", "communities")
        for term_id in record["communities" if vocab == "communities" else "priorities"]
    ]  # fmt: skip
    keywords = list(record.get("keywords") or []) + [term["name"] for term in terms]
    data = {
        "@context": "https://schema.org",
        "@type": "CreativeWork",
        "@id": page_url,
        "url": page_url,
        "name": record["title"],
        "description": record["summary"],
        "inLanguage": "nl",
        "dateModified": _lastmod(modified),
        "creator": {"@type": "Organization", "name": record["organisation"]},
        "spatialCoverage": {
            "@type": "AdministrativeArea",
            "name": taxonomy.label("provinces", record["province"], "nl"),
            "containedInPlace": {"@type": "Country", "name": "Nederland"},
        },
        "keywords": ", ".join(dict.fromkeys(keywords)),
        "about": terms,
    }
    if record.get("created"):
        data["dateCreated"] = record["created"]
    if record.get("url"):
        data["sameAs"] = record["url"]
    return data


def script_json(data: dict) -> str:
    """``data`` as JSON safe inside ``<script type="application/ld+json">``.

    ``<``, ``>`` and ``&`` are escaped as ``\\u003c`` etc., so no text of a record
    can end the script element (a title like ``</script><script>…``).
    """
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
