"""OAI-PMH 2.0 requests: argument rules, datestamps and resumption tokens (pure).

Nothing here touches the registry or Flask: :func:`parse_request` turns the query
arguments into an :class:`OaiRequest` or raises :class:`OaiError` with the
protocol's error code; :class:`TokenSigner` makes and reads resumption tokens.
The rules are those of the OAI-PMH 2.0 specification, sections 3.1 (arguments),
3.3 (datestamps), 3.5 (flow control) and 3.6 (error conditions).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

ERROR_CODES = (
    "badArgument",
    "badResumptionToken",
    "badVerb",
    "cannotDisseminateFormat",
    "idDoesNotExist",
    "noRecordsMatch",
    "noMetadataFormats",
    "noSetHierarchy",
)
"""The error codes of the protocol (OAI-PMH 2.0, section 3.6)."""

LIST_VERBS = ("ListIdentifiers", "ListRecords")

VERB_ARGUMENTS: dict[str, tuple[frozenset, frozenset, str | None]] = {
    "Identify": (frozenset(), frozenset(), None),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), None),
    "ListSets": (frozenset(), frozenset(), "resumptionToken"),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), None),
    "ListIdentifiers": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set"}),
        "resumptionToken",
    ),
    "ListRecords": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set"}),
        "resumptionToken",
    ),
}
"""Per verb: (required, optional, exclusive) arguments besides ``verb``."""

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SET_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
PREFIX = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
"""Shapes of setSpec and metadataPrefix (the patterns of the protocol's schema)."""
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
MAX_ARGUMENT_CHARS = 2000
"""Longest argument value accepted; longer values are a badArgument, not work."""


class OaiError(Exception):
    """A protocol error: ``code`` is one of :data:`ERROR_CODES`.

    ``keeps_request_attributes`` is False for ``badVerb`` and ``badArgument``: the
    protocol then echoes only the base URL in ``<request>`` (section 3.2).
    """

    def __init__(self, code: str, message: str):
        if code not in ERROR_CODES:
            raise ValueError(f"not an OAI-PMH error code: {code}")
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def keeps_request_attributes(self) -> bool:
        """Whether ``<request>`` may echo the arguments (not after badVerb/badArgument)."""
        return self.code not in ("badVerb", "badArgument")


@dataclass(frozen=True)
class Harvest:
    """The selection of a list request, carried unchanged by its resumption tokens.

    ``from_``/``until`` are inclusive UTC bounds (``until`` already widened to the end
    of its day or second); ``after`` is the last identifier already sent ("" at the
    start); ``cursor`` counts the items sent before this page; ``total`` is the
    complete list size counted on the first page (None until counted).
    """

    verb: str
    prefix: str
    from_: dt.datetime | None = None
    until: dt.datetime | None = None
    set_spec: str | None = None
    after: str = ""
    cursor: int = 0
    total: int | None = None


@dataclass(frozen=True)
class OaiRequest:
    """A valid request: the verb, its arguments as given, and for list verbs the
    :class:`Harvest` (from the arguments or decoded from the resumption token)."""

    verb: str
    arguments: dict[str, str]
    harvest: Harvest | None = None


def parse_datestamp(value: str, *, upper: bool = False) -> tuple[dt.datetime, str]:
    """Read a ``from``/``until`` argument (UTC, day or second granularity).

    Args:
        value: ``YYYY-MM-DD`` or ``YYYY-MM-DDThh:mm:ssZ``.
        upper: the bound is an upper one (``until``): widen it to the last
            microsecond of its day or second, so it is inclusive (section 3.3.1).
    Returns:
        ``(aware UTC datetime, "day" | "second")``.
    Raises:
        OaiError: ``badArgument`` for any other shape or an impossible date.
    """
    try:
        if DAY.match(value):
            start = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
            return (start + dt.timedelta(days=1, microseconds=-1) if upper else start), "day"
        if SECOND.match(value):
            start = dt.datetime.fromisoformat(value[:-1]).replace(tzinfo=dt.UTC)
            return (start + dt.timedelta(seconds=1, microseconds=-1) if upper else start), "second"
    except ValueError:
        pass
    raise OaiError("badArgument", f"not a UTC datestamp of the form {GRANULARITY}: {value!r}")


def format_datestamp(when: dt.datetime) -> str:
    """``when`` as an OAI datestamp in UTC at second granularity (``…Z``)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _single_values(args: Mapping[str, list[str]]) -> dict[str, str]:
    verbs = args.get("verb") or []
    if len(verbs) != 1 or verbs[0] not in VERB_ARGUMENTS:
        shown = verbs[0] if len(verbs) == 1 else ", ".join(verbs) or "none"
        raise OaiError("badVerb", f"not a legal OAI-PMH verb (or repeated): {shown}")
    out: dict[str, str] = {}
    for name, values in args.items():
        if len(values) != 1:
            raise OaiError("badArgument", f"the argument {name} is repeated")
        if len(values[0]) > MAX_ARGUMENT_CHARS:
            raise OaiError("badArgument", f"the argument {name} is too long")
        out[name] = values[0]
    return out


def parse_request(args: Mapping[str, list[str]], signer: TokenSigner) -> OaiRequest:
    """Validate the arguments of one request (section 3.1 and 3.6).

    Args:
        args: every argument name with all its values (a repeated argument is a
            ``badArgument``; a missing, repeated or unknown ``verb`` a ``badVerb``).
        signer: reads a ``resumptionToken``.
    Returns:
        the :class:`OaiRequest`.
    Raises:
        OaiError: ``badVerb``, ``badArgument`` (unknown, missing, empty or ill-formed
            arguments, differing granularities of ``from`` and ``until``) or
            ``badResumptionToken``.
    """
    values = _single_values(args)
    verb = values.pop("verb")
    required, optional, exclusive = VERB_ARGUMENTS[verb]
    allowed = required | optional | ({exclusive} if exclusive else set())
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise OaiError("badArgument", f"{verb} does not take the argument(s) {', '.join(unknown)}")
    empty = sorted(name for name, value in values.items() if not value)
    if empty:
        raise OaiError("badArgument", f"the argument(s) {', '.join(empty)} are empty")
    if exclusive and exclusive in values:
        if len(values) > 1:
            raise OaiError("badArgument", f"{exclusive} is an exclusive argument")
        if verb == "ListSets":
            raise OaiError("badResumptionToken", "ListSets answers in one response")
        harvest = signer.loads(values[exclusive])
        if harvest.verb != verb:
            raise OaiError("badResumptionToken", f"this resumptionToken is not one of {verb}")
        return OaiRequest(verb, values, harvest)
    missing = sorted(required - set(values))
    if missing:
        raise OaiError("badArgument", f"{verb} needs the argument(s) {', '.join(missing)}")
    if "set" in values and not SET_SPEC.match(values["set"]):
        raise OaiError("badArgument", f"not a set spec: {values['set']!r}")
    if "metadataPrefix" in values and not PREFIX.match(values["metadataPrefix"]):
        raise OaiError("badArgument", f"not a metadata prefix: {values['metadataPrefix']!r}")
    harvest = None
    if verb in LIST_VERBS:
        from_, until, granularities = None, None, set()
        if "from" in values:
            from_, granularity = parse_datestamp(values["from"])
            granularities.add(granularity)
        if "until" in values:
            until, granularity = parse_datestamp(values["until"], upper=True)
            granularities.add(granularity)
        if len(granularities) > 1:
            raise OaiError("badArgument", "from and until have different granularities")
        harvest = Harvest(verb, values["metadataPrefix"], from_, until, values.get("set"))
    return OaiRequest(verb, values, harvest)


class TokenSigner:
    """Resumption tokens: a signed, timestamped, opaque copy of a :class:`Harvest`.

    Signed with the app's ``SECRET_KEY`` (itsdangerous), so a token stays valid
    across a restart and on every worker, and nobody can forge one; expired after
    ``ttl_s`` seconds (the ``expirationDate`` of section 3.5).
    """

    SALT = "oai-pmh-resumption"

    def __init__(self, secret: str, ttl_s: int):
        self._serializer = URLSafeTimedSerializer(secret, salt=self.SALT)
        self.ttl_s = ttl_s

    def dumps(self, harvest: Harvest) -> str:
        """The token of ``harvest`` (the next page)."""
        payload = [
            harvest.verb,
            harvest.prefix,
            harvest.from_.isoformat() if harvest.from_ else None,
            harvest.until.isoformat() if harvest.until else None,
            harvest.set_spec,
            harvest.after,
            harvest.cursor,
            harvest.total,
        ]
        return self._serializer.dumps(payload)

    def loads(self, token: str) -> Harvest:
        """The :class:`Harvest` of ``token``.

        Raises:
            OaiError: ``badResumptionToken`` when the token is forged, damaged,
                expired or of another shape.
        """
        try:
            payload = self._serializer.loads(token, max_age=self.ttl_s)
        except SignatureExpired:
            raise OaiError("badResumptionToken", "this resumptionToken has expired") from None
        except BadSignature:
            raise OaiError("badResumptionToken", "this resumptionToken is not valid") from None
        try:
            verb, prefix, from_, until, set_spec, after, cursor, total = payload
            return Harvest(
                verb=str(verb),
                prefix=str(prefix),
                from_=dt.datetime.fromisoformat(from_) if from_ else None,
                until=dt.datetime.fromisoformat(until) if until else None,
                set_spec=set_spec,
                after=str(after),
                cursor=int(cursor),
                total=None if total is None else int(total),
            )
        except (TypeError, ValueError):
            raise OaiError("badResumptionToken", "this resumptionToken is not valid") from None
