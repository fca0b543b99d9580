"""JSON bodies encoded once per answer. The read cache (persistence/cached_reads.py) hands every request the
same object until its organization changes, so the body made of it is kept beside it, not encoded again."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import msgspec
from litestar import Response
from litestar.enums import MediaType

A = TypeVar("A")
B = TypeVar("B")


class EncodedOnce(Generic[A, B]):
    """`shape(answer, detail)` is the body; the last `keep` bodies are kept, each by its answer's identity and
    the detail, beside the answer itself (so that identity is never another object's while it is kept)."""

    def __init__(self, shape: Callable[[A, Hashable], B], keep: int = 64) -> None:
        self._shape = shape
        self._keep = keep
        self._bodies: dict[tuple[int, Hashable], tuple[A, bytes]] = {}

    def __call__(self, answer: A, detail: Hashable = None) -> Response[B]:
        key = (id(answer), detail)
        kept = self._bodies.get(key)
        if kept is not None and kept[0] is answer:
            body = kept[1]
        else:
            body = msgspec.json.encode(self._shape(answer, detail))
            if len(self._bodies) >= self._keep:
                del self._bodies[next(iter(self._bodies))]
            self._bodies[key] = (answer, body)
        return Response(content=body, media_type=MediaType.JSON)  # bytes, sent as they are
