"""OAI-PMH responses and metadata formats as XML (pure; ElementTree of the stdlib).

Two metadata formats (``METADATA_FORMATS``): ``oai_dc`` (simple Dublin Core, every
repository's minimum) and ``ibieb``, this portal's own format with the facet ids
beside their Dutch and English labels (schema: ``schemas/innovatiebieb.xsd``).
Both are built from public fields only.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from registry.languages import LANGUAGES
from registry.taxonomy import Taxonomy

from .protocol import OaiError, format_datestamp
from .repository import Item

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
IBIEB = "urn:innovatiebieb:innovation:1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

for _prefix, _uri in (("", OAI), ("oai_dc", OAI_DC), ("dc", DC), ("ibieb", IBIEB), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)

REPOSITORY_ID = "innovatiebieb"
"""The repository part of every OAI identifier: ``oai:innovatiebieb:<record id>``."""


@dataclass(frozen=True)
class MetadataFormat:
    """One metadata format: prefix, schema URL (absolute or relative to the
    portal's base URL), namespace."""

    prefix: str
    schema: str
    namespace: str


METADATA_FORMATS = {
    "oai_dc": MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
    "ibieb": MetadataFormat("ibieb", "/oai/schemas/innovatiebieb.xsd", IBIEB),
}


def oai_identifier(record_id: str) -> str:
    """The OAI identifier of a record id."""
    return f"oai:{REPOSITORY_ID}:{record_id}"


def record_id_of(identifier: str) -> str:
    """The record id of an OAI identifier.

    Raises:
        OaiError: ``idDoesNotExist`` for an identifier of another shape.
    """
    prefix = f"oai:{REPOSITORY_ID}:"
    if not identifier.startswith(prefix) or len(identifier) == len(prefix):
        raise OaiError("idDoesNotExist", f"no record has the identifier {identifier!r}")
    return identifier[len(prefix) :]


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: v for k, v in attrib.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _labels(taxonomy: Taxonomy, vocabulary: str, term_id: str) -> dict[str, str]:
    return {lang: taxonomy.label(vocabulary, term_id, lang) for lang in LANGUAGES}


def oai_dc(record: dict, taxonomy: Taxonomy, page_url: str) -> ET.Element:
    """Simple Dublin Core of a record (public fields only).

    title, description (summary, then description), subject (priority and community
    labels in Dutch and English, then keywords), publisher (organisation), coverage
    (province), date (entered, else start year), type (innovation type), identifier
    (the detail page), relation (the project's own site), language (``nl``).
    """
    root = ET.Element(f"{{{OAI_DC}}}dc")
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} {METADATA_FORMATS['oai_dc'].schema}")
    dc = lambda tag: f"{{{DC}}}{tag}"  # noqa: E731
    _sub(root, dc("title"), record["title"], **{XML_LANG: "nl"})
    _sub(root, dc("description"), record["summary"], **{XML_LANG: "nl"})
    _sub(root, dc("description"), record["description"], **{XML_LANG: "nl"})
    for vocabulary in ("priorities", "communities"):
        for term_id in record[vocabulary]:
            for lang, label in _labels(taxonomy, vocabulary, term_id).items():
                _sub(root, dc("subject"), label, **{XML_LANG: lang})
    for keyword in record["keywords"] or []:
        _sub(root, dc("subject"), keyword)
    _sub(root, dc("publisher"), record["organisation"])
    _sub(root, dc("coverage"), taxonomy.label("provinces", record["province"], "nl"))
    date = record["created"] or (str(record["start_year"]) if record["start_year"] else None)
    if date:
        _sub(root, dc("date"), date)
    _sub(root, dc("type"), taxonomy.label("innovation_types", record["innovation_type"], "nl"))
    _sub(root, dc("identifier"), page_url)
    if record["url"]:
        _sub(root, dc("relation"), record["url"])
    _sub(root, dc("language"), "nl")
    return root


