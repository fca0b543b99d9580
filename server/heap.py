"""The objects a server process starts with, kept out of the cyclic garbage collector's full collections.

Under load a request's objects that are alive when a young collection runs are promoted to the oldest
generation, and CPython collects that generation in full once enough were promoted: with 16 requests in
flight on the members page that was about once a second, each time walking every object made at
start (modules, routes, schemas, templates) for 140-160 ms, while every request in flight waited
(the p99 of the members page). Frozen after start, those objects are never walked again; a
full collection then takes a few milliseconds. They stay alive for the life of the process anyway.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_startup_objects() -> None:
    """Once per process, when the first app has started: what is garbage is collected, the rest frozen."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()
