"""Shape an OpenSearch response into the API's result (the stable HTTP contract).

Adds taxonomy labels in the requested language and ``selected`` flags, keeps
selected values visible at count 0, and orders facet values (vocabulary order for
ordinal facets, else count then label).
"""

from __future__ import annotations

import functools

from registry.taxonomy import Taxonomy

from .facets import FACETS, UNKNOWN_LABEL, UNKNOWN_VALUE, Facet
from .hits import shape_hit
from .params import SearchRequest
from .query import ResolvedFilters

FORMERLY = {"nl": "voorheen", "en": "formerly"}


@functools.lru_cache(maxsize=4096)
def facet_value_label(
    facet: Facet, taxonomy: Taxonomy, value: str, lang: str, formerly_since=None
) -> str:
    """The label of a vocabulary value of ``facet`` in ``lang``, with "(voorheen …)"
    for a community that others were merged or renamed into on or after
    ``formerly_since`` (a date, or None for no such note).

    Remembered per taxonomy object: the portal loads a new :class:`Taxonomy` for every
    taxonomy revision (:meth:`portal.backends.Backends.taxonomy`) and never changes
    one, so a label computed once stays right for that revision, and the same few
    hundred labels are not rebuilt for every search.
    """
    text = facet.label(taxonomy, value, lang)
    if facet.name == "community" and formerly_since is not None:
        former = taxonomy.formerly(value, formerly_since)
        if former:
            names = ", ".join(taxonomy.label("communities", f, lang) for f in former)
            text += f" ({FORMERLY[lang] if lang in FORMERLY else FORMERLY['nl']} {names})"
    return text


def _selected_index_values(facet: Facet, request: SearchRequest, resolved: ResolvedFilters):
    if facet.at_least:
        return set(request.selected(facet))
    return set(resolved.values.get(facet.name, ()))


def shape_facet(
    facet: Facet,
    buckets: list[dict],
    selected: set[str],
    taxonomy: Taxonomy,
    lang: str,
    missing: int = 0,
    formerly_since=None,
) -> list[dict]:
    """Facet values ``[{"value", "label", "count", "selected"}]`` for one facet.

    Args:
        buckets: the terms buckets (``key``, ``doc_count``) of the facet's aggregation.
        selected: index values that are selected (shown even at count 0).
        lang: ``nl`` or ``en`` for labels.
        missing: records without a value; shown last as :data:`UNKNOWN_VALUE` if > 0.
        formerly_since: a date; community labels then add "(voorheen …)" for ids
            merged or renamed into them since that date.
    """
    counts = {str(b["key"]): b["doc_count"] for b in buckets}
    for value in selected:
        counts.setdefault(value, 0)
    if missing:
        counts[UNKNOWN_VALUE] = missing

    def label(value: str) -> str:
        if value == UNKNOWN_VALUE and missing:
            return UNKNOWN_LABEL.get(lang, UNKNOWN_LABEL["nl"])
        if facet.vocabulary is None:
            return value
        return facet_value_label(facet, taxonomy, value, lang, formerly_since)

    values = [
        {"value": v, "label": label(v), "count": c, "selected": v in selected}
        for v, c in counts.items()
    ]
    return sort_facet_values(facet, values, taxonomy)


def sort_facet_values(facet: Facet, values: list[dict], taxonomy: Taxonomy) -> list[dict]:
    """Order facet values in place and return them (ordered vocabularies keep
    their order).

    Ordered vocabularies (phase, evidence level) keep the vocabulary's order, with
    values outside it (such as "unknown") last; other facets sort by count (high
    first), then label, then value. ``values`` are dicts with ``value``, ``label``
    and ``count``.
    """
    if facet.ordered:
        order = {t.id: t.position for t in taxonomy.terms(facet.vocabulary)}
        values.sort(key=lambda item: (order.get(item["value"], 10**6), item["value"]))
    else:
        values.sort(key=lambda item: (-item["count"], item["label"].casefold(), item["value"]))
    return values


def shape_response(
    response: dict,
    request: SearchRequest,
    resolved: ResolvedFilters,
    taxonomy: Taxonomy,
    lang: str,
    formerly_since=None,
    audience: str = "public",
) -> dict:
    """The API result: ``{"total", "page", "size", "hits", "facets", "renamed"}``.

    ``hits`` are shaped by :func:`~.hits.shape_hit` for ``audience``; ``renamed``
    lists ``(requested_id, [current ids])`` for the caller to turn into notices in
    the user's language.
    """
    aggs = response.get("aggregations", {})
    facets = {}
    for facet in FACETS:
        agg = aggs.get(facet.name, {})
        buckets = agg.get("values", {}).get("buckets", [])
        missing = agg.get("missing", {}).get("doc_count", 0)
        selected = _selected_index_values(facet, request, resolved)
        facets[facet.name] = shape_facet(
            facet, buckets, selected, taxonomy, lang, missing, formerly_since
        )
    return {
        "total": response["hits"]["total"]["value"],
        "page": request.page,
        "size": request.size,
        "hits": [shape_hit(hit, audience) for hit in response["hits"]["hits"]],
        "facets": facets,
        "renamed": resolved.renamed,
    }
