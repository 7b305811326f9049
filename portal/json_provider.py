"""Flask's and opensearch-py's JSON through orjson: the same documents, encoded and
parsed in native code.

A search answer is a few hundred facet buckets and hits; encoding it with the
standard library showed in the portal's profile. :class:`OrjsonProvider` keeps the
behaviour of Flask's :class:`~flask.json.provider.DefaultJSONProvider` (dates as
HTTP dates, dataclasses, UUIDs, ``__html__`` objects, key order, compact output
unless debugging) but writes UTF-8 instead of ``\\uXXXX`` escapes, which JSON
readers treat alike, and compact by default. Calls with options orjson has no
equivalent for (``cls``, ``separators`` other than compact, an indent other than 2)
go to the standard library.
"""

from __future__ import annotations

import json
import typing as t

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider
from opensearchpy.exceptions import SerializationError
from opensearchpy.serializer import JSONSerializer

_COMPACT = (",", ":")
_HANDLED = {"default", "ensure_ascii", "sort_keys", "indent", "separators"}


class OrjsonProvider(DefaultJSONProvider):
    """A :class:`~flask.json.provider.DefaultJSONProvider` that encodes and decodes
    with orjson (install with ``app.json = OrjsonProvider(app)``)."""

    ensure_ascii = False

    def _options(self, kwargs: dict) -> int | None:
        """orjson option flags for ``json.dumps``-style ``kwargs``; None when orjson
        cannot honour them."""
        if set(kwargs) - _HANDLED or kwargs.get("ensure_ascii", self.ensure_ascii):
            return None
        separators, indent = kwargs.get("separators"), kwargs.get("indent")
        if indent not in (None, 2) or separators not in (None, _COMPACT):
            return None
        # dates go through ``default`` as in Flask (HTTP dates, not ISO 8601)
        options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
        if kwargs.get("sort_keys", self.sort_keys):
            options |= orjson.OPT_SORT_KEYS
        if indent == 2:
            options |= orjson.OPT_INDENT_2
        return options

    def _encode(self, obj: t.Any, **kwargs: t.Any) -> bytes | None:
        options = self._options(kwargs)
        if options is None:
            return None
        return orjson.dumps(obj, default=kwargs.get("default", self.default), option=options)

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialise ``obj`` to a JSON string (``json.dumps`` keyword arguments;
        compact unless ``indent`` or ``separators`` say otherwise)."""
        layout = {} if {"indent", "separators"} & set(kwargs) else {"separators": _COMPACT}
        encoded = self._encode(obj, **layout, **kwargs)
        if encoded is None:
            kwargs.setdefault("default", self.default)
            kwargs.setdefault("ensure_ascii", self.ensure_ascii)
            kwargs.setdefault("sort_keys", self.sort_keys)
            return json.dumps(obj, **kwargs)
        return encoded.decode()

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Parse JSON text or UTF-8 bytes (keyword arguments: the standard library)."""
        return json.loads(s, **kwargs) if kwargs else orjson.loads(s)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Like Flask's: ``args``/``kwargs`` as JSON in a response with a trailing
        newline, indented in debug mode; the bytes go to the response unchanged."""
        obj = self._prepare_response_obj(args, kwargs)
        pretty = (self.compact is None and self._app.debug) or self.compact is False
        layout = {"indent": 2} if pretty else {"separators": _COMPACT}
        encoded = self._encode(obj, **layout)
        body = encoded + b"\n" if encoded is not None else self.dumps(obj, **layout) + "\n"
        return self._app.response_class(body, mimetype=self.mimetype)


class OrjsonSerializer(JSONSerializer):
    """opensearch-py's JSON serializer through orjson: the portal's search bodies out
    and the answers (hits and facet buckets) in. Anything orjson refuses (integers
    beyond 64 bits) goes to opensearch-py's own serializer, which raises its
    ``SerializationError`` for what no JSON can hold."""

    def loads(self, s: str | bytes) -> t.Any:
        """Parse an answer body; raises ``SerializationError`` for invalid JSON."""
        try:
            return orjson.loads(s)
        except orjson.JSONDecodeError as exc:
            raise SerializationError(s, exc) from exc

    def dumps(self, data: t.Any) -> t.Any:
        """A request body as a string (strings are sent unchanged, as opensearch-py does)."""
        if isinstance(data, str):
            return data
        try:
            return orjson.dumps(data, default=self.default, option=orjson.OPT_NON_STR_KEYS).decode()
        except orjson.JSONEncodeError:
            return super().dumps(data)
