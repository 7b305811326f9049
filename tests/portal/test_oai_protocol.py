"""OAI-PMH argument rules, datestamps and resumption tokens (pure, no servers)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.oai.protocol import (
    Harvest,
    OaiError,
    TokenSigner,
    format_datestamp,
    parse_datestamp,
    parse_request,
)

SIGNER = TokenSigner("secret", 3600)


def args(**values) -> dict[str, list[str]]:
    return {name.rstrip("_"): v if isinstance(v, list) else [v] for name, v in values.items()}


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ({}, "badVerb"),
        (args(verb="Harvest"), "badVerb"),
        (args(verb=["Identify", "Identify"]), "badVerb"),
        (args(verb=""), "badVerb"),
        (args(verb="Identify", set="x"), "badArgument"),
        (args(verb="GetRecord", identifier="oai:innovatiebieb:a"), "badArgument"),
        (args(verb="ListRecords"), "badArgument"),
        (args(verb="ListRecords", metadataPrefix=["oai_dc", "oai_dc"]), "badArgument"),
        (args(verb="ListRecords", metadataPrefix=""), "badArgument"),
        (args(verb="ListRecords", metadataPrefix="oai dc"), "badArgument"),
        (args(verb="ListRecords", metadataPrefix="oai_dc", set="a b"), "badArgument"),
        (args(verb="ListRecords", metadataPrefix="oai_dc", from_="2026-13-01"), "badArgument"),
        (args(verb="ListRecords", metadataPrefix="oai_dc", from_="2026-01-01T00:00:00"),
         "badArgument"),
        (args(verb="ListRecords", metadataPrefix="oai_dc", from_="2026-01-01",
              until="2026-02-01T00:00:00Z"), "badArgument"),
        (args(verb="ListRecords", metadataPrefix="oai_dc", resumptionToken="x"), "badArgument"),
        (args(verb="ListRecords", resumptionToken="not-a-token"), "badResumptionToken"),
        (args(verb="ListSets", resumptionToken="x"), "badResumptionToken"),
        (args(verb="Identify", x="y" * 3000), "badArgument"),
    ],
)  # fmt: skip
def test_bad_requests_get_the_protocols_error(given, code):
    with pytest.raises(OaiError) as caught:
        parse_request(given, SIGNER)
    assert caught.value.code == code


def test_a_list_request_becomes_a_harvest_with_inclusive_bounds():
    request = parse_request(
        args(verb="ListIdentifiers", metadataPrefix="ibieb", from_="2026-01-01",
             until="2026-01-31", set="community:werkplaats"),
        SIGNER,
    )  # fmt: skip
    harvest = request.harvest
    assert harvest.from_ == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert harvest.until == dt.datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    assert (harvest.prefix, harvest.set_spec) == ("ibieb", "community:werkplaats")


def test_until_at_second_granularity_includes_that_whole_second():
    until, granularity = parse_datestamp("2026-12-01T10:00:00Z", upper=True)
    assert granularity == "second"
    assert until == dt.datetime(2026, 12, 1, 10, 0, 0, 999999, tzinfo=dt.UTC)
    assert format_datestamp(until) == "2026-12-01T10:00:00Z"


def test_datestamps_are_utc_with_z():
    cet = dt.timezone(dt.timedelta(hours=1))
    assert format_datestamp(dt.datetime(2026, 12, 1, 11, 30, tzinfo=cet)) == "2026-12-01T10:30:00Z"
    assert format_datestamp(dt.datetime(2026, 12, 1, 10, 30)) == "2026-12-01T10:30:00Z"


def test_a_token_carries_the_harvest_and_is_opaque():
    harvest = Harvest("ListRecords", "oai_dc", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), None,
                      "priority", after="zz-laatste", cursor=200, total=512)  # fmt: skip
    token = SIGNER.dumps(harvest)
    assert "zz-laatste" not in token  # encoded and signed, not a readable value
    request = parse_request(args(verb="ListRecords", resumptionToken=token), SIGNER)
    assert request.harvest == harvest


def test_a_token_of_another_key_another_verb_or_tampered_is_refused():
    token = SIGNER.dumps(Harvest("ListRecords", "oai_dc", after="a", cursor=100))
    cases = [
        (TokenSigner("another-secret", 3600), "ListRecords", token),
        (SIGNER, "ListIdentifiers", token),
        (SIGNER, "ListRecords", token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
    ]
    for signer, verb, value in cases:
        with pytest.raises(OaiError) as caught:
            parse_request(args(verb=verb, resumptionToken=value), signer)
        assert caught.value.code == "badResumptionToken"


def test_an_expired_token_is_refused():
    token = SIGNER.dumps(Harvest("ListRecords", "oai_dc"))
    with pytest.raises(OaiError) as caught:
        TokenSigner("secret", -1).loads(token)
    assert caught.value.code == "badResumptionToken" and "expired" in caught.value.message


def test_error_codes_are_the_protocols():
    with pytest.raises(ValueError):
        OaiError("notACode", "x")
    assert not OaiError("badVerb", "x").keeps_request_attributes
    assert OaiError("noRecordsMatch", "x").keeps_request_attributes
