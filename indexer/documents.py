"""Index documents built from registry records (pure functions, no I/O).

Visibility rules (docs/architecture.md, "Layers"): the public document exists only for ``published``
records and holds only public fields; the members document exists for
``published`` and ``archived`` records and adds member fields. Editor-only fields
are never copied.
"""

from __future__ import annotations

import hashlib
import json
import re

from registry.languages import LANGUAGES
from registry.records import MEMBER_FIELDS, PUBLIC_FIELDS
from registry.statuses import visible_statuses
from registry.taxonomy import Taxonomy
from registry.text import normalize

TAXONOMY_REVISION_BITS = 20
"""Document versions are ``record_version << 20 | taxonomy_revision`` (see below)."""

LABELLED_FIELDS = (
    ("priorities", "priorities"),
    ("communities", "communities"),
    ("target_groups", "target_groups"),
    ("phase", "phases"),
    ("innovation_type", "innovation_types"),
)
"""Document fields whose taxonomy labels are searchable text: ``(field, vocabulary)``."""

NORMALIZED_FIELDS = ("title", "summary", "description", "results", "organisation")
"""Free-text fields brought to one Unicode form (:func:`registry.text.normalize`)."""

_SORT_PREFIX = re.compile(r"^\s*(?:'s|'t|’s|’t)[-\s]+", re.IGNORECASE)


def title_sort_key(title: str) -> str:
    """Sort key for titles in Dutch order.

    Drops the elided articles ``'s-`` and ``'t`` so ``'s-Hertogenbosch`` files under
    H, and strips leading punctuation; the index normalizer then folds case and
    diacritics. ``IJ`` stays a letter pair and sorts under I, as in Dutch
    dictionaries.
    """
    key = _SORT_PREFIX.sub("", title)
    return key.lstrip(" '\"‘’“”«(").strip()


def document_version(record_version: int, taxonomy_revision: int) -> int:
    """The external version of a document.

    A document changes when its record changes (record ``version``) or when a
    taxonomy operation re-maps its communities (taxonomy revision), so both go into
    one monotonic number: the record version in the high bits, the taxonomy revision
    (below 2**20) in the low bits.
    """
    if not 0 <= taxonomy_revision < 2**TAXONOMY_REVISION_BITS:
        raise ValueError(f"taxonomy revision out of range: {taxonomy_revision}")
    return (record_version << TAXONOMY_REVISION_BITS) | taxonomy_revision


def content_hash(doc: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of ``doc`` without its ``content_hash``."""
    body = {k: v for k, v in doc.items() if k != "content_hash"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def taxonomy_labels(doc: dict, taxonomy: Taxonomy, lang: str) -> list[str]:
    """The ``lang`` labels (long and short) of the taxonomy ids in ``doc``.

    Labels are searchable text so that a label word finds its records in either
    language (``labels_nl``, ``labels_en``); ids the taxonomy does not know are skipped.
    """
    labels: list[str] = []
    for field_name, vocabulary in LABELLED_FIELDS:
        value = doc.get(field_name)
        for term_id in value if isinstance(value, list) else [value] if value else []:
            if not taxonomy.has(vocabulary, term_id):
                continue
            term = taxonomy.get(vocabulary, term_id)
            for label in dict.fromkeys((term.label(lang), term.label(lang, short=True))):
                labels.append(label)
    return labels


def build_document(record: dict, taxonomy: Taxonomy, audience: str) -> dict | None:
    """The document of ``record`` for ``audience`` (``public``/``members``), or None.

    Args:
        record: a record as :func:`registry.records.record_to_dict` returns it.
        taxonomy: resolves historical community ids to current ones.
        audience: ``public`` or ``members``.
    Returns:
        the document (with ``content_hash``), or None when the record must not be in
        that index (unpublished for the public, draft/in review for members).
    """
    if record["status"] not in visible_statuses(audience):
        return None
    doc = {name: record.get(name) for name in PUBLIC_FIELDS}
    doc["status"] = record["status"]
    doc["communities_source"] = list(record["communities"])
    doc["communities"] = taxonomy.resolve_communities(record["communities"], record["id"])
    for name in NORMALIZED_FIELDS:
        if isinstance(doc.get(name), str):
            doc[name] = normalize(doc[name])
    doc["keywords"] = [normalize(k) for k in doc.get("keywords") or []]
    for lang in LANGUAGES:
        doc[f"labels_{lang}"] = taxonomy_labels(doc, taxonomy, lang)
    doc["title_sort"] = title_sort_key(doc["title"])
    doc["record_version"] = record["version"]
    doc["updated"] = record.get("updated_at")
    if audience == "members":
        for name in MEMBER_FIELDS:
            doc[name] = record.get(name)
    doc["content_hash"] = content_hash(doc)
    return doc
