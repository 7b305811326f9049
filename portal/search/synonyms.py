"""Synonym expansion at query time from the thesaurus (pure, no I/O).

A :class:`SynonymIndex` is built from the registry's synonym sets
(:func:`registry.thesaurus.list_sets`) and finds, in the words of a query, the longest
runs that are terms of the thesaurus, each with the terms it also stands for:
for an ``equivalent`` set every other term, for a ``broader`` set (query term = the
broader term) its narrower terms. Terms meet query words after the same folding
(:func:`registry.text.words`), so ``Taalcafé`` meets ``taalcafe``. Expanding in the
query rather than in an index analyzer makes a thesaurus change live at once on any
cluster, without a rebuild and without files on the nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from registry.text import words


@dataclass(frozen=True)
class SynonymMatch:
    """Query words ``start:end`` form a thesaurus term with ``alternatives``."""

    start: int
    end: int
    alternatives: tuple[str, ...]


class SynonymIndex:
    """Thesaurus terms by their folded words.

    Args:
        sets: ``[{"kind", "broader", "terms"}]`` as the registry lists them.
    """

    def __init__(self, sets: Iterable[dict] = ()):
        table: dict[tuple[str, ...], dict[str, None]] = {}
        for item in sets:
            if item["kind"] == "broader":
                pairs = [(item["broader"], item["terms"])]
            else:
                pairs = [(term, item["terms"]) for term in item["terms"]]
            for term, others in pairs:
                key = tuple(words(term))
                bucket = table.setdefault(key, {})
                for other in others:
                    if tuple(words(other)) != key:
                        bucket[other] = None
        self._table = {key: tuple(alts) for key, alts in table.items() if key and alts}
        self.longest = max((len(key) for key in self._table), default=0)

    def __len__(self) -> int:
        return len(self._table)

    def alternatives(self, term: str) -> tuple[str, ...]:
        """What ``term`` also stands for (empty when it is no thesaurus term)."""
        return self._table.get(tuple(words(term)), ())

    def match(self, tokens: Sequence[str]) -> list[SynonymMatch]:
        """Thesaurus terms among ``tokens`` (folded query words), left to right, the
        longest term first where terms overlap; runs do not overlap."""
        found: list[SynonymMatch] = []
        i = 0
        while i < len(tokens):
            for length in range(min(self.longest, len(tokens) - i), 0, -1):
                alternatives = self._table.get(tuple(tokens[i : i + length]))
                if alternatives:
                    found.append(SynonymMatch(i, i + length, alternatives))
                    i += length
                    break
            else:
                i += 1
        return found


EMPTY = SynonymIndex()
"""No thesaurus: queries are not expanded."""
