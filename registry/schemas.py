"""Marshmallow schemas that validate every record entering the registry.

The same schema serves the JSON Lines import, the submission form and the API, so a
rule lives in one place. Vocabulary checks use the registry's current taxonomy,
which is passed to the schema (marshmallow 4 has no schema context).
"""

from __future__ import annotations

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from .statuses import RECORD_STATUSES
from .taxonomy import Taxonomy

SLUG = validate.Regexp(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="must be a slug: lowercase letters, digits and hyphens"
)
MAX_ID_CHARS = 120
"""Longest record id (the ``id`` column and the schema's limit)."""
MAX_INT32 = 2**31 - 1
"""Largest value of an ``integer`` field in the index mapping."""
MAX_BUDGET_EUR = 10**12
"""A budget beyond a trillion euro is a typing error, and must fit SQL BIGINT."""

# field name -> vocabulary; list fields hold several ids
VOCABULARY_FIELDS = {
    "priorities": "priorities",
    "communities": "communities",
    "phase": "phases",
    "innovation_type": "innovation_types",
    "target_groups": "target_groups",
    "province": "provinces",
}


def is_record_id(value: str) -> bool:
    """Whether ``value`` could be a record id at all (at most :data:`MAX_ID_CHARS`
    characters, a slug): anything else names no record, wherever it is looked up."""
    return len(value) <= MAX_ID_CHARS and SLUG.regex.match(value) is not None


def _text(required: bool = True, max_length: int | None = None) -> fields.String:
    checks = [validate.Length(min=1, max=max_length)]
    if required:
        return fields.String(required=True, validate=checks)
    return fields.String(
        load_default=None, allow_none=True, validate=[validate.Length(max=max_length)]
    )


class ContactSchema(Schema):
    """A contact person (member field)."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))


class InnovationSchema(Schema):
    """One innovation record as imported or submitted (``data/README.md`` field table).

    Args:
        taxonomy: the taxonomy whose ids are accepted (historical community ids too).
    Raises (on ``load``):
        marshmallow.ValidationError: ``messages`` maps field names (and list indexes)
            to reasons.
    """

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=[validate.Length(max=MAX_ID_CHARS), SLUG])
    title = _text(max_length=300)
    summary = _text(max_length=2000)
    description = _text(max_length=20000)
    results = _text(required=False, max_length=20000)
    priorities = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    communities = fields.List(
        fields.String(), required=True, validate=validate.Length(min=1, max=3)
    )
    phase = fields.String(required=True)
    innovation_type = fields.String(required=True)
    target_groups = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    evidence_level = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(0, 5)
    )
    organisation = _text(max_length=300)
    province = fields.String(required=True)
    places_applied = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(1, MAX_INT32)
    )
    start_year = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(1900, 2100)
    )
    programmes = fields.List(
        fields.String(validate=validate.Length(min=1, max=300)),
        load_default=list,
        validate=validate.Length(max=20),
    )
    url = fields.Url(load_default=None, allow_none=True, schemes={"http", "https"})
    keywords = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=list,
        validate=validate.Length(max=50),
    )
    last_verified = fields.Date(load_default=None, allow_none=True)
    created = fields.Date(load_default=None, allow_none=True)
    contact = fields.Nested(ContactSchema, load_default=None, allow_none=True)
    budget_eur = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(0, MAX_BUDGET_EUR)
    )
    lessons_learned = _text(required=False, max_length=20000)
    internal_notes = _text(required=False, max_length=20000)
    status = fields.String(required=True, validate=validate.OneOf(RECORD_STATUSES))

    def __init__(self, taxonomy: Taxonomy, **kwargs):
        super().__init__(**kwargs)
        self.taxonomy = taxonomy

    @validates_schema
    def _check_vocabularies(self, data: dict, **_kwargs) -> None:
        errors: dict[str, list[str]] = {}
        for name, vocabulary in VOCABULARY_FIELDS.items():
            if name not in data:
                continue
            values = data[name] if isinstance(data[name], list) else [data[name]]
            unknown = [v for v in values if not self.taxonomy.has(vocabulary, v)]
            if unknown:
                errors[name] = [f"unknown {vocabulary} id: {', '.join(map(str, unknown))}"]
            elif isinstance(data[name], list) and len(set(values)) != len(values):
                errors[name] = ["contains the same id twice"]
        if errors:
            raise ValidationError(errors)


def flatten_errors(messages: dict | list | str, prefix: str = "") -> list[tuple[str, str]]:
    """Turn marshmallow's nested ``messages`` into ``[(field_path, reason), …]``.

    ``{"communities": {1: ["Not a valid string."]}}`` becomes
    ``[("communities.1", "Not a valid string.")]``; schema-level errors use ``_schema``.
    """
    if isinstance(messages, str):
        return [(prefix or "_schema", messages)]
    if isinstance(messages, list):
        out: list[tuple[str, str]] = []
        for item in messages:
            out.extend(flatten_errors(item, prefix))
        return out
    out = []
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        out.extend(flatten_errors(value, path))
    return out
