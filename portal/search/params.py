"""Search requests: parsing and validating URL parameters, and building URLs back.

:func:`parse_search_args` turns a query string into a :class:`SearchRequest` or
raises :class:`SearchParamError` (mapped to HTTP 400 in one place,
:mod:`portal.errors`). The request object owns the URL: templates ask it for the
URL with a value toggled or another page instead of concatenating strings.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from marshmallow import Schema, ValidationError, fields, validate

from registry.errors import DomainError
from registry.languages import LANGUAGES
from registry.models import MAX_Q_CHARS
from registry.taxonomy import Taxonomy

from .facets import FACETS, FACETS_BY_NAME, Facet
from .sorts import SORTS as SORT_DECLARATIONS

SORTS = tuple(sort.name for sort in SORT_DECLARATIONS)
"""The values of ``sort`` (:data:`~.sorts.SORTS` declares each)."""
MAX_Q_LENGTH = MAX_Q_CHARS
"""Longest accepted ``q``, in characters (the search log stores it whole)."""
MAX_AUTOCOMPLETE_CHARS = 100
"""Longest accepted ``q`` of the autocomplete API, in characters."""
MAX_RESULT_WINDOW = 10_000
"""``index.max_result_window`` of the mapping: ``from + size`` may not pass it."""
DEFAULT_SIZE = 20
MIN_SIZE, MAX_SIZE = 1, 100
"""Results per page a request may ask for (``size``)."""
EVIDENCE_RANGE = FACETS_BY_NAME["evidence"].value_range
"""Lowest and highest ``evidence_min``: the evidence facet's declared range."""

