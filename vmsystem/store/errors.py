"""Errors raised by the store.

The store does not know the product's error tree (``vmsystem.core.errors``); the core maps
these to user-facing errors (for example :class:`UniqueViolation` to ``409 CONFLICT``).
"""

from __future__ import annotations

__all__ = ["ForeignKeyViolation", "StoreError", "UniqueViolation"]


class StoreError(Exception):
    """Any failure of the store: the database cannot be opened, a write failed, ..."""


class UniqueViolation(StoreError):
    """A write collided with a uniqueness constraint.

    ``constraint`` names what collided, independent of the database backend:
    ``template_name``, ``template_id``, ``capability``, ``capability_id``,
    ``startup_file_path``, ``startup_file_id``, ``template_module``, ``template_library``,
    ``session_id``, ``execution_id``, ``execution_ordinal`` or ``event_seq`` (``unknown`` if
    it cannot be told).
    """

    def __init__(self, constraint: str, message: str | None = None) -> None:
        self.constraint = constraint
        super().__init__(message or f"unique constraint violated: {constraint}")


class ForeignKeyViolation(StoreError):
    """A write referenced a row that does not exist (or a delete left dangling references)."""

    def __init__(self, message: str = "foreign key constraint violated") -> None:
        super().__init__(message)
