"""The change feed's fan-out to open pages: per organization, bounded, and a page that falls behind is dropped."""

from __future__ import annotations

from persistence.change_feed import EVERYTHING, OrganizationChanges


async def test_a_change_reaches_only_the_pages_of_its_organization():
    changes = OrganizationChanges()
    acme, other = changes.subscribe("acme"), changes.subscribe("other")

    changes.tell("acme")

    assert acme.changes.qsize() == 1 and other.changes.qsize() == 0


async def test_everything_reaches_every_open_page():
    changes = OrganizationChanges()
    pages = [changes.subscribe("acme"), changes.subscribe("other")]

    changes.tell(EVERYTHING)

    assert [page.changes.get_nowait() for page in pages] == ["acme", "other"]


async def test_a_page_that_falls_behind_is_dropped_and_the_others_still_hear():
    changes = OrganizationChanges(queue_size=2)
    slow, quick = changes.subscribe("acme"), changes.subscribe("acme")
    for _ in range(3):
        changes.tell("acme")
        quick.changes.get_nowait()

    assert slow.dropped and not quick.dropped
    assert changes.subscribers == 1
    changes.tell("acme")
    assert quick.changes.qsize() == 1


async def test_no_more_pages_than_the_bound_and_a_closed_page_frees_its_place():
    changes = OrganizationChanges(max_subscribers=1)
    first = changes.subscribe("acme")

    assert changes.subscribe("acme") is None
    changes.unsubscribe(first)
    assert changes.subscribe("acme") is not None
