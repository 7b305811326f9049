"""Build the OpenSearch request body for a :class:`~.params.SearchRequest`.

Small pure functions, each testable without a cluster: :func:`text_query` (the
``query``), :func:`facet_filters` (one clause per active facet), :func:`post_filter`,
:func:`aggregations` (disjunctive faceting), :func:`sort_clause`, :func:`highlight`.

A body is composed of named *steps* (``*_step``): each reads a :class:`SearchPlan`
(the request with its filters resolved once, :func:`plan_search`) and returns the
body keys it owns. A caller picks its steps: a result page (:data:`PAGE_STEPS`), a
cursor walk (:data:`CURSOR_STEPS`), an export (:data:`EXPORT_STEPS`), a count for
zero-result help (:data:`COUNT_STEPS`); :func:`compose` joins them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.taxonomy import Taxonomy
from registry.text import normalize, words

from .analysis import Concept, concepts, parse_query, required_matches
from .facets import FACETS, Facet
from .hits import hit_source
from .params import SearchRequest
from .sorts import SORTS_BY_NAME
from .synonyms import EMPTY, SynonymIndex

SYNTAX_FIELDS = (
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
"""The record's own text with boosts: title > summary > keywords > description >
results > organisation; ``.exact`` sub-fields reward unstemmed matches. Quoted phrases
and ``-word`` exclusions search these."""

TEXT_FIELDS = SYNTAX_FIELDS + (
    "title.parts^2",
    "summary.parts^1.5",
    "keywords.parts^1.5",
    "description.parts^0.5",
    "results.parts^0.4",
    "labels_nl^1",
    "labels_nl.exact^0.5",
    "labels_en^1",
)
"""Fields a free word is looked for in: :data:`SYNTAX_FIELDS`, the parts of their
compounds (``.parts``: ``abonnement`` meets ``bibliotheekabonnement``) and the
taxonomy labels in both languages, each weighted below the record's own words."""

MEMBER_TEXT_FIELDS = ("lessons_learned", "lessons_learned.exact", "contact.name")
"""Searched only in ``innovations-members``: the public index does not hold them."""

HIGHLIGHT_FIELDS = ("title", "summary", "description", "results")
WHOLE_FIELDS = ("title", "summary")


def text_fields(audience: str, fields: tuple[str, ...] = TEXT_FIELDS) -> tuple[str, ...]:
    """``fields`` plus the member-only fields for ``audience`` ``members``."""
    return fields + MEMBER_TEXT_FIELDS if audience == "members" else fields


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

    Communities: a merged, renamed or split id resolves to its successor(s) (community
    facet values always show the current taxonomy); the index holds only
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
PROXIMITY_FIELDS = ("title^3", "summary")
"""Where the query's words close together lift a record (``match_phrase`` with slop)."""
PROXIMITY_SLOP = 3
SYNONYM_BOOST = 0.8
"""A thesaurus alternative counts a little less than the word typed."""
PARTS_BOOST = 0.7
"""A compound matched through its parts counts less than the whole word."""
TIE_BREAKER = 0.3
"""Share of the other fields' scores added to the best field's (``multi_match``)."""
ALL_CONCEPTS_BOOST = 1000.0
"""Score added to a record that matches every concept of a query: far above any text
score, so such records come first and text relevance orders them among themselves
(and the rest below them)."""
SYNONYM_FIELDS = ("title^3", "summary^2", "keywords^2", "description", "results",
                  "labels_nl^0.5", "labels_en^0.5")  # fmt: skip
"""Where thesaurus alternatives are looked for: the main fields, without sub-fields
(an alternative is already a second chance; it needs no third)."""
CLAUSE_BUDGET = 800
"""Most term clauses a text query may expand to. OpenSearch refuses a query of more
than 1,024 (``indices.query.bool.max_clause_count``); the typed words always go in,
compound parts and thesaurus alternatives only while the budget lasts, in query
order, so a long query never fails and the first words expand fully."""

# simple_query_string keeps user syntax harmless: only quotes (phrases), "-" (not)
# and whitespace are operators; ( ) * ~ | + \ are searched as plain text.
QUERY_FLAGS = "NOT|PHRASE|WHITESPACE"


def _syntax_query(text: str, fields: tuple[str, ...]) -> dict:
    return {
        "simple_query_string": {
            "query": text,
            "fields": list(fields),
            "default_operator": "and",
            "flags": QUERY_FLAGS,
            "lenient": True,
        }
    }


