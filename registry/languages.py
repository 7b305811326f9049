"""The languages of the portal: the one declaration of them.

Taxonomy labels exist in each (``taxonomy.json``: ``nl`` and ``en``), the indexer
writes ``labels_<lang>`` per language, the search parameter ``lang`` accepts them,
the portal's locale is chosen among them and OAI-PMH writes a label per language.
"""

LANGUAGES = ("nl", "en")
"""Every language, the default first."""

DEFAULT_LANGUAGE = LANGUAGES[0]
"""Dutch: the portal speaks Dutch unless English is asked for."""
