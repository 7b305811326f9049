"""Deterministic synthetic innovations scaled up from ``data/innovations.jsonl``.

``python -m bench.generate --size N --seed S --out FILE`` writes N JSON Lines records,
each valid for :class:`registry.schemas.InnovationSchema`.

How the real data's shape is kept:

- **Facets and their co-occurrences**: every synthetic record starts from a real record
  chosen uniformly at random (its *template*) and copies its whole facet combination
  (priorities, communities, phase, type, target groups, evidence level, province,
  programmes, status). With probability :data:`VARY_PROBABILITY` one facet is replaced
  by the value of another uniformly chosen real record, which creates new combinations
  while every facet's value frequencies stay those of the real data (both draws are
  uniform over the same records).
- **Text**: each text field is sampled word by word from that field's vocabulary in the
  real records, weighted by word frequency (so term statistics follow the real ones),
  with the template's length in words varied by ±20 %.
- **Streaming**: records are yielded one at a time from one seeded ``random.Random``;
  memory does not grow with ``size``, and the first N records are the same for every
  size with the same seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_FILE = PROJECT_ROOT / "data" / "innovations.jsonl"

FACET_FIELDS = (
    "priorities",
    "communities",
    "phase",
    "innovation_type",
    "target_groups",
    "evidence_level",
    "province",
    "programmes",
)
"""Fields copied together from the template record (their co-occurrence is kept)."""

TEXT_FIELDS = ("title", "summary", "description", "results", "lessons_learned", "internal_notes")
"""Fields whose text is sampled from the vocabulary of the same field."""

MAX_CHARS = {
    "title": 300,
    "summary": 2000,
    "description": 20000,
    "results": 20000,
    "lessons_learned": 20000,
    "internal_notes": 20000,
}
"""Schema limits (characters) of the text fields (:mod:`registry.schemas`)."""

VARY_PROBABILITY = 0.25
"""Share of records where one facet comes from another real record."""
LENGTH_JITTER = 0.2
"""Text lengths vary by up to ±20 % of the template's length in words."""
DATE_JITTER_DAYS = 365

_WORD = re.compile(r"[\w][\w'’&.-]*\w|\w", re.UNICODE)


@dataclass(frozen=True)
class Vocabulary:
    """Words of one field with cumulative frequency weights, for weighted sampling."""

    words: tuple[str, ...]
    cum_weights: tuple[int, ...]

    @classmethod
    def from_texts(cls, texts: list[str]) -> Vocabulary:
        """Count the words of ``texts`` (order of first appearance keeps it deterministic)."""
        counts = Counter(word for text in texts for word in _WORD.findall(text or ""))
        if not counts:
            counts = Counter({"innovatie": 1})
        return cls(tuple(counts), tuple(accumulate(counts.values())))

    def sample(self, rng: random.Random, k: int) -> list[str]:
        """``k`` words drawn with replacement, weighted by frequency."""
        return rng.choices(self.words, cum_weights=self.cum_weights, k=k)


@dataclass(frozen=True)
class Model:
    """What the generator learned from the real records (small, fixed size)."""

    templates: tuple[dict, ...]
    vocabularies: dict[str, Vocabulary]
    keywords: Vocabulary
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    budgets: tuple[int, ...]


def read_records(path: Path = DATA_FILE) -> list[dict]:
    """The real records of ``path`` (JSON Lines, blank lines skipped)."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def build_model(records: list[dict]) -> Model:
    """Learn templates, per-field vocabularies and names from the real ``records``."""
    vocabularies = {
        name: Vocabulary.from_texts([r.get(name) or "" for r in records]) for name in TEXT_FIELDS
    }
    keywords = Counter(k for r in records for k in r.get("keywords", []))
    names = [r["contact"]["name"].split(" ", 1) for r in records if r.get("contact")]
    return Model(
        templates=tuple(records),
        vocabularies=vocabularies,
        keywords=Vocabulary(tuple(keywords), tuple(accumulate(keywords.values()))),
        first_names=tuple(n[0] for n in names),
        last_names=tuple(n[-1] for n in names),
        budgets=tuple(r["budget_eur"] for r in records if r.get("budget_eur") is not None),
    )


def slugify(text: str, max_length: int = 40) -> str:
    """ASCII slug of ``text`` (lowercase letters, digits, single hyphens)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-")


def _sentences(words: list[str], rng: random.Random, max_chars: int) -> str:
    """Join ``words`` into sentences of 6–18 words, capitalised, ending in a period."""
    out: list[str] = []
    i = 0
    while i < len(words):
        n = rng.randint(6, 18)
        chunk = words[i : i + n]
        i += n
        sentence = " ".join(chunk)
        out.append(sentence[:1].upper() + sentence[1:] + ".")
    return " ".join(out)[:max_chars].strip() or "Innovatie."


