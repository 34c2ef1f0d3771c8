"""Where the user was and on what: browser and OS from the user agent
(``ua-parser``'s families), country from the SDK's geo data or, failing that,
the client IP (``iptocc``'s offline database; no network at run time).

User agents repeat heavily, so parses are cached; both lookups are in memory.
Only a user agent's first :data:`USER_AGENT_PREFIX` characters are parsed (and
cached): real ones are shorter, and a client's megabyte header must cost no
more than theirs. Names from the SDK are cut to :data:`NAME_LENGTH`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import iptocc
from ua_parser import parse as parse_user_agent

from glasspane.domain import ClientInfo
from glasspane.normalize.values import mapping, text

#: User agents are parsed (and cached) by this prefix only.
USER_AGENT_PREFIX = 512
#: Browser, OS and country names longer than this are cut (ClientInfo skips the limits pass).
NAME_LENGTH = 128
#: The longest IP address text (IPv6 with an embedded IPv4 and a zone id); longer is no IP.
IP_LENGTH = 64


@lru_cache(maxsize=8192)
def _families(user_agent: str) -> tuple[str | None, str | None]:
    parsed = parse_user_agent(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else None
    os_name = parsed.os.family if parsed.os else None
    return (None if browser == "Other" else browser, None if os_name == "Other" else os_name)


def describe_client(contexts: Any, request: Any, data: Any = None) -> tuple[str | None, str | None]:
    """``("Chrome 120", "Windows 10")`` for a page header: the SDK's browser and os
    contexts (name and version), else the request's User-Agent (or the span's
    ``user_agent.original``) parsed, with the major version."""
    contexts = mapping(contexts)
    browser, os_name = _named(contexts.get("browser")), _named(contexts.get("os"))
    agent = _header(mapping(request).get("headers"), "user-agent") or text(
        mapping(data).get("user_agent.original")
    )
    if agent and not (browser and os_name):
        ua_browser, ua_os = _described(agent[:USER_AGENT_PREFIX])
        browser, os_name = browser or ua_browser, os_name or ua_os
    return (
        browser[:NAME_LENGTH] if browser else None,
        os_name[:NAME_LENGTH] if os_name else None,
    )


def _named(context: Any) -> str | None:
    """``name version`` of a browser or os context; the version cut to its major part."""
    context = mapping(context)
    name = text(context.get("name"))
    if not name:
        return None
    version = text(context.get("version"))
    major = version.split(".", 1)[0] if version else None
    return f"{name} {major}" if major else name


@lru_cache(maxsize=8192)
def _described(user_agent: str) -> tuple[str | None, str | None]:
    parsed = parse_user_agent(user_agent)
    out: list[str | None] = []
    for part in (parsed.user_agent, parsed.os):
        if part is None or part.family == "Other":
            out.append(None)
        else:
            out.append(f"{part.family} {part.major}" if part.major else part.family)
    return out[0], out[1]


def country_of_ip(ip: str) -> str | None:
    return _country_of_ip(ip) if len(ip) <= IP_LENGTH else None


@lru_cache(maxsize=65536)
def _country_of_ip(ip: str) -> str | None:
    try:
        code = iptocc.country_code(ip)
    except (ValueError, TypeError):
        return None
    return str(code) if code else None


def _header(headers: Any, name: str) -> str | None:
    """A header from a dict or a list of pairs, any case."""
    if isinstance(headers, dict):
        pairs: list[Any] = list(headers.items())
    elif isinstance(headers, list):
        pairs = headers
    else:
        return None
    for pair in pairs:
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and str(pair[0]).lower() == name:
            return text(pair[1])
    return None


def client_info(
    *,
    user_agent: str | None,
    browser: str | None = None,
    os_name: str | None = None,
    country: str | None = None,
    ip: str | None = None,
) -> ClientInfo:
    """Explicit SDK values win; the user agent and the IP fill the gaps."""
    if user_agent and not (browser and os_name):
        ua_browser, ua_os = _families(user_agent[:USER_AGENT_PREFIX])
        browser = browser or ua_browser
        os_name = os_name or ua_os
    if not country and ip:
        country = country_of_ip(ip)
    return ClientInfo(
        browser=browser[:NAME_LENGTH] if browser else browser,
        os=os_name[:NAME_LENGTH] if os_name else os_name,
        country=country[:NAME_LENGTH].upper() if country else None,
    )


def from_event(payload: dict[str, Any], user_ip: str | None) -> ClientInfo:
    """From an event or transaction: request headers, browser/os contexts, user.geo."""
    contexts = mapping(payload.get("contexts"))
    user = mapping(payload.get("user"))
    geo = mapping(user.get("geo")) or mapping(contexts.get("geo"))
    return client_info(
        user_agent=_header(mapping(payload.get("request")).get("headers"), "user-agent"),
        browser=text(mapping(contexts.get("browser")).get("name")),
        os_name=text(mapping(contexts.get("os")).get("name")),
        country=text(geo.get("country_code")),
        ip=user_ip,
    )


def from_attributes(attrs: dict[str, Any], user_ip: str | None) -> ClientInfo:
    """From a v2 span's attributes."""
    agent = attrs.get("user_agent.original") or attrs.get("http.request.header.user_agent")
    if isinstance(agent, list):
        agent = agent[0] if agent else None
    return client_info(
        user_agent=text(agent),
        browser=text(attrs.get("browser.name")),
        os_name=text(attrs.get("os.name")),
        country=text(attrs.get("user.geo.country_code") or attrs.get("geo.country_code")),
        ip=user_ip,
    )
