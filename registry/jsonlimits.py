"""Parsing JSON from outside (import lines, form fields) within limits.

Python's parser recurses once per nesting level: a line of a thousand brackets
raises ``RecursionError``, which no caller expects from bad input. :func:`loads`
turns that, an over-long text and a structure nested deeper than the caller allows
into one typed error, so every caller can report bad input as bad input.
"""

from __future__ import annotations

import json

from .errors import DomainError


class JsonLimitError(DomainError, ValueError):
    """JSON text that is too long or nested too deeply; ``params`` give the limit."""

    codes = ("json_too_long", "json_too_deep")


def depth(value: object) -> int:
    """Nesting depth of a parsed JSON value: 0 for a scalar, 1 for ``[]`` or ``{}``,
    one more per level of arrays and objects inside (iterative, any depth)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def loads(text: str | bytes, max_chars: int, max_depth: int) -> object:
    """``json.loads(text)`` for untrusted text, within limits.

    Args:
        text: the JSON text.
        max_chars: longest accepted text (characters, or bytes for ``bytes``).
        max_depth: deepest accepted nesting of arrays and objects (see :func:`depth`).
    Returns:
        the parsed value.
    Raises:
        JsonLimitError: longer than ``max_chars`` or nested deeper than ``max_depth``.
        json.JSONDecodeError: not JSON (a ``ValueError`` too).
    """
    if len(text) > max_chars:
        raise JsonLimitError(f"longer than {max_chars} characters", "json_too_long", max=max_chars)
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonLimitError(
            f"nested deeper than {max_depth} levels", "json_too_deep", max=max_depth
        ) from None
    if depth(value) > max_depth:
        raise JsonLimitError(
            f"nested deeper than {max_depth} levels", "json_too_deep", max=max_depth
        )
    return value