def ibieb(record: dict, taxonomy: Taxonomy, page_url: str, schema_url: str) -> ET.Element:
    """The portal's own format: every public field, facets as ids with labels.

    Element order and types are those of ``schemas/innovatiebieb.xsd``.
    """
    ns = lambda tag: f"{{{IBIEB}}}{tag}"  # noqa: E731
    root = ET.Element(ns("innovation"))
    root.set(f"{{{XSI}}}schemaLocation", f"{IBIEB} {schema_url}")
    _sub(root, ns("id"), record["id"])
    _sub(root, ns("page"), page_url)
    for name in ("title", "summary", "description"):
        _sub(root, ns(name), record[name])
    if record["results"]:
        _sub(root, ns("results"), record["results"])

    def term(tag: str, vocabulary: str, term_id) -> None:
        element = _sub(root, ns(tag), id=str(term_id))
        for lang, label in _labels(taxonomy, vocabulary, str(term_id)).items():
            _sub(element, ns("label"), label, **{XML_LANG: lang})

    for term_id in record["priorities"]:
        term("priority", "priorities", term_id)
    for term_id in record["communities"]:
        term("community", "communities", term_id)
    term("phase", "phases", record["phase"])
    term("innovationType", "innovation_types", record["innovation_type"])
    for term_id in record["target_groups"]:
        term("targetGroup", "target_groups", term_id)
    if record["evidence_level"] is not None:
        term("evidenceLevel", "evidence_levels", record["evidence_level"])
    _sub(root, ns("organisation"), record["organisation"])
    term("province", "provinces", record["province"])
    for name, tag in (("places_applied", "placesApplied"), ("start_year", "startYear")):
        if record[name] is not None:
            _sub(root, ns(tag), str(record[name]))
    for programme in record["programmes"] or []:
        _sub(root, ns("programme"), programme)
    for keyword in record["keywords"] or []:
        _sub(root, ns("keyword"), keyword)
    if record["url"]:
        _sub(root, ns("url"), record["url"])
    for name, tag in (("last_verified", "lastVerified"), ("created", "created")):
        if record[name]:
            _sub(root, ns(tag), record[name])
    return root


MetadataWriter = Callable[[dict], ET.Element]
"""Builds the metadata element of one record (bound to taxonomy and URLs)."""


def envelope(base_url: str, now: dt.datetime, arguments: dict[str, str] | None) -> ET.Element:
    """The ``<OAI-PMH>`` root with ``responseDate`` and ``request``.

    ``arguments`` None: the request was a badVerb/badArgument, so ``<request>``
    carries only the base URL (section 3.2).
    """
    root = ET.Element(f"{{{OAI}}}OAI-PMH")
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    _sub(root, f"{{{OAI}}}responseDate", format_datestamp(now))
    _sub(root, f"{{{OAI}}}request", base_url, **(arguments or {}))
    return root


def add_error(root: ET.Element, error: OaiError) -> None:
    """Append an ``<error>`` element."""
    _sub(root, f"{{{OAI}}}error", error.message, code=error.code)


def header(parent: ET.Element, item: Item) -> None:
    """Append the ``<header>`` of ``item`` (``status="deleted"`` when archived)."""
    element = _sub(parent, f"{{{OAI}}}header", status="deleted" if item.deleted else None)
    _sub(element, f"{{{OAI}}}identifier", oai_identifier(item.id))
    _sub(element, f"{{{OAI}}}datestamp", format_datestamp(item.datestamp))
    for spec in item.set_specs:
        _sub(element, f"{{{OAI}}}setSpec", spec)


def record(parent: ET.Element, item: Item, metadata: MetadataWriter) -> None:
    """Append a ``<record>``: header, and metadata unless the item is deleted."""
    element = _sub(parent, f"{{{OAI}}}record")
    header(element, item)
    if not item.deleted:
        _sub(element, f"{{{OAI}}}metadata").append(metadata(item.record))


def resumption_token(
    parent: ET.Element, token: str, expires: dt.datetime | None, total: int | None, cursor: int
) -> None:
    """Append a ``<resumptionToken>``; an empty ``token`` ends the list (section 3.5)."""
    _sub(
        parent,
        f"{{{OAI}}}resumptionToken",
        token,
        expirationDate=format_datestamp(expires) if expires and token else None,
        completeListSize=str(total) if total else None,
        cursor=str(cursor),
    )


def to_bytes(root: ET.Element) -> bytes:
    """The response document, UTF-8 with an XML declaration."""
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def oai(tag: str) -> str:
    """The qualified name of ``tag`` in the OAI-PMH namespace."""
    return f"{{{OAI}}}{tag}"
