"""``/robots.txt``, ``/sitemap.xml`` and its parts, read from the registry.

Up to ``SITEMAP_MAX_URLS`` published innovations, ``/sitemap.xml`` is one sitemap;
beyond, it is a sitemap index of ``/sitemaps/<n>.xml`` (sitemaps.org: at most 50,000
URLs per file).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app

from ..backends import backends
from ..discovery import part_count, robots_txt, sitemap_index, urlset
from ..oai.repository import published_count, published_stamps
from ..ui import public_url

bp = Blueprint("discovery", __name__)

XML = "application/xml; charset=utf-8"


def _entries(session, part: int, limit: int) -> list:
    stamps = published_stamps(session, (part - 1) * limit, limit)
    return [(public_url("public.detail", record_id=rid), when) for rid, when in stamps]


@bp.get("/robots.txt")
def robots():
    """Rules for crawlers and the sitemap's address."""
    body = robots_txt(public_url("discovery.sitemap"))
    return Response(body, content_type="text/plain; charset=utf-8")


@bp.get("/sitemap.xml")
def sitemap():
    """The sitemap of every published detail page, or the index of its parts."""
    limit = current_app.config["SITEMAP_MAX_URLS"]
    with backends().sessions() as session:
        parts = part_count(published_count(session), limit)
        if parts <= 1:
            return Response(urlset(_entries(session, 1, limit)), content_type=XML)
        index = []
        for part in range(1, parts + 1):
            # lastmod of a part: its newest page, so crawlers refetch only what changed
            newest = max(when for _, when in published_stamps(session, (part - 1) * limit, limit))
            index.append((public_url("discovery.sitemap_part", part=part), newest))
    return Response(sitemap_index(index), content_type=XML)


@bp.get("/sitemaps/<int:part>.xml")
def sitemap_part(part: int):
    """Part ``part`` (1-based) of a split sitemap; 404 beyond the last part."""
    limit = current_app.config["SITEMAP_MAX_URLS"]
    with backends().sessions() as session:
        if not 1 <= part <= part_count(published_count(session), limit):
            abort(404)
        return Response(urlset(_entries(session, part, limit)), content_type=XML)
