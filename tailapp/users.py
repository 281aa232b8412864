"""Who may do what: users (the shared token, a users file, an authenticating proxy) and their roles.

Roles are ranked: a viewer reads (pages, API reads, Socket.IO), an operator also starts, cancels and
restarts jobs, an admin also deletes them. The shared TAILAPP_AUTH_TOKEN signs in as an admin, so setups
from before users existed keep working.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from werkzeug.security import check_password_hash

from tailapp.config import ConfigError

ROLES = ("viewer", "operator", "admin")
TOKEN_USER = "token"  # the name the shared TAILAPP_AUTH_TOKEN signs in as
LOCAL_USER = "local"  # nobody signs in: no authentication is configured (local clients only)
MIN_TOKEN_LENGTH = 16
MIN_TOKEN_CHARACTERS = 6  # different characters: refuses "aaaaaaaaaaaaaaaa" and "1234123412341234"


@dataclass(frozen=True)
class User:
    """A signed-in user. `mark` changes when the user's credential or role changes, which ends their sessions."""

    name: str
    role: str
    mark: str = ""

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class Account:
    """A users-file entry; `token_hash` is a werkzeug password hash, empty for proxy-only users."""

    name: str
    role: str
    token_hash: str = ""

    def user(self) -> User:
        return User(self.name, self.role, _digest(f"{self.name}\0{self.role}\0{self.token_hash}"))


def _digest(text: str) -> str:
    return hashlib.sha256(b"tailapp-user:" + text.encode()).hexdigest()


def check_token_strength(token: str, what: str = "TAILAPP_AUTH_TOKEN") -> None:
    """Refuse a token that can be guessed; the message says how to make a good one."""
    if len(token) < MIN_TOKEN_LENGTH or len(set(token)) < MIN_TOKEN_CHARACTERS:
        raise ConfigError(f"{what} is too weak: use at least {MIN_TOKEN_LENGTH} characters, not a repeated pattern "
                          "(make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")


def token_user(token: str) -> User:
    return User(TOKEN_USER, "admin", _digest(f"token\0{token}"))


def load_accounts(path: str | None) -> dict[str, Account]:
    """The users file (TOML: [users.<name>] role = "...", token_hash = "..."); {} when not set."""
    if not path:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"TAILAPP_USERS_FILE {path}: {exc}") from None
    accounts = {}
    for name, entry in (data.get("users") or {}).items():
        role, token_hash = entry.get("role"), entry.get("token_hash", "")
        if name in (TOKEN_USER, LOCAL_USER):
            raise ConfigError(f"TAILAPP_USERS_FILE {path}: {name!r} is reserved (the shared token, no sign-in); "
                              "pick another name")
        if role not in ROLES:
            raise ConfigError(f"TAILAPP_USERS_FILE {path}: user {name!r} has role {role!r}; "
                              f"use one of {', '.join(ROLES)}")
        if not isinstance(token_hash, str) or (token_hash and "$" not in token_hash):
            raise ConfigError(f"TAILAPP_USERS_FILE {path}: user {name!r}: token_hash must be a hash made with "
                              "`tailapp hash-token`")
        accounts[name] = Account(name, role, token_hash)
    if not accounts:
        raise ConfigError(f"TAILAPP_USERS_FILE {path}: no [users.<name>] entries")
    return accounts


def verify(account: Account | None, token: str) -> User | None:
    """The account's user when `token` is its token; None otherwise (also for proxy-only accounts)."""
    if account is None or not account.token_hash:
        check_password_hash("scrypt:32768:8:1$x$" + "0" * 128, token)  # same time for unknown names
        return None
    return account.user() if check_password_hash(account.token_hash, token) else None
