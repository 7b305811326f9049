"""Node lists and index shape from the environment (pure functions of indexer.client)."""

from __future__ import annotations

import pytest

from indexer.client import index_body, index_shape, make_client, node_urls
from settings import SettingsError


def test_a_node_list_is_split_at_commas():
    assert node_urls("http://a:9200, http://b:9201/ ,,https://c") == [
        "http://a:9200", "http://b:9201", "https://c",
    ]  # fmt: skip


@pytest.mark.parametrize("bad", [" , ", "a:9200", "http://a:9200,ftp://b", "http://a b"])
def test_a_malformed_node_list_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="OPENSEARCH_URL"):
        node_urls(bad)


def test_a_client_of_several_nodes_retries_on_another_node():
    single = make_client("http://127.0.0.1:1")
    several = make_client("http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3")
    assert single.transport.max_retries == 0 and single.transport.retry_on_status == ()
    assert several.transport.max_retries == 2
    assert 503 in several.transport.retry_on_status
    assert not several.transport.retry_on_timeout  # a hanging cluster: one time-out, not three


def test_shards_and_replicas_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("INDEX_SHARDS", raising=False)
    monkeypatch.delenv("INDEX_REPLICAS", raising=False)
    assert index_shape() == {"number_of_shards": 1, "number_of_replicas": 0}
    monkeypatch.setenv("INDEX_SHARDS", "3")
    monkeypatch.setenv("INDEX_REPLICAS", "1")
    settings = index_body("members")["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == (3, 1)


BAD_SHAPES = [("INDEX_SHARDS", "0"), ("INDEX_REPLICAS", "-1"), ("INDEX_REPLICAS", "one"),
              ("INDEX_SHARDS", "65")]  # fmt: skip


@pytest.mark.parametrize("name, value", BAD_SHAPES)
def test_a_bad_shape_is_a_clear_error(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        index_shape()
