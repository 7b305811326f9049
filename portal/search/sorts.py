"""The one declaration of every sort order: its URL value, its clause and its name.

The parameter schema accepts exactly these values, the query builder reads the
clause, the search page lists the names and the OpenAPI document the values.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

TIE_BREAK = {"id": "asc"}
"""The last key of every sort, so equal records keep one order across pages."""
NEWEST = {"created": {"order": "desc", "missing": "_last"}}


@dataclass(frozen=True)
class Sort:
    """One sort order.

    Attributes:
        name: the value of the ``sort`` URL parameter.
        label: its name on the search page (English source, translated).
        clause: the OpenSearch ``sort`` keys before the tie break on ``id``.
    """

    name: str
    label: object
    clause: tuple

    def sort_clause(self) -> list:
        """The ``sort`` value of a search body: :attr:`clause`, then ``id``."""
        return [*self.clause, TIE_BREAK]


SORTS: tuple[Sort, ...] = (
    Sort("relevance", _l("Relevance"), ("_score", NEWEST)),
    Sort("newest", _l("Newest first"), (NEWEST,)),
    Sort("title", _l("Title (A–Z)"), ({"title_sort": "asc"},)),
    Sort(
        "evidence",
        _l("Evidence level (high to low)"),
        ({"evidence_level": {"order": "desc", "missing": "_last"}}, "_score"),
    ),
)
"""Every sort, in the order the search page offers them."""

SORTS_BY_NAME = {sort.name: sort for sort in SORTS}
