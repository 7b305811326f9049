"""OAI-PMH 2.0 at ``/oai`` (GET and POST) and the portal's own metadata schema.

A thin view: the arguments go to :func:`portal.oai.service.respond`, which reads
the registry and answers every protocol error inside the XML (HTTP 200), as the
protocol requires.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request

from registry.taxonomy import load_taxonomy

from ..backends import backends
from ..oai.protocol import TokenSigner
from ..oai.repository import Repository
from ..oai.service import Settings, respond
from ..security import csrf

bp = Blueprint("oai", __name__)

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "oai" / "schemas"
SERVED_SCHEMAS = ("innovatiebieb.xsd", "xml.xsd")
"""Schemas the portal publishes itself: its format and the ``xml:lang`` declaration
that format imports (the other files are copies of the OAI and DCMI originals)."""


def _settings() -> Settings:
    config = current_app.config
    return Settings(
        base_url=config["PUBLIC_BASE_URL"],
        signer=TokenSigner(config["SECRET_KEY"], config["OAI_TOKEN_TTL_S"]),
        page_size=config["OAI_PAGE_SIZE"],
    )


@bp.route("/oai", methods=["GET", "POST"])
@csrf.exempt
def endpoint():
    """One OAI-PMH request; POST takes the arguments form-encoded (section 3.1.1)."""
    source = request.form if request.method == "POST" else request.args
    args = {name: source.getlist(name) for name in source}
    with backends().sessions() as session:
        # the taxonomy is read with the records, not taken from the per-process cache
        # (up to TAXONOMY_CHECK_S old): a record whose datestamp already shows a merge
        # must also show the merged sets, or an incremental harvester keeps the old ones
        body = respond(args, Repository(session, load_taxonomy(session)), _settings())
    return Response(body, content_type="text/xml; charset=utf-8")


@bp.get("/oai/schemas/<name>")
def schema(name: str):
    """The XML schema of the ``ibieb`` metadata format (and the one it imports)."""
    if name not in SERVED_SCHEMAS:
        abort(404)
    body = (SCHEMA_DIR / name).read_bytes()
    return Response(body, content_type="application/xml; charset=utf-8")
