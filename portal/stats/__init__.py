"""Facet statistics and search analytics for analysts.

- :mod:`.aggregations` — pure builders of the one aggregation request and shapers of
  its response, driven by :data:`portal.search.facets.FACETS`.
- :mod:`.service` — runs them against ``innovations-members``; reads the search log;
  records public searches.
- :mod:`.tables` — the numbers as tables for HTML, charts and CSV.
- :mod:`.cli` — ``flask --app portal stats purge-search-log`` (retention).

The views are in :mod:`portal.views.stats`.
"""
