"""Where the time goes: pyinstrument profiles of a part that missed its target.

Samples are wall clock, so time spent waiting on OpenSearch shows up as time in the
socket and HTTP code. Each sample is attributed to the innermost project function on
its stack and the kind of work of the package it was in at that moment, e.g.
``rebuild`` → round trip to OpenSearch, or ``iter_records`` → SQLAlchemy; the largest
of these make the paragraph in the results.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_INTERVAL_S = 0.001

ROUND_TRIP = "round trip to OpenSearch: HTTP and waiting for the answer"
MEANING = {
    "socket": ROUND_TRIP,
    "ssl": ROUND_TRIP,
    "selectors": ROUND_TRIP,
    "http": ROUND_TRIP,
    "urllib3": ROUND_TRIP,
    "opensearchpy": "opensearch-py (request building, serialising)",
    "json": "JSON encoding/decoding",
    "sqlalchemy": "SQLAlchemy and SQLite (registry)",
    "sqlite3": "SQLAlchemy and SQLite (registry)",
    "hashlib": "hashing",
    "marshmallow": "marshmallow validation",
    "flask": "Flask and Werkzeug",
    "werkzeug": "Flask and Werkzeug",
    "flask_babel": "Flask-Babel",
    "babel": "Flask-Babel",
    "jinja2": "Jinja2",
    "threading": "waiting on threads/locks",
    "time": "sleeping",
}
"""Plain words for the packages samples end in; packages with the same words are one
bucket (e.g. socket and http.client are both the round trip)."""


def profile(fn: Callable[[], object]):
    """Run ``fn()`` under pyinstrument (1 ms wall-clock samples); returns the session."""
    profiler = Profiler(interval=SAMPLE_INTERVAL_S, async_mode="disabled")
    profiler.start()
    try:
        fn()
    finally:
        session = profiler.stop()
    return session


@lru_cache(maxsize=4096)
def _package(path: str | None) -> str | None:
    """The package a frame's file belongs to, or None for built-ins."""
    if not path or path.startswith("<"):
        return None
    parts = Path(path).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    if _first_party(path):
        return ".".join(Path(path).relative_to(PROJECT_ROOT).with_suffix("").parts)
    for index, part in enumerate(parts):
        if part.startswith("python3") and index + 1 < len(parts):
            return parts[index + 1].removesuffix(".py")
    return Path(path).stem


@lru_cache(maxsize=4096)
def _first_party(path: str | None) -> bool:
    if not path or path.startswith("<"):
        return False
    try:
        relative = Path(path).resolve().relative_to(PROJECT_ROOT)
    except ValueError:
        return False
    return relative.parts[0] not in (".venv", "node_modules")


def _samples(frame, stack: tuple = ()) -> Iterator[tuple[tuple, float]]:
    """``(stack, seconds)`` for every piece of time in the frame tree."""
    if not frame.is_synthetic:
        stack = (*stack, frame)
    own = frame.time - sum(child.time for child in frame.children)
    if own > 0 or not frame.children:
        yield stack, max(own, 0.0)
    for child in frame.children:
        yield from _samples(child, stack)


def _bucket(stack: tuple) -> tuple[str, str, str]:
    """``(innermost project function, library call it made, package the sample was in)``.

    The library call is the first frame below the project function, e.g.
    ``opensearchpy.streaming_bulk``; empty when the sample is in the project's own code.
    """
    inner = max((i for i, f in enumerate(stack) if _first_party(f.file_path)), default=None)
    package = next((p for f in reversed(stack) if (p := _package(f.file_path))), "?")
    if inner is None:
        return "?", "", package
    caller = f"{_package(stack[inner].file_path)}.{stack[inner].function}"
    below = stack[inner + 1 :]
    via = f"{_package(below[0].file_path) or 'builtin'}.{below[0].function}" if below else ""
    return caller, via, package


def where_time_goes(session, top: int = 6) -> dict:
    """The largest time buckets of a profile: (project function, kind of work) pairs.

    Returns:
        ``{"seconds": profiled wall time, "cpu_seconds": CPU time of the process,
        "buckets": [{"function", "via", "meaning", "seconds", "share"}]}`` with up to
        ``top`` buckets, largest first; ``via`` is the bucket's commonest library call,
        ``meaning`` the kind of work (:data:`MEANING`, ``own code`` without a library).
    """
    totals: Counter = Counter()
    vias: dict[tuple[str, str], Counter] = {}
    for stack, seconds in _samples(session.root_frame()):
        function, via, package = _bucket(stack)
        key = (function, MEANING.get(package, package) if via else "own code")
        totals[key] += seconds
        vias.setdefault(key, Counter())[via] += seconds
    whole = sum(totals.values()) or 1.0
    buckets = []
    for (function, meaning), seconds in totals.most_common(top):
        via = vias[(function, meaning)].most_common(1)[0][0]
        share = round(seconds / whole, 3)
        buckets.append(
            {"function": function, "via": via, "meaning": meaning, "seconds": round(seconds, 3),
             "share": share}
        )  # fmt: skip
    cpu = round(session.cpu_time, 3)
    return {"seconds": round(whole, 3), "cpu_seconds": cpu, "buckets": buckets}


def save_text(session, path: Path) -> None:
    """The profile as pyinstrument's text tree (no colour) in ``path``."""
    path.write_text(ConsoleRenderer(unicode=True, color=False).render(session), encoding="utf-8")


def paragraph(what: str, summary: dict) -> str:
    """A sentence naming where the time of ``what`` goes, from :func:`where_time_goes`."""
    parts = [
        f"{b['share']:.0%} in `{b['function']}`"
        + (f" → `{b['via']}`" if b["via"] else "")
        + f" ({b['meaning']})"
        for b in summary["buckets"]
    ]
    return (
        f"{what} (pyinstrument, {summary['seconds']:.1f} s wall clock profiled, "
        f"{summary['cpu_seconds']:.1f} s of it on the CPU): " + "; ".join(parts) + "."
    )
