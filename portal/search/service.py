"""Run searches and look-ups against the alias of the caller's audience.

Anonymous callers only ever reach ``innovations-public`` (DESIGN.md): restricted
values cannot leak because that index does not hold them.
"""

from __future__ import annotations

from opensearchpy import NotFoundError, OpenSearch

from indexer.client import IndexNames
from registry.taxonomy import Taxonomy

from .params import SearchRequest
from .query import build_search_body
from .results import shape_response


def search(
    client: OpenSearch,
    names: IndexNames,
    audience: str,
    request: SearchRequest,
    taxonomy: Taxonomy,
    lang: str,
) -> dict:
    """Search the ``audience`` alias; returns :func:`~.results.shape_response`'s dict.

    Raises:
        opensearchpy.exceptions.ConnectionError: the cluster is unreachable (the
            portal answers 503).
    """
    body, resolved = build_search_body(request, taxonomy)
    response = client.search(index=names.alias(audience), body=body)
    return shape_response(response, request, resolved, taxonomy, lang)


def get_document(
    client: OpenSearch, names: IndexNames, audience: str, record_id: str
) -> dict | None:
    """The indexed document ``record_id`` in the ``audience`` alias, or None."""
    try:
        response = client.get(index=names.alias(audience), id=record_id)
    except NotFoundError:
        return None
    return response["_source"]
