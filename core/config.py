"""``jiceng.toml``, validated: one settings object for the whole process.

The file is read with :mod:`tomllib` and validated by pydantic; environment
variables (``JICENG_DATABASE_URL``, ``JICENG_SECRET_KEY``, ``JICENG_ENVIRONMENT``)
win over the file so secrets never have to live in it. Unknown keys are errors:
a typo such as ``sever.port`` must not pass silently.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jiceng.core.errors import FieldError, InvalidValue, describe_pydantic
from jiceng.plugins.manifest import EventTypeDecl

CONFIG_ENV = "JICENG_CONFIG"
DEFAULT_CONFIG = Path("jiceng.toml")
PLACEHOLDER_SECRET = "change-me"


class Section(BaseModel):
    """A config table: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)


class SecuritySettings(Section):
    session_cookie: str = "jiceng_session"
    session_max_age_hours: int = Field(8, ge=1, le=24 * 30)
    #: Set true behind TLS so the session cookie is never sent over plain HTTP.
    https_only: bool = False
    login_failures_per_user: int = Field(5, ge=1)
    login_failures_per_address: int = Field(20, ge=1)
    login_window_minutes: int = Field(15, ge=1)
    token_days: int = Field(30, ge=1, le=3650)


class RoleSettings(Section):
    """Extra permissions a town grants a built-in or local role, on top of the defaults."""

    zh: str | None = None
    en: str | None = None
    permissions: list[str] = []


class TownScenarios(Section):
    """``[towns."CODE"]``: scenarios switched on (or, with ``exclude``, off) at a town or for every town under a district."""

    scenarios: list[str] = []
    exclude: list[str] = []
    #: per-scenario settings, ``[towns."CODE".settings.SCENARIO_ID]``, validated against the scenario's settings model
    settings: dict[str, dict[str, object]] = {}


class RecordSettings(Section):
    """``[records]``: which source wins for which field (一数一源).

    ``authority = {"person.phone" = ["visit", "portal", "import"]}`` ranks the
    sources of a field, highest first; a value from a lower-ranked source that
    disagrees with a higher-ranked one is kept as a conflict to review.
    Fields not listed take the newest value from any source.
    """

    authority: dict[str, list[Literal["portal", "api", "import", "scenario", "visit"]]] = {}

    @field_validator("authority")
    @classmethod
    def _known_fields(cls, authority: dict[str, list[str]]) -> dict[str, list[str]]:
        """Keys are ``table.field`` of the three tables; a typo must not silently switch the rule off."""
        from jiceng.core.records.tables import TABLES  # the tables' fields; imported here to keep config light

        for key in authority:
            table, _, name = key.partition(".")
            if table not in TABLES or name not in TABLES[table].fields:
                raise InvalidValue("Unknown field {key}; write table.field, e.g. person.phone.", key=key)
        return authority


