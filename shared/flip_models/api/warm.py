"""Answers a warm container keeps: the model page it built last, for the ``POST`` the web app polls.

A browser never revalidates a ``POST`` (and RFC 9110 answers a matching ``If-None-Match`` on one with
``412``), so ``POST /step/model/{id}`` cannot be a ``304``. Instead the route reads the page's tag
first (:mod:`flip_models.core.versions`: the access check and the version, one query) and, when this
container built the page for that tag, answers it again. The tag names the caller (user and roles)
and everything the page shows, so an entry is only ever found by the caller it was built for, after
their access check, and never outlives a change. Memory is bounded: the least recently used entry
goes first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

T = TypeVar("T")

#: Pages a container keeps: one per (caller, model page) watched through it (a page is a few
#: kilobytes: a few megabytes in all).
WARM_ANSWERS = 1024


class WarmAnswers(Generic[T]):
    """A least-recently-used map from an answer's tag to the answer, of at most ``size`` entries."""

    def __init__(self, size: int = WARM_ANSWERS) -> None:
        self._size = size
        self._answers: OrderedDict[str, T] = OrderedDict()

    def get(self, tag: str) -> T | None:
        answer = self._answers.get(tag)
        if answer is not None:
            self._answers.move_to_end(tag)
        return answer

    def put(self, tag: str, answer: T) -> None:
        self._answers[tag] = answer
        self._answers.move_to_end(tag)
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._answers)

    def clear(self) -> None:
        self._answers.clear()
