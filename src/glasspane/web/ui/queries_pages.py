"""The queries page (``/queries``): DB statements and outgoing HTTP calls, read as
``GET /api/v1/queries`` reads them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from glasspane.query import performance, queries
from glasspane.web.deps import instance_of
from glasspane.web.ui.render import page
from glasspane.web.ui.session import LoggedIn

router = APIRouter(include_in_schema=False)


def _toggle(current: str, column: str) -> str:
    """The sort a column header links to: descending first, then ascending."""
    return column if current == f"-{column}" else f"-{column}"


@router.get("/queries")
def queries_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
    sort: str = "-total_ms",
) -> HTMLResponse:
    """Statements per service and transaction, and HTTP calls per domain, by total time."""
    answer = queries.queries(instance_of(request).store, performance.window(query, period), sort)
    return page(
        request,
        "queries.html",
        session=session,
        nav="queries",
        statements=answer["queries"],
        http=answer["http"],
        sort=sort,
        toggle=_toggle,
        search_for=queries.description_search,
    )
