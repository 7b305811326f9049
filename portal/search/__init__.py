"""Search logic: facet declarations, request parsing, query building, result shaping.

Pure Python over dicts: nothing here talks to OpenSearch except :mod:`.service`.
"""
