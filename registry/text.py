"""Text normalisation shared by the registry, the indexer and the portal.

Text arrives in many Unicode forms: decomposed (NFD) from macOS and PDF copy-paste,
with soft hyphens from word processors, with zero-width characters from web pages.
:func:`normalize` brings every text to one form before it is stored in an index
document or sent as a query, so the same word always meets itself; the index's
``text_cleanup`` char filter (``mappings/``) does the same inside OpenSearch for
text that reaches it another way.
"""

from __future__ import annotations

import re
import unicodedata

INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff]")
"""Soft hyphen, zero-width space/joiners, direction marks, word joiner, BOM."""


def normalize(text: str) -> str:
    """``text`` in NFKC with invisible characters (:data:`INVISIBLE`) removed.

    NFKC composes ``o`` + combining diaeresis into ``ö`` and maps compatibility forms
    (ligatures, full-width letters) to their plain letters.
    """
    return unicodedata.normalize("NFKC", INVISIBLE.sub("", text))


def fold(text: str) -> str:
    """Lowercase and without diacritics, as the index's ``lowercase`` + ``asciifolding``
    filters see a word (``Ideeën`` → ``ideeen``)."""
    decomposed = unicodedata.normalize("NFKD", normalize(text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_WORD = re.compile(r"[^\W_]+(?:\+)?")


def words(text: str) -> list[str]:
    """The folded words of ``text``: runs of letters and digits; a trailing ``+`` stays
    part of its word (``Open+`` is a name, not ``open``)."""
    return _WORD.findall(fold(text))


DUTCH_STOPWORDS = frozenset(
    [
        "de",
        "en",
        "van",
        "ik",
        "te",
        "dat",
        "die",
        "in",
        "een",
        "hij",
        "het",
        "niet",
        "zijn",
        "is",
        "was",
        "op",
        "aan",
        "met",
        "als",
        "voor",
        "had",
        "er",
        "maar",
        "om",
        "hem",
        "dan",
        "zou",
        "of",
        "wat",
        "mijn",
        "men",
        "dit",
        "zo",
        "door",
        "over",
        "ze",
        "zich",
        "bij",
        "ook",
        "tot",
        "je",
        "mij",
        "uit",
        "der",
        "daar",
        "haar",
        "naar",
        "heb",
        "hoe",
        "heeft",
        "hebben",
        "deze",
        "u",
        "want",
        "nog",
        "zal",
        "me",
        "zij",
        "nu",
        "ge",
        "geen",
        "omdat",
        "iets",
        "worden",
        "toch",
        "al",
        "waren",
        "veel",
        "meer",
        "doen",
        "toen",
        "moet",
        "ben",
        "zonder",
        "kan",
        "hun",
        "dus",
        "alles",
        "onder",
        "ja",
        "eens",
        "hier",
        "wie",
        "werd",
        "altijd",
        "doch",
        "wordt",
        "wezen",
        "kunnen",
        "ons",
        "zelf",
        "tegen",
        "na",
        "reeds",
        "wil",
        "kon",
        "niets",
        "uw",
        "iemand",
        "geweest",
        "andere",
    ]
)
"""Snowball's Dutch stop list, the one OpenSearch's ``_dutch_`` stop filter uses."""

ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
        "without",
        "from",
        "about",
        "how",
        "what",
        "which",
        "who",
        "our",
        "we",
        "i",
        "my",
        "your",
        "you",
        "do",
        "does",
        "can",
        "has",
        "have",
    ]
)
"""OpenSearch's ``_english_`` stop list plus common function words of typed questions."""

STOPWORDS = DUTCH_STOPWORDS | ENGLISH_STOPWORDS
"""Words that carry no topic in a query of either language."""
