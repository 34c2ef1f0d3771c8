"""The simulated users: who uploads, from where, on which browser (pure).

The browser process and the auth-worker build the same population from the
same seed: the browser signs requests with a user's token, the auth-worker's
SQLite database knows every token. Shares follow the scenario's impact view:
mostly Chrome, then Safari, then Firefox; mostly the US, then Europe, then Asia.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

AGENTS: dict[str, tuple[str, ...]] = {
    "Chrome": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    "Safari": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/18.1 Safari/605.1.15",
    ),
    "Firefox": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ),
}
BROWSER_SHARES = {"Chrome": 0.75, "Safari": 0.17, "Firefox": 0.08}
COUNTRY_SHARES = {
    "US": 0.55,
    "CA": 0.05,
    "GB": 0.09,
    "DE": 0.08,
    "FR": 0.06,
    "NL": 0.04,
    "ES": 0.03,
    "IN": 0.04,
    "JP": 0.03,
    "SG": 0.02,
    "BR": 0.01,
}
FIRST = ("maria", "james", "aisha", "chen", "lukas", "sofia", "omar", "emma", "raj", "yuki")
LAST = ("garcia", "smith", "khan", "wang", "muller", "rossi", "haddad", "jones", "patel", "sato")
FIRMS = ("lawfirm.example", "arbitration.example", "counsel.example", "integra.example")
SCENARIO_USER = "demo@test.com"  # the scenario searches for this user's uploads: a busy one


@dataclass(frozen=True)
class User:
    id: str
    email: str
    token: str
    country: str
    browser: str
    user_agent: str
    weight: float  # how often this user uploads, relative to the others


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def population(count: int, seed: int) -> list[User]:
    """``count`` users (at least one): the scenario's demo@test.com, then generated ones."""
    rng = random.Random(seed)
    users = []
    for index in range(max(1, count)):
        if index == 0:
            email = SCENARIO_USER
        else:
            first, last = FIRST[index % len(FIRST)], LAST[(index // len(FIRST)) % len(LAST)]
            email = f"{first}.{last}{index}@{rng.choice(FIRMS)}"
        browser = "Chrome" if index == 0 else _pick(rng, BROWSER_SHARES)
        token = hashlib.sha256(f"{seed}:{email}".encode()).hexdigest()[:32]
        users.append(
            User(
                id=f"u-{1000 + index}",
                email=email,
                token=token,
                country="US" if index == 0 else _pick(rng, COUNTRY_SHARES),
                browser=browser,
                user_agent=rng.choice(AGENTS[browser]),
                weight=3.0 if index == 0 else rng.paretovariate(2.0),
            )
        )
    return users
