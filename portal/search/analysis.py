"""What a query means, before it becomes an OpenSearch body (pure functions).

:func:`parse_query` splits what a person typed into free words, quoted phrases and
exclusions; :func:`concepts` groups the free words into the things searched for —
a thesaurus term of several words is one concept, stopwords are none, a Dutch
compound carries its parts — and :func:`required_matches` says how many concepts a
record must match. ``portal/search/query.py`` turns the result into clauses.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from registry.text import STOPWORDS, normalize, words

from .synonyms import EMPTY, SynonymIndex

MIN_PREFIX_CHARS = 2
MIN_PART = 4
"""Shortest part of a compound, in letters (shorter ones split too eagerly)."""
LINKING = ("s",)
"""Linking letters between compound parts (verenigingsleven = vereniging + s + leven)."""

_CHUNK = re.compile(r'(-?)"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class ParsedQuery:
    """A query split up: ``words`` (folded free words in order, stopwords included),
    ``text`` (the free text), ``phrases`` and ``excluded`` (words or quoted phrases, as
    they go to OpenSearch), and ``prefix`` (the last free word while it is being typed,
    or None)."""

    words: tuple[str, ...] = ()
    text: str = ""
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    prefix: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing in the query asks for or against anything."""
        return not (self.words or self.phrases or self.excluded)


def parse_query(q: str) -> ParsedQuery:
    """Split ``q``: ``"…"`` is a phrase, ``-word`` and ``-"…"`` exclude, the rest are
    free words. Any other character is text: stray quotes, brackets, ``:`` or ``/``
    never make a query fail, and a query of only such characters is empty.

    The last free word completes as a prefix (``leesbev`` → ``leesbevordering``) only
    while it is being typed: not after a trailing space, not inside an open phrase,
    not when it is an exclusion or shorter than :data:`MIN_PREFIX_CHARS`.
    """
    q = normalize(q)
    free: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    last_free = None
    for match in _CHUNK.finditer(q):
        minus, phrase, chunk = match.groups()
        if phrase is not None:
            if words(phrase):
                (excluded if minus else phrases).append(f'"{phrase.strip()}"')
            last_free = None
        elif chunk.startswith("-") and words(chunk[1:]):
            excluded.append(" ".join(words(chunk[1:])))
            last_free = None
        elif words(chunk):
            free.append(chunk)
            last_free = chunk
    text = " ".join(free)
    tokens = tuple(words(text))
    prefix = None
    if last_free and not q[-1:].isspace() and q.count('"') % 2 == 0 and '"' not in last_free:
        last = words(last_free)[-1]
        if len(last) >= MIN_PREFIX_CHARS:
            prefix = last
    return ParsedQuery(tokens, " ".join(tokens), tuple(phrases), tuple(excluded), prefix)


@dataclass(frozen=True)
class Concept:
    """One thing searched for: ``text`` (its query words), ``synonyms`` (thesaurus
    alternatives), ``parts`` (compound parts of a single word) with their own thesaurus
    alternatives (``part_synonyms``, one tuple per part), ``prefix`` (the word may be
    unfinished)."""

    text: str
    synonyms: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    prefix: bool = False
    part_synonyms: tuple[tuple[str, ...], ...] = ()

    @property
    def is_phrase(self) -> bool:
        """True for a concept of several words (a thesaurus term)."""
        return " " in self.text


class Decompounder:
    """Splits Dutch compounds into known words (``bibliotheekabonnement`` →
    ``bibliotheek`` + ``abonnement``).

    A word is split only when it is not itself in ``known`` and the whole word is
    covered by known parts of at least :data:`MIN_PART` letters, optionally joined
    by a linking ``s``; of several splits the one with fewest parts wins, then the one
    whose shortest part is longest. ``known`` is the index's decompounder word list,
    so both sides agree on what a word is.
    """

    def __init__(self, known: frozenset[str]):
        self.known = known

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one instance per word list
    def split(self, word: str) -> tuple[str, ...]:
        """The parts of ``word`` (folded), or ``()`` when it is no compound."""
        if word in self.known or len(word) < 2 * MIN_PART or not word.isalpha():
            return ()
        best = self._best(word, 0)
        return best if best and len(best) > 1 else ()

    def _best(self, word: str, start: int) -> tuple[str, ...] | None:
        if start == len(word):
            return ()
        options = []
        for end in range(len(word), start + MIN_PART - 1, -1):
            part = word[start:end]
            if part not in self.known:
                continue
            nexts = [end] + [end + len(s) for s in LINKING if word.startswith(s, end)]
            for nxt in nexts:
                if nxt != end and nxt >= len(word):
                    continue
                rest = self._best(word, nxt)
                if rest is not None:
                    options.append((part, *rest))
        if not options:
            return None
        return min(options, key=lambda parts: (len(parts), -min(map(len, parts))))


