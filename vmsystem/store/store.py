"""The :class:`Store` facade and :func:`open_store`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from alembic.util.exc import CommandError
from sqlalchemy.exc import SQLAlchemyError

from vmsystem.models import ExecutionMatch
from vmsystem.store.checkpoint import Checkpointer
from vmsystem.store.daemons import DaemonStore
from vmsystem.store.database import Database
from vmsystem.store.engine import create_store_engine, resolve_url
from vmsystem.store.errors import StoreError
from vmsystem.store.executions import ExecutionStore
from vmsystem.store.idempotency import IdempotencyStore
from vmsystem.store.integrity import translate
from vmsystem.store.migrator import current_revision, upgrade
from vmsystem.store.notify import CommitListener
from vmsystem.store.recovery import RecoveryStore
from vmsystem.store.search import SearchStore
from vmsystem.store.sessions import SessionStore
from vmsystem.store.templates import TemplateStore
from vmsystem.store.writer import Ordinals, WriteOp, Writer

__all__ = ["Store", "open_store"]


class Store(
    TemplateStore,
    SessionStore,
    ExecutionStore,
    RecoveryStore,
    SearchStore,
    IdempotencyStore,
    DaemonStore,
):
    """Persistence of templates, sessions, executions and events (SQLite or PostgreSQL).

    Template and session methods are synchronous; execution rows and events are written by
    one background writer (:meth:`submit`, :meth:`flush`). Every method is thread-safe.
    Create it with :func:`open_store`.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        #: The database URL, with the password hidden.
        self.url: str = db.engine.url.render_as_string(hide_password=True)
        self._checkpointer = Checkpointer(db) if db.is_sqlite else None
        if self._checkpointer is not None:
            db.on_commit = self._checkpointer.committed
        self._writer = Writer(db)

    def close(self) -> None:
        """Write everything submitted, stop the writer and close the connections. Idempotent."""
        if self._db.closed:
            return
        self._db.file_damaged()  # found damaged, the file is kept from the closing checkpoint
        self._writer.close()
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._db.close()

    def listen_commits(self, on_commit: Callable[[list[str]], None]) -> CommitListener | None:
        """PostgreSQL: call ``on_commit(execution_ids)`` whenever any daemon's writer commits
        events or final rows of those executions (None on SQLite: no notifications)."""
        if self._db.is_sqlite:
            return None
        return CommitListener(self._db, on_commit)

    def schema_version(self) -> str:
        """The Alembic revision the database is at (e.g. ``"0001"``)."""
        if self._db.closed:
            raise StoreError("store is closed")
        try:
            revision = current_revision(self._db.engine)
        except SQLAlchemyError as exc:
            raise translate(exc) from exc
        if revision is None:
            raise StoreError("database has no schema version")
        return revision

    def submit(self, op: WriteOp) -> Future[Ordinals]:
        """Queue an execution/event write (non-blocking); the future resolves on commit, to
        the ordinals given to the executions it inserted.

        The future carries the op's own :class:`StoreError` if it cannot be written.
        """
        return self._writer.submit(op)

    @property
    def commits(self) -> int:
        """Transactions the writer has committed since the store opened."""
        return self._writer.commits

    def submit_many(self, ops: list[WriteOp]) -> list[Future[Ordinals]]:
        """Queue several writes together (non-blocking): they are committed in one
        transaction; each future carries its own op's outcome (see :meth:`submit`)."""
        return self._writer.submit_many(ops)

    def write_now(self, ops: list[WriteOp]) -> list[Ordinals | Exception] | None:
        """Commit ``ops`` in one transaction on the calling thread when the writer is idle
        (SQLite only): each op's outcome, or None when they must be queued instead (see
        :meth:`Writer.write_now`)."""
        return self._writer.write_now(ops)

    def write(self, op: WriteOp, timeout: float | None = None) -> Ordinals:
        """Commit an execution/event write and wait for it (on the calling thread when the
        writer is idle); returns the ordinals given to the executions it inserted. Raises the
        op's own :class:`StoreError` if it cannot be written."""
        return self._writer.write(op, timeout)

    def search_executions(
        self, q: str, *, session_id: str | None = None, limit: int = 20, offset: int = 0
    ) -> tuple[list[ExecutionMatch], bool]:
        """Finished executions whose indexed text has every word of ``q``, best first (see
        :meth:`SearchStore.search_executions`); everything committed before is searched."""
        self._writer.index()
        return super().search_executions(q, session_id=session_id, limit=limit, offset=offset)

    def delete_session(self, session_id: str) -> bool:
        """Delete a session with its executions and their events (see
        :meth:`SessionStore.delete_session`); its executions still waiting for the search
        index are dropped from that queue."""
        self._writer.forget_session(session_id)
        return super().delete_session(session_id)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything submitted so far is committed (or failed).

        Raises :class:`TimeoutError` after ``timeout`` seconds.
        """
        self._writer.flush(timeout)


def open_store(db: str) -> Store:
    """Open the database ``db`` (a file path or a SQLAlchemy URL), migrate it to the newest
    schema and start the writer.

    Raises :class:`StoreError` if the database cannot be opened or migrated (for example
    ``cannot open database: directory /x/y does not exist``).
    """
    url = resolve_url(db)
    engine = create_store_engine(url)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        error = translate(exc)
        raise StoreError(f"cannot open database {url.render_as_string()}: {error}") from exc
    except CommandError as exc:  # e.g. a revision this version does not know (newer schema)
        engine.dispose()
        raise StoreError(f"cannot migrate database {url.render_as_string()}: {exc}") from exc
    except BaseException:
        engine.dispose()
        raise
    return Store(Database(engine))
