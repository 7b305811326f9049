"""Build the OpenSearch request body for a :class:`~.params.SearchRequest`.

A pipeline of small pure steps, each testable without a cluster:
:func:`text_query` (the ``query``), :func:`facet_filters` (one clause per active
facet), :func:`post_filter`, :func:`aggregations` (disjunctive faceting),
:func:`sort_clause`, :func:`highlight`. :func:`build_search_body` chains them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.taxonomy import Taxonomy

from .facets import FACETS, Facet
from .params import SearchRequest

TEXT_FIELDS = (
    "title^8",
    "title.exact^4",
    "summary^5",
    "summary.exact^2",
    "keywords^4",
    "keywords.exact^2",
    "description^2",
    "description.exact",
    "results^1.5",
    "results.exact",
    "organisation^1.2",
    "organisation.exact",
    "programmes.text",
)
"""Searched fields with boosts: title > summary > keywords > description > results >
organisation (issue #3); ``.exact`` sub-fields reward unstemmed matches."""

MEMBER_TEXT_FIELDS = ("lessons_learned", "lessons_learned.exact", "contact.name")
"""Searched only in ``innovations-members``: the public index does not hold them."""

HIGHLIGHT_FIELDS = ("title", "summary", "description", "results")
WHOLE_FIELDS = ("title", "summary")


def text_fields(audience: str) -> tuple[str, ...]:
    """Searched fields for ``audience`` (``public`` or ``members``)."""
    return TEXT_FIELDS + MEMBER_TEXT_FIELDS if audience == "members" else TEXT_FIELDS


RESULT_SOURCE = (
    "id", "title", "summary", "priorities", "communities", "phase", "innovation_type",
    "target_groups", "evidence_level", "province", "organisation", "url", "created",
)  # fmt: skip
"""Fields fetched for a result list (the API's hit shape)."""

# simple_query_string keeps user syntax harmless: only quotes (phrases), "-" (not)
# and whitespace are operators; ( ) * ~ | + \ are searched as plain text.
QUERY_FLAGS = "NOT|PHRASE|WHITESPACE"


@dataclass
class ResolvedFilters:
    """Index values per facet after taxonomy resolution, plus what was resolved.

    ``values`` maps facet name to the ids to filter on; ``renamed`` lists
    ``(requested_id, [current_ids])`` for historical community ids.
    """

    values: dict[str, list[str]] = field(default_factory=dict)
    renamed: list[tuple[str, list[str]]] = field(default_factory=list)


def resolve_filters(request: SearchRequest, taxonomy: Taxonomy) -> ResolvedFilters:
    """Map URL facet values to index values.

    Communities: a merged, renamed or split id resolves to its successor(s) (DESIGN.md,
    "Community facet values always show the current taxonomy"); the index holds only
    current ids.
    """
    resolved = ResolvedFilters()
    for facet in FACETS:
        selected = request.selected(facet)
        if not selected:
            continue
        if facet.name != "community":
            resolved.values[facet.name] = list(selected)
            continue
        ids: list[str] = []
        for value in selected:
            current = taxonomy.resolve_community(value)
            if current != [value]:
                resolved.renamed.append((value, current))
            ids.extend(c for c in current if c not in ids)
        resolved.values[facet.name] = ids
    return resolved


PREFIX_FIELDS = ("title.prefix^3", "keywords.prefix")
"""Edge-n-gram fields that let the last word complete as a prefix."""
MIN_PREFIX_CHARS = 2


def split_last_word(q: str) -> tuple[str, str | None]:
    """Split ``q`` into the text before the last word and the last word.

    The last word completes as a prefix only while it is being typed: not after a
    trailing space, not inside an open phrase, not when it is an exclusion
    (``-word``) or shorter than :data:`MIN_PREFIX_CHARS`. Returns ``(q, None)`` then.
    """
    if not q or q[-1].isspace() or q.count('"') % 2:
        return q, None
    head, _, last = q.rpartition(" ")
    if last.startswith("-") or '"' in last or len(last) < MIN_PREFIX_CHARS:
        return q, None
    if not any(ch.isalnum() for ch in last):
        return q, None
    return head.strip(), last


def _simple_query(text: str, fields: tuple[str, ...]) -> dict:
    return {
        "simple_query_string": {
            "query": text,
            "fields": list(fields),
            "default_operator": "and",
            "flags": QUERY_FLAGS,
            "lenient": True,
        }
    }


def text_query(q: str, fields: tuple[str, ...] = TEXT_FIELDS) -> dict:
    """The scoring query for ``q``: everything when empty, else simple_query_string.

    Words combine with AND; ``"…"`` is a phrase and ``-word`` excludes; no other
    character is an operator, so no user input can make the query fail. The last
    word also matches as a prefix of title and keyword words (``leesbev`` finds
    ``leesbevordering``), see :func:`split_last_word`.
    """
    if not q.strip():
        return {"match_all": {}}
    head, last = split_last_word(q)
    if last is None:
        return _simple_query(q, fields)
    last_word = {
        "bool": {
            "should": [
                _simple_query(last, fields),
                {"multi_match": {"query": last, "fields": list(PREFIX_FIELDS), "operator": "and"}},
            ],
            "minimum_should_match": 1,
        }
    }
    must = [_simple_query(head, fields), last_word] if head else [last_word]
    return {"bool": {"must": must}}


def facet_filter(facet: Facet, values: list[str]) -> dict:
    """The filter clause for one facet: OR within the facet, "at least N" if ordinal.

    An empty ``values`` (e.g. a retired community without successor) matches nothing.
    """
    if facet.at_least:
        return {"range": {facet.field: {"gte": int(values[0])}}}
    if not values:
        return {"bool": {"must_not": {"match_all": {}}}}
    return {"terms": {facet.field: values}}


def facet_filters(resolved: ResolvedFilters) -> dict[str, dict]:
    """``{facet name: filter clause}`` for every facet with a selection."""
    by_name = {facet.name: facet for facet in FACETS}
    return {name: facet_filter(by_name[name], values) for name, values in resolved.values.items()}


def post_filter(filters: dict[str, dict]) -> dict | None:
    """All facet filters ANDed, applied to hits after aggregations (None if no filter)."""
    if not filters:
        return None
    return {"bool": {"filter": list(filters.values())}}


def aggregations(filters: dict[str, dict], taxonomy: Taxonomy) -> dict:
    """One filtered aggregation per facet: disjunctive faceting.

    Each facet's counts apply every *other* facet's filter but not its own
    (DESIGN.md, "Facets"), so selecting a value never zeroes its siblings. The terms
    size follows the vocabulary (no silent cut at the default 10).
    """
    aggs = {}
    for facet in FACETS:
        others = [clause for name, clause in filters.items() if name != facet.name]
        size = len(taxonomy.terms(facet.vocabulary)) if facet.vocabulary else facet.max_values
        inner = {"values": {"terms": {"field": facet.field, "size": max(size, 1)}}}
        if facet.count_missing:
            inner["missing"] = {"missing": {"field": facet.field}}
        aggs[facet.name] = {
            "filter": {"bool": {"filter": others}} if others else {"match_all": {}},
            "aggs": inner,
        }
    return aggs


def sort_clause(sort: str) -> list:
    """The sort for ``sort`` (one of :data:`~.params.SORTS`); ties broken by ``id``."""
    tie = {"id": "asc"}
    if sort == "newest":
        return [{"created": {"order": "desc", "missing": "_last"}}, tie]
    if sort == "title":
        return [{"title_sort": "asc"}, tie]
    if sort == "evidence":
        return [{"evidence_level": {"order": "desc", "missing": "_last"}}, "_score", tie]
    return ["_score", {"created": {"order": "desc", "missing": "_last"}}, tie]


def highlight(audience: str = "public") -> dict:
    """Highlighting of matched fields; ``encoder: html`` escapes the text.

    Members also get highlights in lessons learned; the public alias has no such field.
    """
    names = HIGHLIGHT_FIELDS + (("lessons_learned",) if audience == "members" else ())
    return {
        "encoder": "html",
        "pre_tags": ["<mark>"],
        "post_tags": ["</mark>"],
        "fields": {
            # titles and summaries are shown whole; longer texts as two fragments
            name: {"number_of_fragments": 0 if name in WHOLE_FIELDS else 2, "fragment_size": 160}
            for name in names
        },
    }


def build_search_body(
    request: SearchRequest, taxonomy: Taxonomy, audience: str = "public"
) -> tuple[dict, ResolvedFilters]:
    """The complete search body for ``request`` and the filters it resolved to.

    ``audience`` (``public``/``members``) chooses the searched and highlighted fields.

    Returns:
        ``(body, resolved)``; ``body`` is ready for ``client.search(body=…)``.
    """
    resolved = resolve_filters(request, taxonomy)
    filters = facet_filters(resolved)
    body: dict = {
        "query": text_query(request.q, text_fields(audience)),
        "aggs": aggregations(filters, taxonomy),
        "sort": sort_clause(request.effective_sort),
        "from": request.offset,
        "size": request.size,
        "track_total_hits": True,
        "_source": list(RESULT_SOURCE),
    }
    pf = post_filter(filters)
    if pf:
        body["post_filter"] = pf
    if request.q:
        body["highlight"] = highlight(audience)
    return body, resolved
