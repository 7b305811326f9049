"""Run searches and look-ups against the alias of the caller's audience.

Anonymous callers only ever reach ``innovations-public`` (docs/architecture.md): restricted
values cannot leak because that index does not hold them. Every function here
takes the audience explicitly; the views decide it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from opensearchpy import NotFoundError, OpenSearch
from opensearchpy.exceptions import RequestError

from indexer.client import IndexNames
from registry.schemas import is_record_id
from registry.taxonomy import Taxonomy
from registry.text import fold, normalize

from .analysis import correction, default_decompounder
from .facets import FACETS
from .params import SearchParamError, SearchRequest
from .query import (
    CORRECTED_PAGE_STEPS,
    COUNT_STEPS,
    CURSOR_STEPS,
    EXPORT_STEPS,
    PAGE_STEPS,
    compose,
    is_complete,
    plan_search,
)
from .results import shape_response
from .synonyms import EMPTY, SynonymIndex

PIT_KEEP_ALIVE = "2m"
"""How long a point in time stays open between two pages of a cursor walk."""
CURSOR_MAX_AGE_S = 120
"""How long a ``next_cursor`` is accepted, seconds: the point in time it names lives
:data:`PIT_KEEP_ALIVE` after the page that made it, so an older cursor is stale."""
MAX_CURSOR_CHARS = 4000
"""Longest cursor accepted; a real one (a point-in-time id and sort values) is far
shorter, and a longer one is refused before any decoding work."""
_CURSOR_SALT = "search-cursor"
EXPORT_BATCH = 500
"""Documents fetched per round trip while streaming an export."""


def search(
    client: OpenSearch,
    names: IndexNames,
    audience: str,
    request: SearchRequest,
    taxonomy: Taxonomy,
    lang: str,
    formerly_since=None,
    synonyms: SynonymIndex = EMPTY,
) -> dict:
    """Search the ``audience`` alias; returns :func:`~.results.shape_response`'s dict.

    ``formerly_since`` (a date) turns on "(voorheen …)" community labels; ``synonyms``
    is the thesaurus in force.

    Misspelt words (missing from the index, not stopwords, thesaurus terms or known
    Dutch words: :func:`~.analysis.correction`) are corrected when the query finds
    nothing, or finds no record with every concept while the corrected query does;
    the result is then the corrected search's, with ``corrected_query``. A request with
    ``correct`` false is searched as typed. With zero hits the result also carries
    ``did_you_mean`` (a corrected query or None) and ``without_filter`` (for each
    active facet, the total you would get by removing that facet's selection), from
    :func:`zero_result_help`.

    Raises:
        opensearchpy.exceptions.ConnectionError: the cluster is unreachable (the
            portal answers 503).
    """
    alias = names.alias(audience)
    plan = plan_search(request, taxonomy, audience, synonyms)
    resolved = plan.resolved
    body = compose(plan, PAGE_STEPS)
    response = client.search(index=alias, body=body)
    result = shape_response(response, request, resolved, taxonomy, lang, formerly_since, audience)
    corrected = None
    if "suggest" in response:
        known = default_decompounder().known
        corrected = correction(
            body["suggest"]["text"], response["suggest"]["words"], synonyms, known
        )
    if corrected and request.correct and not is_complete(response, request.q, synonyms):
        fixed_plan = replace(plan, request=replace(request, q=corrected))
        fixed_body = compose(fixed_plan, CORRECTED_PAGE_STEPS)
        fixed = client.search(index=alias, body=fixed_body)
        if fixed["hits"]["total"]["value"] and (
            not result["total"] or is_complete(fixed, corrected, synonyms)
        ):
            result = shape_response(
                fixed, request, resolved, taxonomy, lang, formerly_since, audience
            )
            result["corrected_query"] = corrected
            return result
    if result["total"]:
        return result
    result.update(zero_result_help(client, names, audience, request, taxonomy, synonyms))
    result["did_you_mean"] = corrected
    return result


def zero_result_help(
    client: OpenSearch,
    names: IndexNames,
    audience: str,
    request: SearchRequest,
    taxonomy: Taxonomy,
    synonyms: SynonymIndex = EMPTY,
) -> dict:
    """Which filter stands between a search and its hits.

    Returns:
        ``{"without_filter": [{"facet", "param", "total"}]}``: the hits with one
        facet's selection dropped, in :data:`~.facets.FACETS` order.
    """
    alias = names.alias(audience)
    searches: list[dict] = []
    active = [facet for facet in FACETS if request.selected(facet)]
    for facet in active:
        plan = plan_search(request.without(facet.name), taxonomy, audience, synonyms)
        searches += [{"index": alias}, compose(plan, COUNT_STEPS)]
    without = []
    if searches:
        responses = client.msearch(body=searches)["responses"]
        for facet, response in zip(active, responses, strict=True):
            total = response.get("hits", {}).get("total", {}).get("value", 0)
            without.append({"facet": facet.name, "param": facet.url_param, "total": total})
    return {"without_filter": without}


def get_document(
    client: OpenSearch, names: IndexNames, audience: str, record_id: str
) -> dict | None:
    """The indexed document ``record_id`` in the ``audience`` alias, or None.

    An id that no record can have (too long, not a slug; see
    :func:`registry.schemas.is_record_id`) is None without asking the cluster.
    """
    if not is_record_id(record_id):
        return None
    try:
        response = client.get(index=names.alias(audience), id=record_id)
    except NotFoundError:
        return None
    return response["_source"]


def related(
    client: OpenSearch, names: IndexNames, audience: str, record_id: str, size: int = 5
) -> list[dict]:
    """Up to ``size`` innovations like ``record_id`` (more_like_this on public text).

    Returns hits in the API's hit shape (without highlight).
    """
    body = {
        "size": size,
        "_source": ["id", "title", "summary", "organisation", "province", "phase"],
        "query": {
            "more_like_this": {
                "fields": ["title", "summary", "description", "keywords"],
                "like": [{"_id": record_id}],
                "min_term_freq": 1,
                "min_doc_freq": 2,
                "max_query_terms": 25,
                # short records share few terms: the default 30% finds nothing
                "minimum_should_match": "10%",
            }
        },
    }
    try:
        response = client.search(index=names.alias(audience), body=body)
    except (NotFoundError, RequestError):
        return []
    return [hit["_source"] for hit in response["hits"]["hits"]]


def autocomplete(
    client: OpenSearch, names: IndexNames, audience: str, prefix: str, size: int = 8
) -> list[dict]:
    """Titles and keywords that start with the words of ``prefix`` (edge n-grams).

    Returns:
        ``[{"text": str, "kind": "title" | "keyword", "id": str | None}]``; titles
        link to their innovation, keywords are search suggestions.
    """
    prefix = normalize(prefix).strip()
    if not prefix:
        return []
    title_match = {"match": {"title.prefix": {"query": prefix, "operator": "and"}}}
    keyword_match = {"match": {"keywords.prefix": {"query": prefix, "operator": "and"}}}
    body = {
        "size": size,
        "_source": ["id", "title"],
        # the aggregation sees title and keyword matches; post_filter keeps title hits
        "query": {"bool": {"should": [title_match, keyword_match], "minimum_should_match": 1}},
        "post_filter": title_match,
        "aggs": {
            "keywords": {
                "filter": keyword_match,
                "aggs": {"top": {"terms": {"field": "keywords.raw", "size": 50}}},
            }
        },
    }
    response = client.search(index=names.alias(audience), body=body)
    out = [
        {"text": hit["_source"]["title"], "kind": "title", "id": hit["_source"]["id"]}
        for hit in response["hits"]["hits"]
    ]
    out = out[:size]
    typed = fold(prefix).split()
    for bucket in response["aggregations"]["keywords"]["top"]["buckets"]:
        keyword = bucket["key"]
        tokens = fold(keyword).split()
        if all(any(t.startswith(w) for t in tokens) for w in typed):
            out.append({"text": keyword, "kind": "keyword", "id": None})
    return out[: size * 2]


class CursorError(SearchParamError):
    """A cursor that cannot continue a walk (HTTP 400).

    ``code``: ``invalid_cursor`` (malformed, forged or altered), ``cursor_expired``
    (older than :data:`CURSOR_MAX_AGE_S` or its point in time is gone) or
    ``cursor_foreign`` (made for another audience or alias).
    """

    codes = ("invalid_cursor", "cursor_expired", "cursor_foreign")

    def __init__(self, message: str, code: str = "invalid_cursor"):
        super().__init__(code, message, "cursor")


def _cursor_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_CURSOR_SALT)


def _encode_cursor(secret: str, audience: str, alias: str, pit_id: str, after: list) -> str:
    """A signed, timestamped cursor naming ``pit_id`` and the last hit's sort values.

    The audience and the alias are signed in, so a cursor only continues the walk of
    the caller kind it was made for (a member's cursor is no key to the members'
    index for an anonymous caller).
    """
    payload = {"aud": audience, "alias": alias, "pit": pit_id, "after": after}
    return _cursor_serializer(secret).dumps(payload)


def _valid_after(after) -> bool:
    # sort values of a hit are scalars (score, keyword, number, id); null would make
    # OpenSearch fail the whole search
    return (
        isinstance(after, list)
        and 0 < len(after) <= 10
        and all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in after)
    )


def _decode_cursor(
    secret: str, audience: str, alias: str, cursor: str, max_age_s: int = CURSOR_MAX_AGE_S
) -> tuple[str, list]:
    """``(pit_id, search_after)`` of a cursor made by :func:`_encode_cursor`.

    Raises:
        CursorError: the cursor is too long, not signed with ``secret`` (forged or
            altered), older than ``max_age_s`` seconds, made for another audience or
            alias, or carries no usable sort values.
    """
    if len(cursor) > MAX_CURSOR_CHARS:
        raise CursorError("cursor: not a cursor from this API")
    try:
        data = _cursor_serializer(secret).loads(cursor, max_age=max_age_s)
    except SignatureExpired:
        raise CursorError(
            "cursor: expired; start again with cursor=start", "cursor_expired"
        ) from None
    except (BadSignature, RecursionError, ValueError):
        raise CursorError("cursor: not a cursor from this API") from None
    if not isinstance(data, dict) or not isinstance(data.get("pit"), str):
        raise CursorError("cursor: not a cursor from this API")
    if data.get("aud") != audience or data.get("alias") != alias:
        raise CursorError(
            "cursor: made for another caller; start again with cursor=start", "cursor_foreign"
        )
    if not _valid_after(data.get("after")):
        raise CursorError("cursor: not a cursor from this API")
    return data["pit"], data["after"]


def search_with_cursor(
    client: OpenSearch,
    names: IndexNames,
    audience: str,
    request: SearchRequest,
    taxonomy: Taxonomy,
    lang: str,
    cursor: str,
    secret: str,
    synonyms: SynonymIndex = EMPTY,
) -> dict:
    """One page of a cursor walk (point in time + ``search_after``).

    Args:
        cursor: ``"start"`` to open a walk, else the ``next_cursor`` of the previous
            page. The other parameters must be the same on every page.
        secret: the key that signs cursors (the app's ``SECRET_KEY``).
    Returns:
        the API result plus ``next_cursor`` (None on the last page, when the point
        in time is closed). ``page`` is ignored.
    Raises:
        CursorError: a cursor that is malformed, forged, stale, made for another
            audience or alias (see :func:`_decode_cursor`), or whose point in time
            is gone.
    """
    alias = names.alias(audience)
    plan = plan_search(request, taxonomy, audience, synonyms)
    resolved = plan.resolved
    body = compose(plan, CURSOR_STEPS)
    if cursor == "start":
        pit_id = client.create_pit(index=alias, params={"keep_alive": PIT_KEEP_ALIVE})["pit_id"]
        after = None
    else:
        pit_id, after = _decode_cursor(secret, audience, alias, cursor)
    body["pit"] = {"id": pit_id, "keep_alive": PIT_KEEP_ALIVE}
    if after:
        body["search_after"] = after
    try:
        response = client.search(body=body)
    except (NotFoundError, RequestError):
        raise CursorError(
            "cursor: expired or invalid; start again with cursor=start", "cursor_expired"
        ) from None
    result = shape_response(
        response, replace(request, page=1), resolved, taxonomy, lang, audience=audience
    )
    hits = response["hits"]["hits"]
    pit_id = response.get("pit_id", pit_id)
    if len(hits) < request.size:
        # the walk is over: free the point in time now rather than at its keep-alive
        _close_pit(client, pit_id)
        result["next_cursor"] = None
    else:
        result["next_cursor"] = _encode_cursor(secret, audience, alias, pit_id, hits[-1]["sort"])
    return result


def _close_pit(client: OpenSearch, pit_id: str) -> None:
    with contextlib.suppress(NotFoundError):
        client.delete_pit(body={"pit_id": [pit_id]})


def iter_hits(
    client: OpenSearch,
    names: IndexNames,
    audience: str,
    request: SearchRequest,
    taxonomy: Taxonomy,
    fields: list[str] | None = None,
    synonyms: SynonymIndex = EMPTY,
) -> Iterator[dict]:
    """Every hit of ``request`` in its sort order, streamed ``EXPORT_BATCH`` at a time.

    Uses a point in time so the walk sees one consistent snapshot; memory stays
    flat whatever the number of hits. ``fields`` selects ``_source`` fields (default:
    the result fields). Yields ``_source`` dicts.
    """
    batch = replace(request, size=EXPORT_BATCH, page=1)
    body = compose(plan_search(batch, taxonomy, audience, synonyms), EXPORT_STEPS)
    if fields:
        body["_source"] = fields
    pit_id = client.create_pit(index=names.alias(audience), params={"keep_alive": PIT_KEEP_ALIVE})[
        "pit_id"
    ]
    try:
        while True:
            body["pit"] = {"id": pit_id, "keep_alive": PIT_KEEP_ALIVE}
            response = client.search(body=body)
            pit_id = response.get("pit_id", pit_id)
            hits = response["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]
            if len(hits) < EXPORT_BATCH:
                return
            body["search_after"] = hits[-1]["sort"]
    finally:
        _close_pit(client, pit_id)
