"""Marshmallow schemas that validate every record entering the registry.

The same schema serves the JSON Lines import, the submission form and the API, so a
rule lives in one place. Vocabulary checks use the registry's current taxonomy,
which is passed to the schema (marshmallow 4 has no schema context).

Every message these schemas give is a :class:`Reason`: the English text the import
prints (``line N: field: reason``) that also carries a machine ``code`` and the
values of its limits, so the portal words it for people by code
(:data:`portal.errors.FIELD_REASONS`) without reading the text.
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


class Reason(str):
    """A validation message: English text (``str``) with a machine ``code`` and the
    ``params`` its wording needs (``min``, ``max``, ``ids``, the ``input``).

    Marshmallow formats a field's or validator's message with ``str.format`` before
    raising it; :meth:`format` keeps the code and adds the values it was given, so
    the limits reach the portal as numbers, not as words in a sentence.
    """

    code: str
    params: dict

    def __new__(cls, code: str, text: str, **params):
        reason = super().__new__(cls, text)
        reason.code, reason.params = code, params
        return reason

    def format(self, *args, **kwargs) -> Reason:
        """The text formatted like ``str.format``, still a :class:`Reason` with this
        code; ``kwargs`` join :attr:`params`."""
        return Reason(self.code, str.format(self, *args, **kwargs), **{**self.params, **kwargs})


FIELD_MESSAGE_CODES = {
    "required": "required",
    "null": "required",
    "unknown": "unknown_field",
    "too_large": "too_large",
    "validator_failed": "invalid",
}
"""Marshmallow's error keys → :class:`Reason` codes; ``invalid`` (and ``type``) become
``invalid_<field kind>`` (:func:`coded_messages`)."""


def _invalid_code(field: fields.Field) -> str:
    for kind, code in (
        (fields.Integer, "invalid_integer"),
        (fields.Url, "invalid_url"),
        (fields.Email, "invalid_email"),
        (fields.Date, "invalid_date"),
        (fields.List, "invalid_list"),
        (fields.Nested, "invalid_object"),
        (fields.String, "invalid_string"),
    ):
        if isinstance(field, kind):
            return code
    return "invalid"


def coded_messages(field: fields.Field) -> None:
    """Give ``field`` (its built-in validators, a list's item field) :class:`Reason`
    messages in place: the same English texts with codes from
    :data:`FIELD_MESSAGE_CODES`."""
    field.error_messages = {
        key: text
        if isinstance(text, Reason)
        else Reason(FIELD_MESSAGE_CODES.get(key, _invalid_code(field)), text)
        for key, text in field.error_messages.items()
    }
    for validator in field.validators:
        # Url and Email copy their "invalid" text into a validator when built
        if isinstance(validator, validate.URL | validate.Email):
            validator.error = field.error_messages["invalid"]
    if isinstance(field, fields.List):
        coded_messages(field.inner)


class CodedSchema(Schema):
    """A schema whose every message is a :class:`Reason` (fields, list items, unknown
    fields); validators come from this module (:class:`Length`, :class:`Range`)."""

    error_messages = {
        "unknown": Reason("unknown_field", "Unknown field."),
        "type": Reason("invalid_object", "Invalid input type."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            coded_messages(field)


class Length(validate.Length):
    """``validate.Length`` whose messages are :class:`Reason` s: ``too_short``
    (``min``), ``too_long`` (``max``), ``length`` (both bounds given; ``min``, ``max``)."""

    message_min = Reason("too_short", validate.Length.message_min)
    message_max = Reason("too_long", validate.Length.message_max)
    message_all = Reason("length", validate.Length.message_all)
    message_equal = Reason("length", validate.Length.message_equal)


class Range(validate.Range):
    """``validate.Range`` whose messages are :class:`Reason` s: ``too_small``
    (``min``), ``too_big`` (``max``), ``out_of_range`` (both bounds; ``min``, ``max``)."""

    message_min = Reason("too_small", validate.Range.message_min)
    message_max = Reason("too_big", validate.Range.message_max)
    message_all = Reason("out_of_range", validate.Range.message_all)


SLUG = validate.Regexp(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    error=Reason("invalid_slug", "must be a slug: lowercase letters, digits and hyphens"),
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
    checks = [Length(min=1, max=max_length)]
    if required:
        return fields.String(required=True, validate=checks)
    return fields.String(load_default=None, allow_none=True, validate=[Length(max=max_length)])


class ContactSchema(CodedSchema):
    """A contact person (member field)."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=Length(max=50))


class InnovationSchema(CodedSchema):
    """One innovation record as imported or submitted (``data/README.md`` field table).

    Args:
        taxonomy: the taxonomy whose ids are accepted (historical community ids too).
    Raises (on ``load``):
        marshmallow.ValidationError: ``messages`` maps field names (and list indexes)
            to reasons.
    """

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=[Length(max=MAX_ID_CHARS), SLUG])
    title = _text(max_length=300)
    summary = _text(max_length=2000)
    description = _text(max_length=20000)
    results = _text(required=False, max_length=20000)
    priorities = fields.List(fields.String(), required=True, validate=Length(min=1))
    communities = fields.List(fields.String(), required=True, validate=Length(min=1, max=3))
    phase = fields.String(required=True)
    innovation_type = fields.String(required=True)
    target_groups = fields.List(fields.String(), required=True, validate=Length(min=1))
    evidence_level = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=Range(0, 5)
    )
    organisation = _text(max_length=300)
    province = fields.String(required=True)
    places_applied = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=Range(1, MAX_INT32)
    )
    start_year = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=Range(1900, 2100)
    )
    programmes = fields.List(
        fields.String(validate=Length(min=1, max=300)),
        load_default=list,
        validate=Length(max=20),
    )
    url = fields.Url(load_default=None, allow_none=True, schemes={"http", "https"})
    keywords = fields.List(
        fields.String(validate=Length(min=1, max=100)),
        load_default=list,
        validate=Length(max=50),
    )
    last_verified = fields.Date(load_default=None, allow_none=True)
    created = fields.Date(load_default=None, allow_none=True)
    contact = fields.Nested(ContactSchema, load_default=None, allow_none=True)
    budget_eur = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=Range(0, MAX_BUDGET_EUR)
    )
    lessons_learned = _text(required=False, max_length=20000)
    internal_notes = _text(required=False, max_length=20000)
    status = fields.String(
        required=True,
        validate=validate.OneOf(
            RECORD_STATUSES, error=Reason("not_a_choice", "Must be one of: {choices}.")
        ),
    )

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
                ids = ", ".join(map(str, unknown))
                errors[name] = [Reason("unknown_id", f"unknown {vocabulary} id: {ids}", ids=ids)]
            elif isinstance(data[name], list) and len(set(values)) != len(values):
                errors[name] = [Reason("duplicate_id", "contains the same id twice")]
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
