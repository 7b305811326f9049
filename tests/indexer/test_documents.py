"""Document building without a server: labels as text, one Unicode form."""

from __future__ import annotations

import unicodedata

from indexer.documents import build_document
from registry.taxonomy import Taxonomy

from ..conftest import TAXONOMY_FILE, published_records


def _record(**changes) -> dict:
    record = dict(published_records()[0], version=1, **changes)
    return record


def test_documents_carry_taxonomy_labels_in_both_languages():
    taxonomy = Taxonomy.from_file(TAXONOMY_FILE)
    record = _record()
    doc = build_document(record, taxonomy, "public")
    for lang in ("nl", "en"):
        expected = [taxonomy.label("target_groups", t, lang) for t in record["target_groups"]]
        expected.append(taxonomy.label("phases", record["phase"], lang))
        expected.append(taxonomy.label("phases", record["phase"], lang, short=True))
        assert set(expected) <= set(doc[f"labels_{lang}"])


def test_text_is_stored_composed_without_invisible_characters():
    taxonomy = Taxonomy.from_file(TAXONOMY_FILE)
    decomposed = unicodedata.normalize("NFD", "Coöperatie")
    record = _record(title=f"{decomposed} met biblio\u00adtheek", keywords=["zero\u200bwidth"])
    doc = build_document(record, taxonomy, "public")
    assert doc["title"] == "Coöperatie met bibliotheek"
    assert doc["keywords"] == ["zerowidth"]
    assert doc["title_sort"] == "Coöperatie met bibliotheek"
