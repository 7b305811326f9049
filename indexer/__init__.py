"""The indexer: the only process that writes to OpenSearch.

It turns registry records into index documents (:mod:`indexer.documents`), follows
the registry's change feed (:mod:`indexer.sync`) and builds fresh versioned indices
behind two aliases (:mod:`indexer.rebuild`). Run it as ``python -m indexer``.
"""
