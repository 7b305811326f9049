"""OpenSearch connection, index names and mappings, shared by indexer and portal.

Configuration comes from :class:`settings.Settings`: ``OPENSEARCH_URL`` (default the
local node, ``http://127.0.0.1:9200``; several node URLs separated by commas),
``INDEX_PREFIX`` (default empty; tests set a fresh one per run so they never touch the
real aliases), ``INDEX_SHARDS`` (default 1) and ``INDEX_REPLICAS`` (default 0, right for
one node; 1 on a cluster of three, so every shard survives the loss of a node).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from opensearchpy import OpenSearch

from registry.statuses import AUDIENCES
from settings import Settings

MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "mappings"
MAPPING_VERSION = "v2"
"""The folder under ``mappings/`` that new indices are built from."""
DECOMPOUND_FILTER = "dutch_decompound"
"""The decompounder filter whose ``word_list`` names a file beside ``settings.json``."""


def opensearch_url(settings: Settings | None = None) -> str:
    """The cluster URL of ``settings`` (default :meth:`Settings.from_env`):
    ``OPENSEARCH_URL``, else the local node on ``OPENSEARCH_PORT``."""
    return (settings or Settings.from_env()).search_url


def node_urls(url: str | None = None) -> list[str]:
    """The node URLs in ``url`` (default :func:`opensearch_url`), split at commas.

    ``"http://a:9200, http://b:9200"`` gives ``["http://a:9200", "http://b:9200"]``.
    Raises ValueError when no URL is left or one is not ``http(s)://host:port``.
    """
    urls = [part.strip().rstrip("/") for part in (url or opensearch_url()).split(",")]
    urls = [u for u in urls if u]
    if not urls:
        raise ValueError("OPENSEARCH_URL names no node")
    for candidate in urls:
        if not re.fullmatch(r"https?://[^\s/:,]+(:\d{1,5})?(/[^\s,]*)?", candidate):
            raise ValueError(f"OPENSEARCH_URL: {candidate!r} is not an http(s):// node URL")
    return urls


def make_client(
    url: str | None = None,
    timeout_s: float = 10.0,
    retries: int = 0,
    transport_class=None,
    serializer=None,
) -> OpenSearch:
    """An OpenSearch client for ``url`` (default :func:`opensearch_url`; several node
    URLs separated by commas spread the requests over those nodes).

    ``timeout_s`` is the per-request timeout in seconds. ``retries`` repeats a request
    that got 502/503/504 or timed out (the indexer uses 3; the portal 0, so a visitor
    sees an unavailable cluster at once). With several nodes, a request whose node
    refuses the connection or dies is also repeated on another node, once per other
    node, whatever ``retries`` says, and the dead node is set aside for a while
    (opensearch-py's connection pool). Bulk 429s are retried with backoff by the bulk
    helper, not here. ``transport_class`` replaces opensearch-py's ``Transport``
    (the portal's guarded transport, :mod:`portal.breaker`); ``serializer`` replaces
    its JSON serializer (the portal's orjson one, :mod:`portal.json_provider`). Raises
    ValueError for a malformed ``url``.
    """
    hosts = node_urls(url)
    extra = {"transport_class": transport_class} if transport_class else {}
    if serializer is not None:
        extra["serializer"] = serializer
    return OpenSearch(
        hosts=hosts,
        timeout=timeout_s,
        max_retries=max(retries, len(hosts) - 1),
        # a time-out is retried only when asked for: on a hanging cluster the portal must
        # answer 503 within one time-out, not one per node
        retry_on_timeout=retries > 0,
        retry_on_status=(502, 503, 504) if retries > 0 or len(hosts) > 1 else (),
        http_compress=False,
        **extra,
    )


def index_shape(settings: Settings | None = None) -> dict:
    """``{"number_of_shards", "number_of_replicas"}`` for new indices: ``INDEX_SHARDS``
    (default 1, at most 64) and ``INDEX_REPLICAS`` (default 0, at most 8) of ``settings``
    (default :meth:`Settings.from_env`, which raises ``SettingsError`` for a bad value)."""
    settings = settings or Settings.from_env()
    return {
        "number_of_shards": settings.index_shards,
        "number_of_replicas": settings.index_replicas,
    }


@dataclass(frozen=True)
class IndexNames:
    """Alias and index names for one ``INDEX_PREFIX``.

    ``alias("public")`` is ``<prefix>innovations-public`` (docs/architecture.md); concrete
    indices are ``<prefix>innovations-<audience>-<mapping version>-<stamp>``.
    """

    prefix: str = ""

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> IndexNames:
        """Names for ``INDEX_PREFIX`` of ``settings`` (default :meth:`Settings.from_env`)."""
        return cls((settings or Settings.from_env()).index_prefix)

    def alias(self, audience: str) -> str:
        """Alias of ``audience`` (``public`` or ``members``)."""
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        return f"{self.prefix}innovations-{audience}"

    def index(self, audience: str, stamp: str) -> str:
        """A concrete index name for ``audience`` built at ``stamp``."""
        return f"{self.alias(audience)}-{MAPPING_VERSION}-{stamp}"

    def pattern(self, audience: str) -> str:
        """Wildcard matching every concrete index of ``audience``."""
        return f"{self.alias(audience)}-v*"


def index_body(audience: str, version: str = MAPPING_VERSION) -> dict:
    """Settings and mappings for a new index of ``audience``, read from ``mappings/``.

    The members mapping is the public one plus ``members.json``. The decompounder's
    word list is a file in the same folder (named by its ``word_list``) and goes into
    the settings inline, so every node of any cluster gets the same list with the index
    and nothing has to be installed on the nodes. Shards and replicas come from
    :func:`index_shape` (the settings), not from the files.
    """
    folder = MAPPINGS_DIR / version
    settings = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
    decompounder = settings["analysis"]["filter"].get(DECOMPOUND_FILTER)
    if decompounder and isinstance(decompounder.get("word_list"), str):
        decompounder["word_list"] = list(word_list(folder / decompounder["word_list"]))
    mapping = json.loads((folder / "public.json").read_text(encoding="utf-8"))
    if audience == "members":
        extra = json.loads((folder / "members.json").read_text(encoding="utf-8"))
        mapping["properties"].update(extra["properties"])
    settings.update(index_shape())
    return {"settings": {"index": settings}, "mappings": mapping}


@functools.cache
def word_list(path: Path) -> tuple[str, ...]:
    """The words of a word-list file: one a line, ``#`` starts a comment line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def decompound_words(version: str = MAPPING_VERSION) -> frozenset[str]:
    """The decompounder's word list of mapping ``version`` (the same the index uses)."""
    settings = json.loads((MAPPINGS_DIR / version / "settings.json").read_text(encoding="utf-8"))
    name = settings["analysis"]["filter"][DECOMPOUND_FILTER]["word_list"]
    return frozenset(word_list(MAPPINGS_DIR / version / name))
