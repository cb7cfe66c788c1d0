"""Feedback store: drafts shown, agents' decisions, summaries, KB gaps — SQLAlchemy, SQLite by default.

Any SQLAlchemy URL works (``COPILOT_DATABASE_URL``, e.g. ``postgresql+psycopg://user:pass@host/copilot``).
Customer text is stored **redacted** (``copilot.pii``) unless ``COPILOT_STORE_RAW_TEXT=1``. Every write is one
transaction. The schema is versioned in ``schema_info``; a database written by a newer version is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, create_engine, event, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from copilot.errors import CopilotError

if TYPE_CHECKING:
    from copilot.config import Settings
    from copilot.reply import Draft
    from copilot.summarize import Summary

SCHEMA_VERSION = 1
DECISIONS = ("accepted", "edited", "rejected")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class SchemaInfo(Base):
    __tablename__ = "schema_info"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class DraftRow(Base):
    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, index=True)
    agent: Mapped[str] = mapped_column(String(120), default="", index=True)
    language: Mapped[str] = mapped_column(String(16), index=True)
    reply_language: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)  # redacted unless store_raw_text
    reply: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(200))
    no_match: Mapped[bool] = mapped_column(Boolean, index=True)
    confidence: Mapped[float] = mapped_column(Float)
    citations: Mapped[str] = mapped_column(Text)  # JSON
    timings: Mapped[str] = mapped_column(Text)  # JSON
    category: Mapped[str] = mapped_column(String(120), default="")


class DecisionRow(Base):
    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, index=True)
    agent: Mapped[str] = mapped_column(String(120), default="")
    decision: Mapped[str] = mapped_column(String(16), index=True)
    final_text: Mapped[str] = mapped_column(Text, default="")
    edit_distance: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str] = mapped_column(Text, default="")


class SummaryRow(Base):
    __tablename__ = "summaries"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    language: Mapped[str] = mapped_column(String(16), index=True)
    category: Mapped[str] = mapped_column(String(120), index=True)
    sentiment_end: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    data: Mapped[str] = mapped_column(Text)  # the Summary as JSON
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)


class GapRow(Base):
    __tablename__ = "gaps"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, index=True)
    language: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)  # redacted unless store_raw_text
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"), nullable=True)


def edit_distance(a: str, b: str) -> float:
    """Normalised edit distance in [0, 1] (0 = unchanged)."""
    if a == b:
        return 0.0
    return 1.0 - SequenceMatcher(None, a, b, autojunk=False).ratio()


class FeedbackStore:
    """Thread-safe access to the feedback database (one short transaction per call)."""

    def __init__(self, url: str, *, store_raw_text: bool = False) -> None:
        self.url = url
        self.store_raw_text = store_raw_text
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = threading.Lock()
        self._migrate()

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        url = settings.database_url or f"sqlite:///{settings.models_dir / 'feedback.db'}"
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return cls(url, store_raw_text=settings.store_raw_text)

    def _migrate(self) -> None:
        Base.metadata.create_all(self.engine)
        with self.tx() as s:
            info = s.get(SchemaInfo, 1)
            if info is None:
                s.add(SchemaInfo(id=1, version=SCHEMA_VERSION))
            elif info.version > SCHEMA_VERSION:
                raise CopilotError(
                    f"the feedback database at {self.url} has schema version {info.version}, newer than this copilot "
                    f"({SCHEMA_VERSION}); upgrade the copilot or point COPILOT_DATABASE_URL at another database"
                )

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._lock, self._session() as s, s.begin():
            yield s

    def _text(self, text: str) -> str:
        if self.store_raw_text:
            return text
        from copilot.pii import redact

        return redact(text)

    # ------------------------------------------------------------------ writes
    def record_draft(self, message: str, draft: Draft, *, agent: str = "", category: str = "") -> int:
        with self.tx() as s:
            row = DraftRow(
                agent=agent,
                language=draft.language,
                reply_language=draft.reply_language,
                message=self._text(message),
                reply=self._text(draft.reply),
                path=draft.path,
                model=draft.model,
                no_match=draft.no_match,
                confidence=float(draft.confidence),
                citations=json.dumps([c.to_dict() for c in draft.citations], ensure_ascii=False),
                timings=json.dumps(draft.timings),
                category=category,
            )
            s.add(row)
            s.flush()
            if draft.no_match:
                s.add(GapRow(language=draft.language, message=row.message, draft_id=row.id))
            return int(row.id)

    def record_decision(self, draft_id: int, decision: str, *, final_text: str = "", reason: str = "", agent: str = "") -> int:
        if decision not in DECISIONS:
            raise CopilotError(f"decision must be one of {', '.join(DECISIONS)}")
        if decision == "rejected" and not reason.strip():
            raise CopilotError("give a reason when rejecting a draft")
        with self.tx() as s:
            draft = s.get(DraftRow, draft_id)
            if draft is None:
                raise CopilotError(f"no draft {draft_id}")
            original = draft.reply
            final = self._text(final_text) if final_text else original
            if decision == "edited" and final == original:
                decision = "accepted"
            row = DecisionRow(
                draft_id=draft_id,
                agent=agent or draft.agent,
                decision=decision,
                final_text=final if decision != "rejected" else "",
                edit_distance=edit_distance(original, final) if decision == "edited" else 0.0,
                reason=reason.strip()[:1000],
            )
            s.add(row)
            s.flush()
            return int(row.id)

    def record_summary(self, conversation_id: str, summary: Summary) -> int:
        with self.tx() as s:
            row = SummaryRow(
                conversation_id=conversation_id,
                language=summary.language,
                category=summary.category,
                sentiment_end=summary.sentiment.get("end", ""),
                status=summary.resolution.get("status", ""),
                data=json.dumps(summary.to_dict(), ensure_ascii=False),
            )
            s.add(row)
            s.flush()
            return int(row.id)

    def update_summary(self, summary_id: int, *, text: str | None = None, approved: bool | None = None) -> None:
        with self.tx() as s:
            row = s.get(SummaryRow, summary_id)
            if row is None:
                raise CopilotError(f"no summary {summary_id}")
            if text is not None:
                data = json.loads(row.data)
                if text.strip() != data.get("summary", ""):
                    data["summary"] = text.strip()
                    row.edited = True
                    row.data = json.dumps(data, ensure_ascii=False)
            if approved is not None:
                row.approved = approved

    # ------------------------------------------------------------------ reads
    def summaries(
        self, *, language: str = "", category: str = "", sentiment: str = "", status: str = "", limit: int = 200
    ) -> list[dict[str, Any]]:
        with self.tx() as s:
            q = select(SummaryRow).order_by(SummaryRow.id.desc()).limit(limit)
            for col, val in (
                (SummaryRow.language, language),
                (SummaryRow.category, category),
                (SummaryRow.sentiment_end, sentiment),
                (SummaryRow.status, status),
            ):
                if val:
                    q = q.where(col == val)
            return [
                {
                    "id": r.id,
                    "conversation_id": r.conversation_id,
                    "approved": r.approved,
                    "edited": r.edited,
                    **json.loads(r.data),
                }
                for r in s.scalars(q)
            ]

    def stats(self) -> dict[str, Any]:
        """Drafts shown, decisions per kind, mean edit distance, per agent and per language, rejection reasons."""
        with self.tx() as s:
            drafts = s.scalar(select(func.count(DraftRow.id))) or 0
            rows = s.execute(
                select(
                    DecisionRow.decision,
                    DraftRow.language,
                    DecisionRow.agent,
                    DecisionRow.edit_distance,
                    DecisionRow.reason,
                    DecisionRow.created_at,
                ).join(DraftRow, DraftRow.id == DecisionRow.draft_id)
            ).all()
        out: dict[str, Any] = {
            "drafts": drafts,
            "accepted": 0,
            "edited": 0,
            "rejected": 0,
            "by_language": {},
            "by_agent": {},
            "reasons": {},
            "by_day": {},
        }
        dists = []
        for decision, lang, agent, dist, reason, when in rows:
            out[decision] += 1
            for key, val in (("by_language", lang), ("by_agent", agent or "-")):
                bucket = out[key].setdefault(val, {"accepted": 0, "edited": 0, "rejected": 0})
                bucket[decision] += 1
            day = when.date().isoformat()
            out["by_day"].setdefault(day, {"accepted": 0, "edited": 0, "rejected": 0})[decision] += 1
            if decision == "edited":
                dists.append(dist)
            if decision == "rejected" and reason:
                out["reasons"][reason] = out["reasons"].get(reason, 0) + 1
        out["mean_edit_distance"] = sum(dists) / len(dists) if dists else 0.0
        return out

    def gaps(self, limit: int = 500) -> list[dict[str, Any]]:
        with self.tx() as s:
            q = select(GapRow).order_by(GapRow.id.desc()).limit(limit)
            return [
                {"id": g.id, "language": g.language, "message": g.message, "created_at": g.created_at.isoformat()}
                for g in s.scalars(q)
            ]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
