"""A Flask service with SQLAlchemy on SQLite and the real sentry-sdk (its
SQLAlchemy integration turns on by itself), with the classic ORM mistakes.

``/n-plus-one`` loads a case's documents, then each document's pages through the
lazy relationship: one query per document. ``pages.document_id`` has no index,
so each of those queries scans and sorts before its first row (several ms
each), as it does in real life. ``/joined`` loads the same data with one joined
query. ``/report`` runs one slow query. Each answers its ``trace_id``.
"""

from __future__ import annotations

import os
import tempfile

import sentry_sdk
from flask import Flask, jsonify
from sqlalchemy import ForeignKey, create_engine, insert, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    traces_sample_rate=1.0,
    release="e2e@1.0.0",
    environment="test",
)

DOCUMENTS_PER_CASE = 8
PAGES = 300_000


class Base(DeclarativeBase):
    pass


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int]
    pages: Mapped[list[Page]] = relationship(back_populates="document", order_by="Page.number")


class Page(Base):
    __tablename__ = "pages"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    number: Mapped[int]
    document: Mapped[Document] = relationship(back_populates="pages")


engine = create_engine(f"sqlite:///{tempfile.mkdtemp()}/cases.db")
Base.metadata.create_all(engine)
with Session(engine) as setup:
    documents = 1000
    setup.execute(insert(Document), [{"id": d, "case_id": d // 10} for d in range(documents)])
    setup.execute(insert(Page), [{"document_id": p % documents, "number": p} for p in range(PAGES)])
    setup.commit()

app = Flask(__name__)


def _trace_id() -> str | None:
    span = sentry_sdk.get_current_span()
    return span.trace_id if span else None


@app.get("/n-plus-one")
def n_plus_one():
    with Session(engine) as session:
        docs = session.scalars(select(Document).where(Document.case_id == 3)).all()
        pages = sum(len(doc.pages) for doc in docs)  # one lazy load per document
    return jsonify(trace_id=_trace_id(), documents=len(docs), pages=pages)


@app.get("/joined")
def joined():
    with Session(engine) as session:
        rows = session.execute(
            select(Document.id, Page.id).join(Page).where(Document.case_id == 3)
        ).all()
    return jsonify(trace_id=_trace_id(), pages=len(rows))


@app.get("/report")
def report():
    with Session(engine) as session:
        count = session.execute(
            text(
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                "WHERE x < 4000000) SELECT count(*) FROM n"
            )
        ).scalar()
    return jsonify(trace_id=_trace_id(), count=count)


if __name__ == "__main__":
    from serving import serve

    serve(app)
