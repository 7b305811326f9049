"""The search benchmark's raw side sends the very body the portal sends."""

from bench.generate import read_records
from bench.search_bench import portal_view, query_body, query_mix, query_url


def _ids(hits: list[dict]) -> list[str]:
    return [hit["id"] for hit in hits]


def test_raw_body_finds_what_the_portal_finds_thesaurus_included(app, loaded, client):
    taxonomy, synonyms = portal_view(loaded["factory"])
    alias = loaded["names"].alias("public")
    http = app.test_client()
    # "bieb" is in the seeded thesaurus (with "bibliotheek"), so the portal expands it
    mix = [[("q", "bieb")], *query_mix(read_records(), 8, 9)]
    for args in mix:
        portal = http.get(query_url(args)).get_json()
        raw = client.search(index=alias, body=query_body(args, taxonomy, synonyms))
        assert raw["hits"]["total"]["value"] == portal["total"], args
        assert [h["_id"] for h in raw["hits"]["hits"]] == _ids(portal["hits"]), args
    assert query_body(mix[0], taxonomy, synonyms) != query_body(mix[0], taxonomy)
