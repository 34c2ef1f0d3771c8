"""Secrets made and checked: passwords (argon2id), personal tokens and session ids.

Passwords are hashed with argon2id (``argon2-cffi``'s defaults, RFC 9106's
low-memory profile: 64 MiB, 3 passes), a memory-hard function, because people
choose guessable passwords. Tokens and session ids are 256 random bits made
here, so a plain SHA-256 of them is enough (nobody can guess the input), and
lets a request find its token by digest with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from glasspane.errors import ProtocolError

PASSWORD_MIN = 8
#: Hashing is the costly part of a login; a bound keeps one request cheap.
PASSWORD_MAX = 1024
#: Personal tokens start with this, so secret scanners (and people) recognise them.
TOKEN_PREFIX = "glsp_"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches, in time independent of where it differs."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def unknown_user_hash() -> str:
    """A hash to verify against when the name is unknown, so the answer takes as
    long as for a known name and does not tell which names exist."""
    return _hasher.hash(secrets.token_urlsafe(16))


def checked_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ProtocolError(
            f"A password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long; "
            f"this one has {len(password)}"
        )
    return password


def new_password() -> str:
    """20 characters from the URL-safe alphabet: 120 random bits."""
    return secrets.token_urlsafe(15)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored of a token or a session id: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()
