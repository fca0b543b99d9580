"""A server process freezes what it started with, once, so that full garbage collections under load stop
walking it (server/heap.py)."""

from __future__ import annotations

import subprocess
import sys

from server import heap
from server.app import create_app
from server.config import Settings


def test_the_app_freezes_its_startup_objects_when_it_starts():
    assert heap.freeze_startup_objects in create_app(Settings(demo=True)).on_startup


def test_startup_objects_are_frozen_once_per_process_and_what_is_garbage_is_collected_first():
    script = """
import gc, weakref
from server import heap
gc.disable()  # no collection but the one under test
class Cycle:
    pass
garbage = Cycle(); garbage.me = garbage; gone = weakref.ref(garbage); del garbage
assert gc.get_freeze_count() == 0 and gone() is not None
heap.freeze_startup_objects()
frozen = gc.get_freeze_count()
assert frozen > 0
assert gone() is None, "garbage frozen"
kept = [[] for _ in range(1000)]
heap.freeze_startup_objects()
assert gc.get_freeze_count() == frozen, "frozen again"
print("ok", frozen)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")
