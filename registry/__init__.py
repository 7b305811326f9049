"""The registry: the relational source of truth for innovations, taxonomy and users.

Every write that changes what search shows goes through this package and appends a
row to the change feed (transactional outbox) in the same transaction; the indexer
follows that feed. Nothing outside this package writes records.
"""
