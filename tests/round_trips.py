"""Counting the database round trips a piece of code costs (pg8000 flushes its socket once per trip)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pg8000.core
import pytest


@contextmanager
def counting_round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """A list that gets one entry per round trip made inside the block."""
    trips: list[object] = []
    real_flush = pg8000.core._flush

    def counting_flush(sock: object) -> None:
        trips.append(sock)
        real_flush(sock)

    with monkeypatch.context() as patch:
        patch.setattr(pg8000.core, "_flush", counting_flush)
        yield trips
