"""The one declaration of a search hit (see docs/architecture.md, "A search request").

:data:`HIT_FIELDS` names every field of a result in the record's own words
(``innovation_type``, ``evidence_level``), in the order the API answers with them, and
says of each whether it is always there, whether it holds a list, which facet's labels
name its values and whether only members may see it. From it come:

- :func:`hit_source` — the ``_source`` fields a result list asks OpenSearch for;
- :func:`shape_hit` — one OpenSearch hit in the API's hit shape (the page renders the
  same dicts);
- :func:`hit_schema` — the marshmallow schema of a hit (``SearchHitView`` in the
  OpenAPI document).

The API keeps its documented field names (``type`` for ``innovation_type``, the stable
HTTP contract): :data:`API_FIELD_NAMES` is the one place that renames a record field at
the edge. Shaping runs for every hit of every search, so the field plan is computed
once per process and per audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from marshmallow import Schema, fields

from registry.statuses import AUDIENCES

API_FIELD_NAMES = {"innovation_type": "type"}
"""Record field → the name the JSON API and the page give it in a hit, where they
differ; every other field keeps the record's name."""


@dataclass(frozen=True)
class HitField:
    """One field of a search hit.

    Attributes:
        name: the record's (and the index's) field name.
        kind: ``text`` (a string), ``terms`` (a list of ids), ``term`` (one id),
            ``level`` (an integer) or ``date`` (an ISO date string).
        required: every indexed record has it; a hit without it is an error
            (``KeyError``), not an empty value.
        facet: the facet (:data:`~.facets.FACETS` name) whose vocabulary gives the
            value's labels, or None for plain values.
        member_only: only in hits for logged-in members (the members' index holds it).
        nullable: the API documents ``null`` for a record without it.
        description: what the OpenAPI document says of the field.
    """

    name: str
    kind: str = "text"
    required: bool = False
    facet: str | None = None
    member_only: bool = False
    nullable: bool = False
    description: str = ""

    @property
    def api_name(self) -> str:
        """The field's name in the JSON API (:data:`API_FIELD_NAMES`)."""
        return API_FIELD_NAMES.get(self.name, self.name)

    def schema_field(self) -> fields.Field:
        """The marshmallow field documenting this field in the API schema."""
        metadata = {"description": self.description} if self.description else {}
        if self.kind == "terms":
            return fields.List(fields.String(), metadata=metadata)
        if self.kind == "level":
            return fields.Integer(allow_none=self.nullable, metadata=metadata)
        return fields.String(allow_none=self.nullable, metadata=metadata)


HIT_FIELDS: tuple[HitField, ...] = (
    HitField("id", required=True),
    HitField("title", required=True),
    HitField("summary", required=True),
    HitField("priorities", "terms", facet="priority"),
    HitField("communities", "terms", facet="community"),
    HitField("phase", "term", facet="phase"),
    HitField("innovation_type", "term", facet="type"),
    HitField("target_groups", "terms", facet="target"),
    HitField("evidence_level", "level", facet="evidence", nullable=True),
    HitField("province", "term", facet="province"),
    HitField("organisation"),
    HitField("url", nullable=True),
    HitField("created", "date", nullable=True, description="ISO date"),
)
"""Every field of a search hit, in the order of the API's answer."""

HIGHLIGHT = "highlight"
"""The hit's last key: matched words per field (not a record field)."""


def hit_fields(audience: str = "public") -> tuple[HitField, ...]:
    """The fields of a hit for ``audience`` (``public`` or ``members``): member-only
    fields only for members.

    Raises:
        ValueError: an unknown audience.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"audience: one of {AUDIENCES}, not {audience!r}")
    return tuple(f for f in HIT_FIELDS if audience == "members" or not f.member_only)


@cache
def hit_source(audience: str = "public") -> tuple[str, ...]:
    """The ``_source`` fields a result list asks for: every field of
    :func:`hit_fields` by its record name. Computed once per audience."""
    return tuple(f.name for f in hit_fields(audience))


@cache
def _plan(audience: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, bool], ...]]:
    """``(required, optional)``: ``(api name, record name)`` of the required fields and
    ``(api name, record name, is a list)`` of the others, for :func:`shape_hit`.

    Raises:
        ValueError: a required field is declared after an optional one (the hit's keys
            would then not follow the declaration).
    """
    declared = hit_fields(audience)
    leading = next((i for i, f in enumerate(declared) if not f.required), len(declared))
    if any(f.required for f in declared[leading:]):
        raise ValueError("HIT_FIELDS: declare the required fields first")
    required = tuple((f.api_name, f.name) for f in declared[:leading])
    optional = tuple((f.api_name, f.name, f.kind == "terms") for f in declared[leading:])
    return required, optional


def shape_hit(hit: dict, audience: str = "public") -> dict:
    """One OpenSearch hit (``_source``, optional ``highlight``) in the API's hit shape:
    ``{api name: value}`` in :data:`HIT_FIELDS` order, then ``highlight`` (field →
    HTML fragments, ``{}`` without words).

    A missing list field is ``[]``, another missing optional field ``None``. Runs for
    every hit of every search: the field plan is computed once per audience
    (:func:`_plan`) and nothing is validated here (tests dump real answers through
    :func:`hit_schema` instead; a marshmallow ``dump`` per hit costs about twenty times
    this function).

    Raises:
        KeyError: a required field is missing from ``_source``.
    """
    required, optional = _plan(audience)
    src = hit["_source"]
    get = src.get
    shaped = {api: src[name] for api, name in required}
    for api, name, many in optional:
        shaped[api] = get(name, [] if many else None)
    shaped[HIGHLIGHT] = hit.get(HIGHLIGHT, {})
    return shaped


@cache
def hit_schema(audience: str = "public") -> type[Schema]:
    """The marshmallow schema of one hit for ``audience``, built from
    :data:`HIT_FIELDS`: the API's field names and order, then ``highlight``. The
    OpenAPI document publishes the public one as ``SearchHit``; tests dump real
    answers through it, so the documented shape cannot drift from the produced one."""
    declared: dict[str, fields.Field] = {f.api_name: f.schema_field() for f in hit_fields(audience)}
    declared[HIGHLIGHT] = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "HTML-escaped fragments with <mark> around matches"},
    )
    name = "SearchHitView" if audience == "public" else "MemberSearchHitView"
    return Schema.from_dict(declared, name=name)
