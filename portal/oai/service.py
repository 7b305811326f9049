"""The six OAI-PMH verbs over a :class:`~portal.oai.repository.Repository`.

:func:`respond` takes the request's arguments and returns the complete response
document; every protocol error becomes an ``<error>`` element of that document
(OAI-PMH 2.0, section 3.6), so a harvester never sees an HTTP error for bad input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from registry.taxonomy import Taxonomy

from . import render
from .protocol import Harvest, OaiError, OaiRequest, TokenSigner, format_datestamp, parse_request
from .repository import Repository

ADMIN_EMAIL = "redactie@innovatiebieb.example"
REPOSITORY_NAME = "Innovatiebieb — innovaties van de openbare bibliotheken"


@dataclass(frozen=True)
class Settings:
    """What a response needs besides the registry.

    ``base_url``: the portal's public base (``PUBLIC_BASE_URL``); ``page_size``:
    items per list response; ``admin_email``: the Identify contact.
    """

    base_url: str
    signer: TokenSigner
    page_size: int = 100
    admin_email: str = ADMIN_EMAIL

    @property
    def endpoint(self) -> str:
        """The OAI-PMH base URL."""
        return self.base_url.rstrip("/") + "/oai"

    def page_url(self, record_id: str) -> str:
        """The public detail page of a record."""
        return f"{self.base_url.rstrip('/')}/innovaties/{record_id}"

    def schema_url(self, schema: str) -> str:
        """An absolute schema URL (own schemas are served under the base URL)."""
        return schema if "://" in schema else self.base_url.rstrip("/") + schema


def _writer(prefix: str, taxonomy: Taxonomy, settings: Settings):
    if prefix not in render.METADATA_FORMATS:
        raise OaiError("cannotDisseminateFormat", f"the metadata format {prefix!r} is not offered")
    if prefix == "oai_dc":
        return lambda record: render.oai_dc(record, taxonomy, settings.page_url(record["id"]))
    schema = settings.schema_url(render.METADATA_FORMATS["ibieb"].schema)
    return lambda record: render.ibieb(record, taxonomy, settings.page_url(record["id"]), schema)


def identify(root, repo: Repository, settings: Settings, request: OaiRequest) -> None:
    """Identify: the repository's name, base URL, datestamp policy."""
    element = render._sub(root, render.oai("Identify"))
    for tag, text in (
        ("repositoryName", REPOSITORY_NAME),
        ("baseURL", settings.endpoint),
        ("protocolVersion", "2.0"),
        ("adminEmail", settings.admin_email),
        ("earliestDatestamp", format_datestamp(repo.earliest_datestamp())),
        ("deletedRecord", "persistent"),
        ("granularity", "YYYY-MM-DDThh:mm:ssZ"),
    ):
        render._sub(element, render.oai(tag), text)


def list_metadata_formats(root, repo: Repository, settings: Settings, request: OaiRequest) -> None:
    """ListMetadataFormats: both formats (every record is offered in both)."""
    if "identifier" in request.arguments:
        record_id = render.record_id_of(request.arguments["identifier"])
        if repo.get(record_id) is None:
            raise OaiError("idDoesNotExist", f"no record has the identifier {record_id!r}")
    element = render._sub(root, render.oai("ListMetadataFormats"))
    for fmt in render.METADATA_FORMATS.values():
        entry = render._sub(element, render.oai("metadataFormat"))
        render._sub(entry, render.oai("metadataPrefix"), fmt.prefix)
        render._sub(entry, render.oai("schema"), settings.schema_url(fmt.schema))
        render._sub(entry, render.oai("metadataNamespace"), fmt.namespace)


def list_sets(root, repo: Repository, settings: Settings, request: OaiRequest) -> None:
    """ListSets: priorities and current communities, in one response."""
    element = render._sub(root, render.oai("ListSets"))
    for spec, name in repo.sets():
        entry = render._sub(element, render.oai("set"))
        render._sub(entry, render.oai("setSpec"), spec)
        render._sub(entry, render.oai("setName"), name)


def get_record(root, repo: Repository, settings: Settings, request: OaiRequest) -> None:
    """GetRecord: one record (header only when deleted)."""
    writer = _writer(request.arguments["metadataPrefix"], repo.taxonomy, settings)
    record_id = render.record_id_of(request.arguments["identifier"])
    item = repo.get(record_id)
    if item is None:
        raise OaiError("idDoesNotExist", f"no record has the identifier {record_id!r}")
    render.record(render._sub(root, render.oai("GetRecord")), item, writer)


def list_items(root, repo: Repository, settings: Settings, request: OaiRequest) -> None:
    """ListIdentifiers and ListRecords: one page in id order, then a resumption token.

    The token carries the selection and the last id sent, so a page is a keyset
    query (no offset): every page costs the same, however deep the harvest.
    """
    harvest: Harvest = request.harvest
    writer = _writer(harvest.prefix, repo.taxonomy, settings)
    selection = {"from_": harvest.from_, "until": harvest.until, "set_spec": harvest.set_spec}
    items, more = repo.page(after=harvest.after, limit=settings.page_size, **selection)
    if not items and harvest.cursor == 0:
        raise OaiError("noRecordsMatch", "no records match these arguments")
    total = harvest.total
    if total is None and more:
        total = repo.count(**selection)
    element = render._sub(root, render.oai(request.verb))
    for item in items:
        if request.verb == "ListRecords":
            render.record(element, item, writer)
        else:
            render.header(element, item)
    if more or harvest.cursor:
        token, expires = "", None
        if more:
            following = replace(harvest, after=items[-1].id, cursor=harvest.cursor + len(items),
                                total=total)  # fmt: skip
            token = settings.signer.dumps(following)
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.signer.ttl_s)
        render.resumption_token(element, token, expires, total, harvest.cursor)


VERBS = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": list_items,
    "ListRecords": list_items,
}


def respond(args: Mapping[str, list[str]], repo: Repository, settings: Settings) -> bytes:
    """The response document to one request.

    Args:
        args: every argument name with all its values, as sent.
        repo: the registry view.
        settings: base URL, token signer, page size.
    Returns:
        the UTF-8 XML document (a protocol error is an ``<error>`` in it).
    """
    now = dt.datetime.now(dt.UTC)
    try:
        request = parse_request(args, settings.signer)
    except OaiError as error:
        root = render.envelope(settings.endpoint, now, None)
        render.add_error(root, error)
        return render.to_bytes(root)
    root = render.envelope(settings.endpoint, now, request.arguments | {"verb": request.verb})
    try:
        VERBS[request.verb](root, repo, settings, request)
    except OaiError as error:
        if not error.keeps_request_attributes:
            root = render.envelope(settings.endpoint, now, None)
        else:
            # drop a half-built verb element: an error response holds only errors
            for child in list(root)[2:]:
                root.remove(child)
        render.add_error(root, error)
    return render.to_bytes(root)
