"""Managed worktrees in the store (both backends): the flag and the removal time round-trip,
sharing is counted, and the retention finds closed sessions whose worktree is still there."""

from __future__ import annotations

from vmsystem.models import SessionStatus
from vmsystem.store import Store

from . import factories as f


def test_the_managed_flag_and_removal_time_round_trip(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    managed = f.session(t.id, worktree_managed=True, worktree_path="/w/a")
    explicit = f.session(t.id)
    store.insert_session(managed)
    store.insert_session(explicit)
    assert store.get_session(managed.id).worktree_managed is True  # type: ignore[union-attr]
    assert store.get_session(explicit.id).worktree_managed is False  # type: ignore[union-attr]
    store.update_session(managed.id, worktree_removed_at=f.at(5))
    assert store.get_session(managed.id).worktree_removed_at == f.at(5)  # type: ignore[union-attr]


def test_sessions_sharing_a_worktree_are_counted(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    source = f.session(t.id, worktree_managed=True, worktree_path="/w/shared")
    fork = f.session(t.id, worktree_managed=True, worktree_path="/w/shared")
    other = f.session(t.id, worktree_managed=True, worktree_path="/w/other")
    for s in (source, fork, other):
        store.insert_session(s)
    assert store.sessions_using_worktree("/w/shared", besides=source.id) == 1
    assert store.sessions_using_worktree("/w/other", besides=other.id) == 0


def test_expired_worktrees_are_closed_managed_and_not_yet_removed(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    closed = SessionStatus.CLOSED
    old = f.session(t.id, status=closed, closed_at=f.at(10), worktree_managed=True)
    recent = f.session(t.id, status=closed, closed_at=f.at(100), worktree_managed=True)
    explicit = f.session(t.id, status=closed, closed_at=f.at(10))
    removed = f.session(
        t.id, status=closed, closed_at=f.at(10), worktree_managed=True, worktree_removed_at=f.at(20)
    )
    live = f.session(t.id, worktree_managed=True)
    for s in (old, recent, explicit, removed, live):
        store.insert_session(s)
    assert [s.id for s in store.expired_worktrees(f.at(50))] == [old.id]
    assert {s.id for s in store.expired_worktrees(f.at(200))} == {old.id, recent.id}
