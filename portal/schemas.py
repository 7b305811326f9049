"""Marshmallow views of records for the JSON API (what each audience may see)."""

from __future__ import annotations

from marshmallow import Schema, fields

from .search.hits import hit_schema


class PublicInnovationView(Schema):
    """An innovation's public fields (``data/README.md``); communities are current ids."""

    id = fields.String()
    title = fields.String()
    summary = fields.String()
    description = fields.String()
    results = fields.String(allow_none=True)
    priorities = fields.List(fields.String())
    communities = fields.List(fields.String())
    phase = fields.String()
    innovation_type = fields.String()
    target_groups = fields.List(fields.String())
    evidence_level = fields.Integer(allow_none=True)
    organisation = fields.String()
    province = fields.String()
    places_applied = fields.Integer(allow_none=True)
    start_year = fields.Integer(allow_none=True)
    programmes = fields.List(fields.String())
    url = fields.String(allow_none=True)
    keywords = fields.List(fields.String())
    last_verified = fields.String(allow_none=True)
    created = fields.String(allow_none=True)
    status = fields.String()


class ContactView(Schema):
    """A contact person (member field)."""

    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class MemberInnovationView(PublicInnovationView):
    """Public fields plus the member fields; never ``internal_notes`` (editors only)."""

    contact = fields.Nested(ContactView, allow_none=True)
    budget_eur = fields.Integer(allow_none=True)
    lessons_learned = fields.String(allow_none=True)


class FacetValueView(Schema):
    """One facet value with its label in the request's language."""

    value = fields.String(metadata={"description": "stable id (evidence: the level)"})
    label = fields.String()
    count = fields.Integer(metadata={"description": "hits with every other facet's filter"})
    selected = fields.Boolean()


SearchHitView = hit_schema("public")
"""One search result: derived from the hit declaration (:mod:`portal.search.hits`)."""


class FilterRelaxationView(Schema):
    """How many hits a zero-result search would have without one facet's filter."""

    facet = fields.String()
    param = fields.String()
    total = fields.Integer()


class SearchResultView(Schema):
    """The answer of ``GET /api/v1/search`` (the stable HTTP contract)."""

    total = fields.Integer()
    page = fields.Integer()
    size = fields.Integer()
    hits = fields.List(fields.Nested(SearchHitView))
    facets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FacetValueView)))
    notices = fields.List(fields.String())
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "only with cursor=…; null on the last page"}
    )
    corrected_query = fields.String(
        metadata={"description": "only when q found nothing and this corrected query did: "
                                 "the hits are the corrected query's"}
    )  # fmt: skip
    did_you_mean = fields.String(allow_none=True, metadata={"description": "only with 0 hits"})
    without_filter = fields.List(
        fields.Nested(FilterRelaxationView), metadata={"description": "only with 0 hits"}
    )


class SuggestionView(Schema):
    """An autocomplete suggestion: a title (with its id) or a keyword."""

    text = fields.String()
    kind = fields.String(metadata={"enum": ["title", "keyword"]})
    id = fields.String(allow_none=True)


class AutocompleteView(Schema):
    """The answer of ``GET /api/v1/autocomplete``."""

    suggestions = fields.List(fields.Nested(SuggestionView))


class ErrorDetailView(Schema):
    """What went wrong: a machine ``code``, a human ``message``, the ``field``."""

    code = fields.String()
    message = fields.String()
    field = fields.String()


class ErrorView(Schema):
    """Every 4xx/5xx answer of the JSON API."""

    error = fields.Nested(ErrorDetailView)
