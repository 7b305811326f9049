"""OAI-PMH 2.0 for harvesters: protocol rules, registry reads and XML.

- :mod:`.protocol` — arguments, datestamps, resumption tokens (pure);
- :mod:`.repository` — what is exposed, read from the registry;
- :mod:`.render` — the response document and the two metadata formats (pure);
- :mod:`.service` — the six verbs;
- ``schemas/`` — the XML schemas the responses validate against.

The HTTP view is :mod:`portal.views.oai`.
"""
