"""Search requests: parsing and validating URL parameters, and building URLs back.

:func:`parse_search_args` turns a query string into a :class:`SearchRequest` or
raises :class:`SearchParamError` (mapped to HTTP 400 in one place,
:mod:`portal.errors`). The request object owns the URL: templates ask it for the
URL with a value toggled or another page instead of concatenating strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from marshmallow import Schema, ValidationError, fields, validate

from registry.taxonomy import Taxonomy

from .facets import FACETS, Facet

SORTS = ("relevance", "newest", "title", "evidence")
LANGS = ("nl", "en")
MAX_Q_LENGTH = 500
"""Longest accepted ``q``, in characters; longer is a 400."""
MAX_AUTOCOMPLETE_CHARS = 100
"""Longest accepted ``q`` of the autocomplete API, in characters."""
MAX_RESULT_WINDOW = 10_000
"""``index.max_result_window`` of the mapping: ``from + size`` may not pass it."""
DEFAULT_SIZE = 20

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class SearchParamError(ValueError):
    """A bad search parameter: ``code`` (machine), ``message`` (technical, English),
    ``field`` (the parameter) and the offending ``value``; the portal shows a
    translated message per ``code`` (:mod:`portal.errors`)."""

    def __init__(self, code: str, message: str, field: str, value: str = ""):
        super().__init__(message)
        self.code, self.message, self.field, self.value = code, message, field, value


class _ScalarParams(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=MAX_Q_LENGTH))
    sort = fields.String(load_default=None, validate=validate.OneOf(SORTS))
    page = fields.Integer(load_default=1, strict=False, validate=validate.Range(min=1))
    size = fields.Integer(load_default=DEFAULT_SIZE, validate=validate.Range(1, 100))
    evidence_min = fields.Integer(load_default=None, validate=validate.Range(0, 5))
    lang = fields.String(load_default=None, validate=validate.OneOf(LANGS))
    correct = fields.Boolean(load_default=True)


_SCALARS = _ScalarParams()


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
    ``from + size`` within :data:`MAX_RESULT_WINDOW`; ``size`` 1–100;
    ``evidence_min`` 0–5; ``q`` at most :data:`MAX_Q_LENGTH` characters without
    control characters; facet values must be ids of their vocabulary (historical
    community ids included: they resolve later, with a notice).

    Raises:
        SearchParamError: the first bad parameter found.
    """
    raw = {
        name: _first(args, name)
        for name in ("q", "sort", "page", "size", "evidence_min", "lang", "correct")
        if _first(args, name) is not None
    }
    # an empty q means "everything" and an empty evidence_min "any level" (the
    # search form's own radio button); other empty values are mistakes
    for name in ("q", "evidence_min"):
        if raw.get(name) == "":
            del raw[name]
    try:
        scalars = _SCALARS.load(raw)
    except ValidationError as exc:
        name, messages = next(iter(exc.messages.items()))
        message = messages[0] if isinstance(messages, list) else str(messages)
        code = "q_too_long" if name == "q" else f"invalid_{name}"
        raise SearchParamError(code, f"{name}: {message}", name, str(raw.get(name, ""))) from None
    q = scalars["q"].strip()
    if _CONTROL.search(q):
        raise SearchParamError("invalid_q", "q: contains control characters", "q")
    filters: dict[str, tuple[str, ...]] = {}
    for facet in FACETS:
        if facet.at_least:
            if scalars["evidence_min"] is not None:
                filters[facet.name] = (str(scalars["evidence_min"]),)
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
        sort=scalars["sort"],
        page=scalars["page"],
        size=scalars["size"],
        lang=scalars["lang"],
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
