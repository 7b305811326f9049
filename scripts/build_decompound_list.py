"""Build ``mappings/v2/decompound-nl.txt``, the Dutch word list of the decompounder.

The list is data, made once and shipped; search never runs this script. It takes the
words of the OpenTaal word list (Debian package ``wdutch``, ``/usr/share/dict/nederlands``,
BSD or CC BY 3.0) that are 4–20 letters long and common in Dutch text (Zipf frequency
≥ 3.0 in PyPI's ``wordfreq`` data, used only as a filter), folds their diacritics as
the index does, and adds the few loan words of the library field that the frequency
filter drops (``DOMAIN_WORDS``).

Usage (both prerequisites only for rebuilding the list)::

    apt-get install wdutch && python -m pip install wordfreq
    python scripts/build_decompound_list.py > mappings/v2/decompound-nl.txt
"""

from __future__ import annotations

import re
import sys
import unicodedata

OPENTAAL = "/usr/share/dict/nederlands"
MIN_ZIPF = 3.0
DOMAIN_WORDS = ("maker", "makers", "space", "cafe", "lab", "game", "games", "coding", "hub")
"""Parts of the field's compounds (makerspace, taalcafe, fablab, …) below the filter."""


def fold(word: str) -> str:
    """Lowercase ASCII-folded ``word`` (the index's ``lowercase`` + ``asciifolding``)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def main() -> int:
    """Print the header and the sorted word list to standard output."""
    from wordfreq import zipf_frequency

    words = set(DOMAIN_WORDS)
    with open(OPENTAAL, encoding="utf-8") as handle:
        for line in handle:
            word = line.strip()
            if re.fullmatch(r"[a-zà-ÿ]{4,20}", word) and zipf_frequency(word, "nl") >= MIN_ZIPF:
                words.add(fold(word))
    print("# Dutch decompounder word list: OpenTaal words (BSD / CC BY 3.0, via Debian wdutch)")
    print(f"# with wordfreq Zipf >= {MIN_ZIPF}, folded; built by scripts/build_decompound_list.py")
    for word in sorted(words):
        print(word)
    return 0


if __name__ == "__main__":
    sys.exit(main())