def _text(model: Model, name: str, template: dict, rng: random.Random) -> str:
    """Text for field ``name`` about as long (in words) as the template's."""
    source = template.get(name) or ""
    if not source:
        return source
    length = len(_WORD.findall(source))
    k = max(1, round(length * rng.uniform(1 - LENGTH_JITTER, 1 + LENGTH_JITTER)))
    words = model.vocabularies[name].sample(rng, k)
    if name == "title":
        title = " ".join(words)
        return (title[:1].upper() + title[1:])[: MAX_CHARS[name]]
    return _sentences(words, rng, MAX_CHARS[name])


def _facets(model: Model, template: dict, rng: random.Random) -> dict:
    """The template's facet combination, one facet varied with :data:`VARY_PROBABILITY`."""
    facets = {name: template[name] for name in FACET_FIELDS}
    if rng.random() < VARY_PROBABILITY:
        name = rng.choice(FACET_FIELDS)
        facets[name] = rng.choice(model.templates)[name]
    facets["status"] = template["status"]
    return {k: list(v) if isinstance(v, list) else v for k, v in facets.items()}


def _date_near(iso: str | None, rng: random.Random, not_before: dt.date | None = None) -> str:
    day = dt.date.fromisoformat(iso) if iso else dt.date(2020, 1, 1)
    day += dt.timedelta(days=rng.randint(-DATE_JITTER_DAYS, DATE_JITTER_DAYS))
    if not_before and day < not_before:
        day = not_before
    return day.isoformat()


def _keywords(model: Model, template: dict, rng: random.Random) -> list[str]:
    wanted = len(template.get("keywords", []))
    chosen: list[str] = []
    for word in model.keywords.sample(rng, wanted * 3):
        if word not in chosen:
            chosen.append(word)
        if len(chosen) == wanted:
            break
    return chosen


def _contact(model: Model, template: dict, rng: random.Random) -> dict | None:
    if not template.get("contact"):
        return None
    first, last = rng.choice(model.first_names), rng.choice(model.last_names)
    domain = template["contact"].get("email", "x@bibliotheek.example").rsplit("@", 1)[-1]
    return {
        "name": f"{first} {last}",
        "email": f"{slugify(first)[:1] or 'x'}.{slugify(last, 30).replace('-', '')}@{domain}",
        "phone": f"+31 6 0000 {rng.randint(1000, 9999)}",
    }


def make_record(model: Model, number: int, rng: random.Random) -> dict:
    """Synthetic record number ``number`` (0-based; its id ends in ``-<number + 1>``)."""
    template = rng.choice(model.templates)
    record: dict = {name: _text(model, name, template, rng) for name in TEXT_FIELDS}
    record["id"] = f"{slugify(record['title']) or 'innovatie'}-{number + 1}"
    record.update(_facets(model, template, rng))
    created = _date_near(template.get("created"), rng)
    host = urlsplit(template.get("url") or "https://www.bibliotheek.example").netloc
    record.update(
        organisation=template["organisation"],
        places_applied=template.get("places_applied"),
        start_year=template.get("start_year"),
        url=f"https://{host}/innovaties/{record['id']}",
        keywords=_keywords(model, template, rng),
        created=created,
        last_verified=_date_near(
            template.get("last_verified"), rng, dt.date.fromisoformat(created)
        ),
        contact=_contact(model, template, rng),
        budget_eur=rng.choice(model.budgets) if template.get("budget_eur") is not None else None,
    )
    return {"id": record.pop("id"), **record}


def generate(size: int, seed: int, model: Model | None = None) -> Iterator[dict]:
    """Yield ``size`` synthetic records from one ``random.Random(seed)`` (streaming)."""
    model = model or build_model(read_records())
    rng = random.Random(seed)
    for number in range(size):
        yield make_record(model, number, rng)


def write_jsonl(records: Iterator[dict], out: Path) -> tuple[int, int]:
    """Write ``records`` to ``out`` as UTF-8 JSON Lines; returns ``(records, bytes)``."""
    count = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count, out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m bench.generate --size N --seed S --out FILE``."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--size", type=int, required=True, help="number of records")
    parser.add_argument("--seed", type=int, default=9, help="random seed (default 9)")
    parser.add_argument("--out", type=Path, required=True, help="output .jsonl file")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1")
    count, size = write_jsonl(generate(args.size, args.seed), args.out)
    print(f"generate: {count} records, {size / 2**20:.1f} MiB -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