def _match(text: str, fields: tuple[str, ...], phrase: bool = False, boost: float = 1.0) -> dict:
    clause: dict = {"query": text, "fields": list(fields), "lenient": True}
    if phrase:
        clause.update(type="phrase", slop=1)
    else:
        clause.update(type="best_fields", operator="and", tie_breaker=TIE_BREAKER)
    if boost != 1.0:
        clause["boost"] = boost
    return {"multi_match": clause}


def clause_cost(text: str, fields: tuple[str, ...]) -> int:
    """Term clauses a match of ``text`` over ``fields`` expands to (one per word and
    field; an estimate from above, analyzers may drop words)."""
    return len(fields) * max(1, len(words(text)))


class ClauseBudget:
    """What is left of :data:`CLAUSE_BUDGET` while a query is built."""

    def __init__(self, total: int = CLAUSE_BUDGET):
        self.left = total

    def spend(self, cost: int, required: bool = False) -> bool:
        """Take ``cost`` if it fits (or ``required``); True when taken."""
        if required or cost <= self.left:
            self.left -= cost
            return True
        return False


def concept_clause(
    concept: Concept,
    fields: tuple[str, ...],
    budget: ClauseBudget | None = None,
    spent: bool = False,
) -> dict:
    """The clause one concept matches with: its words, or its compound parts all
    together, or one of its thesaurus alternatives, or (last word) a prefix.

    The typed words always go in (and count against ``budget`` unless ``spent``: the
    caller paid for them); the other options only while the budget lasts.
    """
    budget = budget or ClauseBudget()
    if not spent:
        budget.spend(clause_cost(concept.text, fields), required=True)
    options = [_match(concept.text, fields, phrase=concept.is_phrase)]
    if concept.prefix and budget.spend(clause_cost(concept.text, PREFIX_FIELDS)):
        options.append(_match(concept.text, PREFIX_FIELDS))
    if concept.parts and budget.spend(sum(clause_cost(p, fields) for p in concept.parts)):
        parts = []
        part_synonyms = concept.part_synonyms or tuple(() for _ in concept.parts)
        for part, alternatives in zip(concept.parts, part_synonyms, strict=True):
            either = [_match(part, fields)] + [
                _match(alt, SYNONYM_FIELDS, phrase=True, boost=SYNONYM_BOOST)
                for alt in alternatives
                if budget.spend(clause_cost(alt, SYNONYM_FIELDS))
            ]
            parts.append(either[0] if len(either) == 1 else {"bool": {"should": either}})
        options.append({"bool": {"must": parts, "boost": PARTS_BOOST}})
    for alt in concept.synonyms:
        if budget.spend(clause_cost(alt, SYNONYM_FIELDS)):
            options.append(_match(alt, SYNONYM_FIELDS, phrase=True, boost=SYNONYM_BOOST))
    if len(options) == 1:
        return options[0]
    return {"bool": {"should": options, "minimum_should_match": 1}}


def _fitting(items: list, cost, budget: ClauseBudget) -> list:
    """The leading ``items`` whose ``cost(item)`` fits in ``budget`` (spent)."""
    kept = []
    for item in items:
        if not budget.spend(cost(item)):
            break
        kept.append(item)
    return kept