class CalendarSettings(Section):
    """``[events.calendar]``: the working day and the year's holidays and make-up working days (调休)."""

    workday_start: time = time(9, 0)
    workday_end: time = time(17, 30)
    holidays: list[date] = []
    extra_workdays: list[date] = []
    utc_offset_hours: int = Field(8, ge=-12, le=14)

    @field_validator("workday_end")
    @classmethod
    def _after_start(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("workday_start")
        if start is not None and value <= start:
            raise InvalidValue("The working day must end after it starts.")
        return value


class LocalEventType(EventTypeDecl):
    """``[[events.types]]``: a town's own event type, named ``local.<code>``; ``towns`` empty means every town."""

    towns: tuple[str, ...] = ()


class DispatchRuleSettings(Section):
    """``[[events.rules]]``: events of ``type`` (``*`` for any) under ``area`` go to ``department``."""

    area: str
    type: str = "*"
    department: str


class AssessmentWeights(Section):
    """``[events.weights]``: how the composite score weighs each rate (normalised to sum to 1)."""

    closure: float = Field(0.2, ge=0)
    on_time: float = Field(0.3, ge=0)
    first_time: float = Field(0.2, ge=0)
    rework: float = Field(0.1, ge=0)  # scored as 1 − rework rate
    satisfaction: float = Field(0.2, ge=0)


class AttachmentSettings(Section):
    """``[events.attachments]``: where photos are kept and what is accepted."""

    directory: str = "attachments"
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    content_types: list[str] = ["image/jpeg", "image/png", "image/webp", "application/pdf"]


class EventSettings(Section):
    """``[events]``: the event loop's calendar, local types, dispatch rules and assessment weights."""

    calendar: CalendarSettings = CalendarSettings()
    #: warn this many working hours before a deadline
    warn_hours: int = Field(4, ge=0)
    types: list[LocalEventType] = []
    rules: list[DispatchRuleSettings] = []
    weights: AssessmentWeights = AssessmentWeights()
    attachments: AttachmentSettings = AttachmentSettings()

    @field_validator("types")
    @classmethod
    def _local_codes(cls, types: list[LocalEventType]) -> list[LocalEventType]:
        for event_type in types:
            if not event_type.code.startswith("local."):
                raise InvalidValue("A town's own event type is named local.<code>, not {name}.", name=event_type.code)
        return types


class Settings(BaseSettings):
    """Everything configurable; ``jiceng config check`` validates a file against it."""

    model_config = SettingsConfigDict(env_prefix="JICENG_", extra="forbid", validate_default=True)

    environment: Literal["development", "production"] = "production"
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    database_url: str = "sqlite:///jiceng.db"
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    server: ServerSettings = ServerSettings()
    security: SecuritySettings = SecuritySettings()
    roles: dict[str, RoleSettings] = {}
    towns: dict[str, TownScenarios] = {}
    records: RecordSettings = RecordSettings()
    events: EventSettings = EventSettings()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):  # type: ignore[no-untyped-def]
        """Environment first, then the file's values (passed as init arguments)."""
        return (env_settings, init_settings)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise InvalidValue("Only sqlite:/// and postgresql:// database URLs are supported.")
        return value

    @field_validator("secret_key")
    @classmethod
    def _real_secret_outside_development(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        secret = value.get_secret_value()
        if info.data.get("environment") == "production" and (secret == PLACEHOLDER_SECRET or len(secret) < 32):
            raise InvalidValue(
                "Must be a random value of at least 32 characters outside development; "
                "set it in jiceng.toml or JICENG_SECRET_KEY."
            )
        return value


class ConfigError(Exception):
    """The file is missing, not TOML, or not valid; carries every problem found."""

    def __init__(self, path: Path | None, problems: list[FieldError]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message_en}" for p in problems))
        self.path = path
        self.problems = problems


def config_path(path: str | Path | None = None) -> Path:
    """The file to read: the argument, else ``$JICENG_CONFIG``, else ``./jiceng.toml``."""
    return Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_settings(path: str | Path | None = None, *, required: bool = False) -> Settings:
    """Read and validate the config file; a missing optional file means all defaults."""
    file = config_path(path)
    data: dict[str, object] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            zh_en = InvalidValue("The file is not valid TOML: {detail}", detail=str(exc)).texts()
            raise ConfigError(file, [FieldError("(file)", *zh_en)]) from exc
    elif required:
        raise ConfigError(file, [FieldError("(file)", *InvalidValue("The file does not exist.").texts())])
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(file, describe_pydantic(exc.errors())) from exc


STARTER = """\
# jiceng configuration. Check it with: jiceng config check
# Environment variables win over this file: JICENG_DATABASE_URL, JICENG_SECRET_KEY.
environment = "{environment}"
secret_key = "{secret}"
database_url = "{database_url}"
default_locale = "zh_CN"

[server]
host = "127.0.0.1"
port = 8000

[security]
# Set true when the portal is served over HTTPS.
https_only = false
"""


def write_starter(path: Path, *, database_url: str = "sqlite:///jiceng.db", environment: str = "development") -> bool:
    """Write a starter config with a fresh random secret; never overwrites an existing file."""
    if path.exists():
        return False
    path.write_text(
        STARTER.format(environment=environment, secret=secrets.token_urlsafe(48), database_url=database_url),
        encoding="utf-8",
    )
    return True
