"""The one declaration of every facet (see docs/architecture.md, "A search request").

Each :class:`Facet` names its URL parameter, its index field, its vocabulary and its
ordering; the query builder, the response shaper, the HTML page and the JSON API all
read this tuple, so adding a facet here adds it everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from registry.taxonomy import VOCABULARIES


@dataclass(frozen=True)
class Facet:
    """One filterable, countable field.

    Attributes:
        name: key in the API's ``facets`` object (and the URL parameter, unless
            ``param`` differs).
        title: what the page and the statistics call the facet (English source,
            translated with the portal's catalog).
        field: keyword/integer field in the index.
        vocabulary: taxonomy list that gives ids and labels (one of
            :data:`registry.taxonomy.VOCABULARIES`, else ValueError), or None for free
            values.
        ordered: keep vocabulary order (phase, evidence level) instead of count, label.
        at_least: filter as "at least N" on an ordinal field (evidence level).
        short_labels: prefer the taxonomy's short labels (phases).
        param: URL parameter when it is not ``name``.
        max_values: aggregation size for free-valued facets (vocabularies use their
            own size, so nothing is cut off silently).
        count_missing: also count records without a value, shown as
            :data:`UNKNOWN_VALUE` ("onbekend"/"unknown" where that applies).
        value_range: lowest and highest value of an ordinal facet (the URL parameter
            is validated against it).
    """

    name: str
    title: object = field(compare=False)
    field: str
    vocabulary: str | None
    ordered: bool = False
    at_least: bool = False
    short_labels: bool = False
    param: str | None = None
    max_values: int = 200
    count_missing: bool = False
    value_range: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.vocabulary is not None and self.vocabulary not in VOCABULARIES:
            raise ValueError(f"facet {self.name}: no vocabulary {self.vocabulary!r}")

    @property
    def url_param(self) -> str:
        """The query parameter that selects values of this facet."""
        return self.param or self.name

    def label(self, taxonomy, value: str, lang: str) -> str:
        """The name of ``value`` in ``lang``: the vocabulary's label (short where this
        facet prefers short labels), or the value itself for free values. Every place
        that names a facet value (filters, results, detail page, exports, statistics)
        asks here, so a value has one name everywhere."""
        if self.vocabulary is None:
            return value
        return taxonomy.label(self.vocabulary, value, lang, short=self.short_labels)


FACETS: tuple[Facet, ...] = (
    Facet("priority", _l("Priority"), "priorities", "priorities"),
    Facet("community", _l("Community of practice"), "communities", "communities"),
    Facet("phase", _l("Phase"), "phase", "phases", ordered=True, short_labels=True),
    Facet("type", _l("Innovation type"), "innovation_type", "innovation_types"),
    Facet("target", _l("Target group"), "target_groups", "target_groups"),
    Facet(
        "evidence",
        _l("Evidence level"),
        "evidence_level",
        "evidence_levels",
        ordered=True,
        at_least=True,
        param="evidence_min",
        count_missing=True,
        value_range=(0, 5),
    ),
    Facet("province", _l("Province"), "province", "provinces"),
    Facet("programme", _l("Programme"), "programmes", None),
)
"""Every facet, in the order the search page shows them."""

UNKNOWN_VALUE = "unknown"
UNKNOWN_LABEL = {"nl": "onbekend", "en": "unknown"}
"""Value and labels of the bucket for records without a value."""

FACETS_BY_NAME = {facet.name: facet for facet in FACETS}