def text_query(
    q: str,
    fields: tuple[str, ...] = TEXT_FIELDS,
    synonyms: SynonymIndex = EMPTY,
    syntax_fields: tuple[str, ...] = SYNTAX_FIELDS,
) -> dict:
    """The scoring query for ``q``: everything when empty.

    Free words are grouped into concepts (:func:`~.analysis.concepts`: stopwords
    dropped, thesaurus terms expanded, compounds split) of which a record must match
    :func:`~.analysis.required_matches`. Records that match every concept come first
    (:data:`ALL_CONCEPTS_BOOST`); records with the words close together in title or
    summary rank higher. ``"…"`` phrases are required and ``-word`` excludes, on
    :data:`SYNTAX_FIELDS` as typed. No input makes the query fail: other characters
    are text, and what does not fit in :data:`CLAUSE_BUDGET` (only absurdly long
    queries) is left out from the end: phrases and exclusions get half the budget,
    then the concepts' own words, then their expansions.
    """
    parsed = parse_query(q)
    if parsed.empty:
        return {"match_all": {}}
    syntax = ClauseBudget(CLAUSE_BUDGET // 2)
    phrases = _fitting(list(parsed.phrases), lambda t: clause_cost(t, syntax_fields), syntax)
    excluded = _fitting(list(parsed.excluded), lambda t: clause_cost(t, syntax_fields), syntax)
    left = CLAUSE_BUDGET - (CLAUSE_BUDGET // 2 - syntax.left)
    found = concepts(parsed, synonyms)
    if len(found) > 1:
        # the proximity clause takes its share; the every-concept bonus repeats the
        # concept clauses, so they get half of the rest
        left = (left - clause_cost(" ".join(c.text for c in found), PROXIMITY_FIELDS)) // 2
    budget = ClauseBudget(left)
    found = _fitting(found, lambda c: clause_cost(c.text, fields), budget)
    clauses = [concept_clause(concept, fields, budget, spent=True) for concept in found]
    must = [_syntax_query(phrase, syntax_fields) for phrase in phrases]
    if len(clauses) == 1:
        must.insert(0, clauses[0])
    elif clauses:
        required = required_matches(len(clauses))
        must.insert(0, {"bool": {"should": clauses, "minimum_should_match": required}})
    query: dict = {"must": must}
    if excluded:
        query["must_not"] = [_syntax_query(text, syntax_fields) for text in excluded]
    if len(clauses) > 1:
        every = {"bool": {"must": clauses}}
        text = " ".join(c.text for c in found)
        query["should"] = [
            {"constant_score": {"filter": every, "boost": ALL_CONCEPTS_BOOST}},
            {"multi_match": {"query": text, "fields": list(PROXIMITY_FIELDS),
                             "type": "phrase", "slop": PROXIMITY_SLOP}},
        ]  # fmt: skip
    return {"bool": query}


SPELL_FIELD = "spell"
"""The record's own words, folded and unstemmed, gathered for the spelling suggester."""


def spelling(q: str) -> dict:
    """The term suggester for the words of ``q`` that the index does not hold (the
    ``suggest`` section of a search body; :func:`~.analysis.correction` reads it)."""
    return {
        "text": normalize(q),
        "words": {"term": {"field": SPELL_FIELD, "suggest_mode": "missing", "size": 1}},
    }


def is_complete(response: dict, q: str, synonyms: SynonymIndex = EMPTY) -> bool:
    """True when a search found records that match every concept of ``q``.

    With several concepts only such records carry :data:`ALL_CONCEPTS_BOOST` (the body
    tracks scores whatever the sort); with one, any hit matches it.
    """
    if not response["hits"]["total"]["value"]:
        return False
    if len(concepts(parse_query(q), synonyms)) <= 1:
        return True
    return (response["hits"].get("max_score") or 0) >= ALL_CONCEPTS_BOOST


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
    (disjunctive faceting), so selecting a value never zeroes its siblings. The terms
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
    """The sort for ``sort`` (a name of :data:`~.sorts.SORTS`); ties broken by ``id``.
    An unknown name sorts by relevance (the parameter schema refuses it earlier)."""
    return SORTS_BY_NAME.get(sort, SORTS_BY_NAME["relevance"]).sort_clause()


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


@dataclass(frozen=True)
class SearchPlan:
    """What every step of a search body reads: the request and its context.

    ``filters`` holds one clause per facet with a selection (:func:`facet_filters` of
    ``resolved``); ``audience`` (``public``/``members``) chooses the searched and
    highlighted fields; ``synonyms`` is the thesaurus in force.
    """

    request: SearchRequest
    taxonomy: Taxonomy
    audience: str = "public"
    synonyms: SynonymIndex = EMPTY
    resolved: ResolvedFilters = field(default_factory=ResolvedFilters)
    filters: dict[str, dict] = field(default_factory=dict)


def plan_search(
    request: SearchRequest,
    taxonomy: Taxonomy,
    audience: str = "public",
    synonyms: SynonymIndex = EMPTY,
) -> SearchPlan:
    """Resolve the facet selections of ``request`` once (:func:`resolve_filters`) for
    the steps that build its body."""
    resolved = resolve_filters(request, taxonomy)
    return SearchPlan(request, taxonomy, audience, synonyms, resolved, facet_filters(resolved))


def _scored_query(plan: SearchPlan) -> dict:
    return text_query(
        plan.request.q,
        text_fields(plan.audience),
        plan.synonyms,
        text_fields(plan.audience, SYNTAX_FIELDS),
    )


def text_query_step(plan: SearchPlan) -> dict:
    """``query``: the scoring text query (:func:`text_query`)."""
    return {"query": _scored_query(plan)}


def scores_step(plan: SearchPlan) -> dict:
    """``track_scores`` when there are words, so :func:`is_complete` can read the
    best score whatever the sort."""
    return {"track_scores": True} if plan.request.q else {}


def filtered_query_step(plan: SearchPlan) -> dict:
    """``query``: the text query with every facet filter applied in the query itself,
    for searches without facet counts (exports, statistics): the same hits as
    :func:`text_query_step` plus :func:`post_filter_step`."""
    query = _scored_query(plan)
    if plan.filters:
        query = {"bool": {"must": [query], "filter": list(plan.filters.values())}}
    return {"query": query}


def aggregations_step(plan: SearchPlan) -> dict:
    """``aggs``: the disjunctive facet counts (:func:`aggregations`)."""
    return {"aggs": aggregations(plan.filters, plan.taxonomy)}


def post_filter_step(plan: SearchPlan) -> dict:
    """``post_filter``: the facet filters applied to hits after the counts; nothing
    when no facet is selected."""
    clause = post_filter(plan.filters)
    return {"post_filter": clause} if clause else {}


def sort_step(plan: SearchPlan) -> dict:
    """``sort``: the request's effective sort (:func:`sort_clause`)."""
    return {"sort": sort_clause(plan.request.effective_sort)}


def paging_step(plan: SearchPlan) -> dict:
    """``from`` and ``size`` of the request's page."""
    return {"from": plan.request.offset, "size": plan.request.size}


def batch_step(plan: SearchPlan) -> dict:
    """``size`` alone: a walk with ``search_after`` (cursor, export) has no offset."""
    return {"size": plan.request.size}


def count_step(plan: SearchPlan) -> dict:
    """``track_total_hits``: the exact total, not a lower bound past 10,000."""
    return {"track_total_hits": True}


def count_only_step(plan: SearchPlan) -> dict:
    """``size: 0`` with the exact total: a search that only counts."""
    return {"size": 0, "track_total_hits": True}


def source_step(plan: SearchPlan) -> dict:
    """``_source``: the fields of a result list for the plan's audience, from the hit
    declaration (:func:`~.hits.hit_source`)."""
    return {"_source": list(hit_source(plan.audience))}


def highlight_step(plan: SearchPlan) -> dict:
    """``highlight`` of the matched words, when there are words."""
    return {"highlight": highlight(plan.audience)} if plan.request.q else {}


def spelling_step(plan: SearchPlan) -> dict:
    """``suggest``: the spelling suggester, when there are words."""
    return {"suggest": spelling(plan.request.q)} if plan.request.q else {}


PAGE_STEPS = (
    text_query_step,
    aggregations_step,
    sort_step,
    paging_step,
    count_step,
    source_step,
    post_filter_step,
    highlight_step,
    scores_step,
    spelling_step,
)
"""A page of the search page and the API: hits, facet counts, highlights, spelling."""
CORRECTED_PAGE_STEPS = tuple(step for step in PAGE_STEPS if step is not spelling_step)
"""The same page for a corrected query (a correction is not corrected again)."""
CURSOR_STEPS = (
    text_query_step,
    aggregations_step,
    sort_step,
    batch_step,
    count_step,
    source_step,
    post_filter_step,
    highlight_step,
    scores_step,
)
"""One page of a cursor walk: a page without offset (``search_after`` moves on) and
without spelling correction."""
EXPORT_STEPS = (filtered_query_step, sort_step, batch_step, count_step, source_step)
"""A batch of an export: the hits in order, no counts, highlights or spelling."""
COUNT_STEPS = (text_query_step, post_filter_step, count_only_step)
"""Only the total of a search (what a filter hides, for zero-result help)."""


def compose(plan: SearchPlan, steps) -> dict:
    """The search body made of ``steps``, in order: each step is a pure function of
    ``plan`` returning the body keys it owns; a later step may replace an earlier
    one's key (e.g. :func:`count_only_step` after a paging step).

    Returns:
        a new body dict, ready for ``client.search(body=…)``.
    """
    body: dict = {}
    for step in steps:
        body.update(step(plan))
    return body


def build_search_body(
    request: SearchRequest,
    taxonomy: Taxonomy,
    audience: str = "public",
    synonyms: SynonymIndex = EMPTY,
) -> tuple[dict, ResolvedFilters]:
    """The body of one result page (:data:`PAGE_STEPS`) and the filters it resolved to.

    Returns:
        ``(body, resolved)``; ``body`` is ready for ``client.search(body=…)``.
    """
    plan = plan_search(request, taxonomy, audience, synonyms)
    return compose(plan, PAGE_STEPS), plan.resolved
