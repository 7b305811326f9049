"""The circuit breaker's states, with a hand-moved clock (pure, no cluster)."""

from __future__ import annotations

import pytest

from portal.breaker import CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_opens_after_threshold_failures_in_a_row_and_probes_once():
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown_s=10, clock=clock)
    for _ in range(2):
        breaker.before_call()
        breaker.failed()
    breaker.before_call()
    breaker.succeeded()  # a success in between resets the count
    for _ in range(3):
        breaker.before_call()
        breaker.failed()
    with pytest.raises(CircuitOpen) as refused:
        breaker.before_call()
    assert refused.value.retry_after == 10
    clock.now += 10
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # others wait for the probe's outcome
    breaker.failed()
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now += 10
    breaker.before_call()
    breaker.succeeded()
    assert not breaker.is_open
    breaker.before_call()