LIMIT_PARAMS = {
    "invalid_size": {"min": MIN_SIZE, "max": MAX_SIZE},
    "invalid_evidence_min": {"min": EVIDENCE_RANGE[0], "max": EVIDENCE_RANGE[1]},
    "q_too_long": {"max": MAX_Q_LENGTH},
    "invalid_sort": {"choices": ", ".join(SORTS)},
    "page_out_of_range": {"max": MAX_RESULT_WINDOW},
}
"""The limit each error code's message names, read from the constants above."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class SearchParamError(DomainError, ValueError):
    """A bad search parameter: ``code`` (machine, one of :attr:`codes`), ``message``
    (technical, English), ``field`` (the parameter) and the offending ``value``; the
    portal shows a translated message per ``code`` (:mod:`portal.errors`), filled
    from ``params``: ``value``, ``field`` and the limits of this module."""

    codes = (
        "invalid_page", "invalid_size", "invalid_sort", "invalid_evidence_min",
        "q_too_long", "invalid_q", "invalid_lang", "invalid_correct", "unknown_value",
        "page_out_of_range", "unknown_facet", "invalid_month", "invalid_view",
    )  # fmt: skip

    def __init__(self, code: str, message: str, field: str, value: str = "", **params):
        limits = LIMIT_PARAMS.get(code, {})
        super().__init__(message, code, value=value, field=field, **limits, **params)
        self.field, self.value = field, value


def _scalar_fields() -> dict[str, fields.Field]:
    return {
        "q": fields.String(
            validate=validate.Length(max=MAX_Q_LENGTH),
            metadata={"description": 'words (half of them must match; stopwords ignored; '
                      'thesaurus synonyms and compound parts count), "phrase", -exclude; the '
                      'last word completes as prefix; control characters are refused'},
        ),
        "sort": fields.String(
            validate=validate.OneOf(SORTS),
            metadata={"description": "default: relevance with q, newest without; an empty "
                      "value is a 400"},
        ),
        "page": fields.Integer(
            load_default=1,
            strict=False,
            validate=validate.Range(min=1),
            metadata={"maximum": MAX_RESULT_WINDOW,
                      "description": f"1-based; page × size may not pass {MAX_RESULT_WINDOW} "
                      "(else 400 page_out_of_range): deeper results are reached with cursor"},
        ),
        "size": fields.Integer(
            load_default=DEFAULT_SIZE, validate=validate.Range(MIN_SIZE, MAX_SIZE)
        ),
        "lang": fields.String(
            validate=validate.OneOf(LANGUAGES),
            metadata={"description": "labels and messages; default from Accept-Language, "
                      "else nl"},
        ),
        "correct": fields.Boolean(
            load_default=True,
            metadata={"description": "false: no spelling correction of words the index "
                      "does not hold"},
        ),
    }  # fmt: skip


def _facet_field(facet: Facet) -> fields.Field:
    if facet.at_least:
        low, high = facet.value_range
        # on the wire a level or empty ("any level", the form's own choice)
        return fields.Integer(
            validate=validate.Range(low, high),
            metadata={"type": "string", "pattern": f"^[{low}-{high}]?$",
                      "description": f"at least this {facet.name} level; empty means any level"},
        )  # fmt: skip
    return fields.List(
        fields.String(validate=validate.Length(min=1)),
        metadata={"description": f"facet {facet.name}: repeat to OR values"},
    )


@functools.lru_cache(maxsize=4)
def parameter_schema(facets: tuple[Facet, ...] = FACETS, scalars_only: bool = False) -> Schema:
    """The marshmallow schema of the search's URL parameters, made from the declarations:
    the scalar parameters (limits of this module, :data:`SORTS`,
    :data:`~registry.languages.LANGUAGES`) and one parameter per facet of ``facets`` (a
    list of ids; an ordinal facet's "at least" level within its ``value_range``). The
    OpenAPI document is generated from it.

    ``scalars_only`` leaves out the facet lists (:func:`parse_search_args` checks their
    ids against the taxonomy itself).
    """
    declared = _scalar_fields()
    for facet in facets:
        if facet.at_least or not scalars_only:
            declared[facet.url_param] = _facet_field(facet)
    return Schema.from_dict(declared, name="SearchParams")()


@dataclass(frozen=True)
class SearchRequest:
    """A validated search: text, facet selections, sort, page.

    ``filters`` maps a facet name to the selected ids as given in the URL (for
    ``evidence`` one value, the minimum level as a string). ``sort`` None means the
    default: relevance with a query, newest without.
    """

    q: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str | None = None
    page: int = 1
    size: int = DEFAULT_SIZE
    lang: str | None = None
    correct: bool = True
    """False: search the words as typed even when they find nothing (no correction)."""

    @property
    def effective_sort(self) -> str:
        """The sort applied: the chosen one, else relevance with ``q``, newest without."""
        return self.sort or ("relevance" if self.q.strip() else "newest")

    @property
    def offset(self) -> int:
        """Index of the first hit of this page (``from``)."""
        return (self.page - 1) * self.size

    def selected(self, facet: Facet) -> tuple[str, ...]:
        """Selected values of ``facet`` (empty tuple when none)."""
        return self.filters.get(facet.name, ())

    def to_args(self) -> list[tuple[str, str]]:
        """The URL parameters of this request, defaults left out, in a stable order."""
        args: list[tuple[str, str]] = []
        if self.q:
            args.append(("q", self.q))
        for facet in FACETS:
            args.extend((facet.url_param, value) for value in self.selected(facet))
        if self.sort:
            args.append(("sort", self.sort))
        if self.size != DEFAULT_SIZE:
            args.append(("size", str(self.size)))
        if self.page != 1:
            args.append(("page", str(self.page)))
        if self.lang:
            args.append(("lang", self.lang))
        if not self.correct:
            args.append(("correct", "0"))
        return args

    def query_string(self) -> str:
        """:meth:`to_args` encoded for a URL (without the leading ``?``)."""
        return urlencode(self.to_args())

    def toggled(self, facet: Facet, value: str) -> SearchRequest:
        """A new request with ``value`` of ``facet`` selected or unselected, page 1.

        ``evidence`` holds one value: choosing another level replaces it.
        """
        current = self.selected(facet)
        if value in current:
            chosen = tuple(v for v in current if v != value)
        elif facet.at_least:
            chosen = (value,)
        else:
            chosen = (*current, value)
        filters = {k: v for k, v in self.filters.items() if k != facet.name}
        if chosen:
            filters[facet.name] = chosen
        return replace(self, filters=filters, page=1)

    def without(self, facet_name: str) -> SearchRequest:
        """A new request without any selection of ``facet_name``, page 1."""
        filters = {k: v for k, v in self.filters.items() if k != facet_name}
        return replace(self, filters=filters, page=1)

    def without_filters(self) -> SearchRequest:
        """A new request with no facet selected (text, sort and language kept), page 1."""
        return replace(self, filters={}, page=1)

    def with_q(self, q: str, correct: bool = True) -> SearchRequest:
        """The same filters with another query text, page 1; ``correct=False`` asks for
        the words as typed, without spelling correction."""
        return replace(self, q=q, page=1, correct=correct)

    def at_page(self, page: int) -> SearchRequest:
        """The same search at ``page``."""
        return replace(self, page=page)


def _first(args, name: str):
    values = args.getlist(name)
    return values[0] if values else None


def parse_search_args(args, taxonomy: Taxonomy) -> SearchRequest:
    """Validate a query string (a ``MultiDict`` such as ``request.args``).

    Rules (the stable HTTP contract): ``sort`` in :data:`SORTS`; ``page`` ≥ 1 and
    ``from + size`` within :data:`MAX_RESULT_WINDOW`; ``size`` :data:`MIN_SIZE` to
    :data:`MAX_SIZE`; ``evidence_min`` within :data:`EVIDENCE_RANGE`; ``q`` at most
    :data:`MAX_Q_LENGTH` characters without control characters; facet values must be
    ids of their vocabulary (historical community ids included: they resolve later,
    with a notice).

    Raises:
        SearchParamError: the first bad parameter found.
    """
    schema = parameter_schema(FACETS, scalars_only=True)
    raw = {name: _first(args, name) for name in schema.fields if _first(args, name) is not None}
    # an empty q means "everything" and an empty "at least" level "any level" (the
    # search form's own radio button); other empty values are mistakes
    for name in ("q", *(facet.url_param for facet in FACETS if facet.at_least)):
        if raw.get(name) == "":
            del raw[name]
    try:
        scalars = schema.load(raw)
    except ValidationError as exc:
        name, messages = next(iter(exc.messages.items()))
        message = messages[0] if isinstance(messages, list) else str(messages)
        code = "q_too_long" if name == "q" else f"invalid_{name}"
        raise SearchParamError(code, f"{name}: {message}", name, str(raw.get(name, ""))) from None
    q = scalars.get("q", "").strip()
    if _CONTROL.search(q):
        raise SearchParamError("invalid_q", "q: contains control characters", "q")
    filters: dict[str, tuple[str, ...]] = {}
    for facet in FACETS:
        if facet.at_least:
            if scalars.get(facet.url_param) is not None:
                filters[facet.name] = (str(scalars[facet.url_param]),)
            continue
        values = tuple(dict.fromkeys(v for v in args.getlist(facet.url_param) if v != ""))
        if "" in args.getlist(facet.url_param):
            raise SearchParamError(
                "unknown_value", f"{facet.url_param}: empty value", facet.url_param, ""
            )
        if not values:
            continue
        if facet.vocabulary:
            unknown = [v for v in values if not taxonomy.has(facet.vocabulary, v)]
            if unknown:
                raise SearchParamError(
                    "unknown_value",
                    f"{facet.url_param}: unknown value {unknown[0]!r}",
                    facet.url_param,
                    unknown[0],
                )
        filters[facet.name] = values
    request = SearchRequest(
        q=q,
        filters=filters,
        sort=scalars.get("sort"),
        page=scalars["page"],
        size=scalars["size"],
        lang=scalars.get("lang"),
        correct=scalars["correct"],
    )
    if request.offset + request.size > MAX_RESULT_WINDOW:
        raise SearchParamError(
            "page_out_of_range",
            f"page: results past the first {MAX_RESULT_WINDOW} cannot be paged to; "
            "narrow the search with filters",
            "page",
        )
    return request
