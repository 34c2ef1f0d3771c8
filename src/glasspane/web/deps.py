"""How a handler reaches the running parts: the one :class:`Instance` of the app."""

from __future__ import annotations

from starlette.requests import Request

from glasspane.instance import Instance


def instance_of(request: Request) -> Instance:
    """The instance serving ``request`` (set on the app by ``web.app.create_api_app``)."""
    instance: Instance = request.app.state.instance
    return instance
