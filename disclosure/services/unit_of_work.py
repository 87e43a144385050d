"""The application context and the unit of work that owns every transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from disclosure.config import Settings
from disclosure.errors import ConflictError
from disclosure.models.db import ensure_schema, make_engine, session_factory


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    """What every use case needs: settings, the database, and a clock for audit timestamps."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    now: Callable[[], datetime] = field(default=utc_now)

    @classmethod
    def open(cls, settings: Settings | None = None, *, migrate: bool = True) -> App:
        settings = settings or Settings.from_env()
        engine = make_engine(settings.database_url)
        if migrate:
            ensure_schema(engine)
        return cls(settings, engine, session_factory(engine))

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    def close(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """``with app.uow() as uow: ...; uow.commit()`` — leaving without commit rolls back."""

    session: Session

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back what was not committed without expiring loaded rows, so
        # read-only use cases can hand their results to the caller.
        self.session.close()
        conflict = _as_conflict(exc)
        if conflict is not None:  # e.g. an autoflush inside the use case lost the lock
            raise conflict from None

    def commit(self) -> None:
        try:
            self.session.commit()
        except Exception as error:
            self.session.rollback()
            conflict = _as_conflict(error)
            if conflict is not None:
                raise conflict from None
            raise


def _as_conflict(error: BaseException | None) -> ConflictError | None:
    """A lost optimistic lock, a concurrent duplicate sequence number or a SQLite write lock
    held by another clerk all mean the same to the user: someone else changed the case."""
    if isinstance(error, StaleDataError):
        return ConflictError()
    if isinstance(error, IntegrityError) and any(
        table in str(error.orig) for table in ("audit_events", "clock_events")
    ):
        return ConflictError()
    if isinstance(error, OperationalError) and "locked" in str(error.orig):
        return ConflictError()
    return None
