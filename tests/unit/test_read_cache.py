"""The read cache's own rules: entries by organization, kept only if nothing was dropped while they were read,
bounded (persistence/read_cache.py). Its freshness against PostgreSQL: tests/integration/test_read_cache.py."""

from __future__ import annotations

from persistence.read_cache import MISSING, ReadCache


def test_dropping_an_organization_forgets_its_entries_and_no_other():
    cache = ReadCache(10)
    cache.put("a1", "org-a", 1, cache.generation)
    cache.put("a2", "org-a", 2, cache.generation)
    cache.put("b1", "org-b", 3, cache.generation)
    cache.drop("org-a")
    assert (cache.get("a1"), cache.get("a2"), cache.get("b1")) == (MISSING, MISSING, 3)
    cache.clear()
    assert cache.get("b1") is MISSING and len(cache) == 0


def test_an_answer_read_before_a_drop_is_not_kept_after_it():
    cache = ReadCache(10)
    began = cache.generation
    cache.drop("org-elsewhere")  # announced while the read was on its way: it may be this read's change
    cache.put("a1", "org-a", 1, began)
    assert cache.get("a1") is MISSING
    cache.put("a1", "org-a", 1, cache.generation)
    assert cache.get("a1") == 1


def test_none_is_an_answer_and_the_oldest_entry_goes_first_when_full():
    cache = ReadCache(2)
    cache.put("a", "org-a", None, cache.generation)
    cache.put("b", "org-b", 2, cache.generation)
    cache.put("b", "org-b", 3, cache.generation)  # replaced, not added
    assert cache.get("a") is None and len(cache) == 2
    cache.put("c", "org-c", 4, cache.generation)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (MISSING, 3, 4)
    cache.drop("org-a")  # its key went with the eviction
    assert len(cache) == 2


def test_a_cache_of_no_rows_keeps_nothing_and_a_page_costs_its_rows():
    cache = ReadCache(0)
    cache.put("a", "org-a", 1, cache.generation)
    assert cache.get("a") is MISSING
    cache = ReadCache(100)
    cache.put("small", "org-a", 1, cache.generation)
    cache.put("page", "org-a", "60 rows", cache.generation, cost=60)
    assert cache.cost == 61
    cache.put("larger", "org-b", "50 rows", cache.generation, cost=50)  # the oldest go until it fits
    assert (cache.get("small"), cache.get("page"), cache.get("larger"), cache.cost) == (MISSING, MISSING, "50 rows", 50)
    cache.put("too large", "org-b", "101 rows", cache.generation, cost=101)
    assert cache.get("too large") is MISSING and cache.cost == 50
    cache.drop("org-b")
    assert cache.cost == 0 and len(cache) == 0
