"""Users, their API tokens, and the login-failure log that rate-limits guessing.

API tokens are random 256-bit strings shown once; only their SHA-256 is
stored (a slow hash adds nothing for secrets with that much entropy, and token
checks sit on every API request). Login failures are rows, not process
memory, so the limit holds across several worker processes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func
from sqlmodel import Field, Session, SQLModel, col, select

from jiceng.core.db import utcnow
from jiceng.core.errors import AppError, FieldError, bad_request, conflict, not_found
from jiceng.core.i18n import both
from jiceng.core.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password

TOKEN_PREFIX = "jc_"
USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


class UserBase(SQLModel):
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    is_active: bool = True


class User(UserBase, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class UserPublic(SQLModel):
    id: int
    username: str
    display_name: str
    is_active: bool


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class LoginFailure(SQLModel, table=True):
    """One failed login, kept for the rate-limit window."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)


def validate_new_user(username: str, display_name: str, phone: str | None, password: str | None) -> None:
    problems = []
    if not USERNAME_RE.match(username):
        problems.append(
            FieldError(
                "username", *both("Use 2–64 lower-case letters, digits, '.', '_' or '-', starting with a letter.")
            )
        )
    if not display_name.strip():
        problems.append(FieldError("display_name", *both("This field is required.")))
    if phone and not PHONE_RE.match(phone):
        problems.append(FieldError("phone", *both("Not a mainland mobile or landline number.")))
    if password is not None and len(password) < MIN_LENGTH:
        problems.append(FieldError("password", *both("At least {n} characters.", n=MIN_LENGTH)))
    if problems:
        raise bad_request("Some fields are not valid.", fields=problems)


def create_user(
    session: Session, *, username: str, display_name: str, phone: str | None = None, password: str | None = None
) -> User:
    """A new active user; a duplicate username answers 409."""
    validate_new_user(username, display_name, phone, password)
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise conflict("User {username} already exists.", username=username)
    user = User(
        username=username,
        display_name=display_name.strip(),
        phone=phone or None,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise not_found("No user named {username}.", username=username)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    validate_new_user(user.username, user.display_name, None, password)
    user.password_hash = hash_password(password)
    session.add(user)


def recent_failures(session: Session, *, username: str, address: str, window: timedelta) -> tuple[int, int]:
    """Failures in the window for this username and for this address."""
    since = utcnow() - window
    by_user = session.exec(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username == username, col(LoginFailure.at) >= since)
    ).one()
    by_address = session.exec(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.address == address, col(LoginFailure.at) >= since)
    ).one()
    return by_user, by_address


class LoginLimits(SQLModel):
    per_user: int
    per_address: int
    window: timedelta


def authenticate(session: Session, *, username: str, password: str, address: str, limits: LoginLimits) -> User | None:
    """The active user with this password, or None after recording the failure.

    The caller commits either way (the failure row must survive) and answers
    401 for None. Over the limit this raises 429 before looking at the password,
    so a locked-out guesser learns nothing even when the guess is right.
    """
    by_user, by_address = recent_failures(session, username=username, address=address, window=limits.window)
    if by_user >= limits.per_user or by_address >= limits.per_address:
        raise AppError(
            429,
            "too_many_attempts",
            "Too many failed logins; try again in {minutes} minutes.",
            {"minutes": int(limits.window.total_seconds() // 60)},
        )
    user = session.exec(select(User).where(User.username == username)).first()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        session.add(LoginFailure(username=username[:64], address=address[:64]))
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    session.exec(delete(LoginFailure).where(col(LoginFailure.username) == username))  # type: ignore[call-overload]
    session.exec(delete(LoginFailure).where(col(LoginFailure.at) < utcnow() - limits.window))  # type: ignore[call-overload]
    return user


def bad_credentials() -> AppError:
    return AppError(401, "bad_credentials", "Wrong username or password.")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, *, name: str, days: int | None) -> str:
    """Create a token and return it in clear text: the only time anyone sees it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=days) if days else None
    session.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(token), expires_at=expires))  # type: ignore[arg-type]
    session.flush()
    return token


TOKEN_OWNER = (
    select(User, col(ApiToken.expires_at))
    .join(ApiToken, col(User.id) == ApiToken.user_id)
    .where(
        col(ApiToken.token_hash) == bindparam("token_hash"),
        col(ApiToken.revoked_at).is_(None),
        col(User.is_active).is_(True),
    )
)


def user_for_token(session: Session, token: str) -> User | None:
    """The active owner of a valid, unrevoked, unexpired token.

    This runs on every API request, so it loads the one object it returns
    (the token's expiry comes along as a plain column, not as a second entity)
    with a statement built once: building it anew cost more than running it.
    """
    row = session.exec(TOKEN_OWNER, params={"token_hash": hash_token(token)}).first()  # type: ignore[call-overload]
    if row is None:
        return None
    user, expires_at = row
    if expires_at is not None and expires_at <= utcnow():
        return None
    return user


def revoke_tokens(session: Session, user: User, *, name: str | None = None) -> int:
    """Revoke the user's tokens (all, or those with ``name``); returns how many."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
    if name:
        query = query.where(ApiToken.name == name)
    tokens = session.exec(query).all()
    for token in tokens:
        token.revoked_at = utcnow()
        session.add(token)
    return len(tokens)
