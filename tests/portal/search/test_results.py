"""Shaping facet buckets for the API and the page, without a server."""

from __future__ import annotations

from pathlib import Path

from portal.search.facets import FACETS_BY_NAME, UNKNOWN_VALUE
from portal.search.hits import shape_hit
from portal.search.results import shape_facet
from registry.taxonomy import Taxonomy

TAXONOMY = Taxonomy.from_file(Path(__file__).resolve().parents[3] / "data" / "taxonomy.json")


def buckets(**counts):
    return [{"key": key, "doc_count": count} for key, count in counts.items()]


def test_ordered_facets_keep_vocabulary_order_and_show_unknown_last():
    phase = FACETS_BY_NAME["phase"]
    shaped = shape_facet(phase, buckets(beschikbaar=9, idee=1), set(), TAXONOMY, "nl")
    assert [v["value"] for v in shaped] == ["idee", "beschikbaar"]
    evidence = FACETS_BY_NAME["evidence"]
    shaped = shape_facet(evidence, buckets(**{"3": 2, "1": 5}), set(), TAXONOMY, "en", missing=4)
    assert [v["value"] for v in shaped] == ["1", "3", UNKNOWN_VALUE]
    assert shaped[-1] == {"value": UNKNOWN_VALUE, "label": "unknown", "count": 4,
                          "selected": False}  # fmt: skip


def test_other_facets_sort_by_count_then_label():
    province = FACETS_BY_NAME["province"]
    ids = [t.id for t in TAXONOMY.terms("provinces")][:3]
    shaped = shape_facet(
        province, buckets(**{ids[0]: 1, ids[1]: 5, ids[2]: 1}), set(), TAXONOMY, "nl"
    )
    assert shaped[0]["value"] == ids[1]
    tail = shaped[1:]
    assert [v["label"].casefold() for v in tail] == sorted(v["label"].casefold() for v in tail)


def test_selected_values_show_at_count_zero_with_their_label():
    phase = FACETS_BY_NAME["phase"]
    shaped = shape_facet(phase, buckets(idee=3), {"experiment"}, TAXONOMY, "en")
    chosen = next(v for v in shaped if v["value"] == "experiment")
    assert chosen["count"] == 0 and chosen["selected"] is True
    assert chosen["label"] == TAXONOMY.label("phases", "experiment", "en", short=True)


def test_free_values_are_their_own_label():
    programme = FACETS_BY_NAME["programme"]
    shaped = shape_facet(programme, buckets(**{"Kunst van Lezen": 2}), set(), TAXONOMY, "nl")
    assert shaped == [{"value": "Kunst van Lezen", "label": "Kunst van Lezen", "count": 2,
                       "selected": False}]  # fmt: skip


def test_a_hit_uses_the_api_names():
    hit = shape_hit({"_source": {"id": "a", "title": "T", "summary": "S",
                                 "innovation_type": "doorbraak"}})  # fmt: skip
    assert hit["type"] == "doorbraak" and "innovation_type" not in hit
    assert hit["highlight"] == {} and hit["priorities"] == []
