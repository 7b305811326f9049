"""Benchmarks at scale: a seeded data generator and a harness that measures
the indexer, the portal, a taxonomy merge and edit-to-searchable latency side by side
with what OpenSearch itself does on the same machine in the same run.

Entry points: ``python -m bench.generate`` (synthetic records) and ``python -m bench.run``
(the measurements, written to ``bench/results/``). See ``bench/README.md``.
"""
