"""Guards around the portal's OpenSearch calls: a circuit breaker and a bulkhead.

A node that accepts connections and never answers would otherwise hold one
gunicorn thread per search for the whole request timeout, and requests that do not
need OpenSearch (``/healthz``) would queue behind them. Two guards prevent that:

- the **circuit breaker** opens after ``threshold`` consecutive connection
  failures or time-outs; while open, every call fails at once with
  :class:`CircuitOpen` (the portal answers 503 with ``Retry-After``). After
  ``cooldown_s`` one call is let through as a probe: success closes the breaker,
  failure opens it again.
- the **bulkhead** lets at most ``slots`` calls wait on OpenSearch at once per
  process; a call that finds no free slot within ``slot_wait_s`` fails with
  :class:`CircuitOpen` too, so the threads beyond the slots stay free for other
  requests.

Both live in :class:`GuardedTransport`, so every call of the portal's client
(search, msearch, get, point in time) is guarded alike.
"""

from __future__ import annotations

import math
import threading
import time

from opensearchpy import Transport
from opensearchpy.exceptions import ConnectionError as OSConnectionError


class CircuitOpen(OSConnectionError):
    """OpenSearch is treated as unavailable without trying; ``retry_after`` in seconds."""

    def __init__(self, reason: str, retry_after: int):
        super().__init__("N/A", reason, None)
        self.retry_after = retry_after


class CircuitBreaker:
    """Consecutive-failure circuit breaker with one probe after ``cooldown_s`` seconds.

    Thread-safe; one instance per process (the gunicorn threads of a worker share it).
    """

    def __init__(self, threshold: int = 3, cooldown_s: float = 10.0, clock=time.monotonic):
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        """True while calls are refused without trying."""
        with self._lock:
            return self._opened_at is not None

    def before_call(self) -> None:
        """Let a call through, or raise :class:`CircuitOpen` while the breaker is open.

        After the cool-down exactly one caller passes as the probe; the others keep
        being refused until the probe has an outcome.
        """
        with self._lock:
            if self._opened_at is None:
                return
            remaining = self._opened_at + self.cooldown_s - self._clock()
            if remaining > 0 or self._probing:
                raise CircuitOpen("circuit open", max(1, math.ceil(remaining)))
            self._probing = True

    def succeeded(self) -> None:
        """Record an answered call: the breaker closes."""
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def failed(self) -> None:
        """Record a connection failure or time-out; opens at ``threshold`` in a row."""
        with self._lock:
            self._failures += 1
            self._probing = False
            if self._failures >= self.threshold:
                self._opened_at = self._clock()


class GuardedTransport(Transport):
    """opensearch-py transport that consults a :class:`CircuitBreaker` and a bulkhead.

    Set ``breaker`` and ``slots`` (a :class:`threading.BoundedSemaphore`) after the
    client is built (:func:`guard`); without them it behaves like ``Transport``.
    """

    breaker: CircuitBreaker | None = None
    slots: threading.BoundedSemaphore | None = None
    slot_wait_s: float = 1.0

    def perform_request(self, *args, **kwargs):
        """``Transport.perform_request`` behind the breaker and the bulkhead.

        Raises:
            CircuitOpen: the breaker is open or no slot came free in time.
            opensearchpy.exceptions.ConnectionError: the call itself failed.
        """
        if self.breaker is not None:
            self.breaker.before_call()
        if self.slots is not None and not self.slots.acquire(timeout=self.slot_wait_s):
            raise CircuitOpen("all search slots busy", 1)
        try:
            result = super().perform_request(*args, **kwargs)
        except OSConnectionError:
            if self.breaker is not None:
                self.breaker.failed()
            raise
        finally:
            if self.slots is not None:
                self.slots.release()
        if self.breaker is not None:
            self.breaker.succeeded()
        return result


def guard(client, breaker: CircuitBreaker, slots: int, slot_wait_s: float = 1.0):
    """Attach ``breaker`` and a bulkhead of ``slots`` to ``client`` (built with
    ``transport_class=GuardedTransport``); returns the client."""
    transport = client.transport
    transport.breaker = breaker
    transport.slots = threading.BoundedSemaphore(slots)
    transport.slot_wait_s = slot_wait_s
    return client