@functools.cache
def default_decompounder() -> Decompounder:
    """The decompounder over the word list of the current index mapping."""
    from indexer.client import decompound_words

    return Decompounder(decompound_words())


def concepts(
    parsed: ParsedQuery, synonyms: SynonymIndex = EMPTY, decompounder: Decompounder | None = None
) -> list[Concept]:
    """The concepts of the free words of ``parsed``, in query order.

    Thesaurus terms (possibly several words, stopwords included: ``library without
    staff``) become one concept with their alternatives; other stopwords are dropped,
    unless every free word is a stopword (then each is searched as typed); a
    compound word carries its parts and their thesaurus alternatives
    (``gemeenschapsbibliothecaris``: ``gemeenschap`` and ``bibliothecaris`` or
    ``librarian``).
    """
    tokens = parsed.words
    if not tokens:
        return []
    only_stopwords = all(token in STOPWORDS for token in tokens)
    by_start = {m.start: m for m in synonyms.match(tokens)}
    out: list[Concept] = []
    i = 0
    while i < len(tokens):
        match = by_start.get(i)
        end = match.end if match else i + 1
        text = " ".join(tokens[i:end])
        if match or only_stopwords or text not in STOPWORDS:
            single = end - i == 1
            parts = (decompounder or default_decompounder()).split(text) if single else ()
            out.append(
                Concept(
                    text=text,
                    synonyms=match.alternatives if match else (),
                    parts=parts,
                    prefix=single and end == len(tokens) and parsed.prefix == text,
                    part_synonyms=tuple(synonyms.alternatives(part) for part in parts),
                )
            )
        i = end
    return out


def required_matches(count: int) -> int:
    """How many of ``count`` concepts a record must match: half, rounded up.

    One or two concepts: one (records with both rank first, because every matched
    concept adds to the score); three or four: two; five or six: three. People
    describe what they want in more words than a record shares with them (``afschaffen
    van boetes`` meets ``schafte de boetes af``), so the requirement grows more slowly
    than the query; the judged queries showed stricter rules losing more relevant
    records than they kept out (``bench/results/*-relevance.md``).
    """
    return max(1, (count + 1) // 2)


def correction(
    q: str,
    suggestions: list[dict],
    synonyms: SynonymIndex = EMPTY,
    known: frozenset[str] = frozenset(),
) -> str | None:
    """``q`` with its misspelt words replaced, or None when there is nothing to fix.

    Args:
        q: the query as it was sent to the suggester (normalised; offsets refer to it).
        suggestions: the term suggester's entries (``text``, ``offset``, ``length``,
            ``options``), for words missing from the index.
        synonyms: thesaurus terms are words people mean, never typos.
        known: words of the language (the decompounder's list): a known word missing
            from the index is not misspelt either.
    Returns:
        the corrected query; stopwords, thesaurus terms, known words and excluded
        words (``-word``) are kept as typed.
    """
    corrected, changed = q, False
    for entry in sorted(suggestions, key=lambda e: e["offset"], reverse=True):
        word = " ".join(words(entry["text"]))
        start, end = entry["offset"], entry["offset"] + entry["length"]
        excluded = q[:start].rstrip('"').endswith("-")
        if word in STOPWORDS or word in known or synonyms.alternatives(word) or excluded:
            continue
        if entry["options"]:
            corrected = corrected[:start] + entry["options"][0]["text"] + corrected[end:]
            changed = True
    return corrected if changed else None
