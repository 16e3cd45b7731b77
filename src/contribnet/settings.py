"""Settings from the environment (``CONTRIBNET_*``), read once per process.

Every environment variable contribnet reads is a field of :class:`Settings`, and the README's
table lists them. Secrets are ``SecretStr`` (shown as ``**********``); a store URL may carry a
password, so it is shown only through :func:`redacted_url`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contribnet.domain.errors import ContribnetError
from contribnet.domain.events import DEFAULT_ACTIONS, DEFAULT_STAGES
from contribnet.domain.flags import FlagRules

__all__ = [
    "DEFAULT_STORE_URL",
    "MIN_ADMIN_KEY_LENGTH",
    "Settings",
    "SettingsError",
    "redacted_url",
]

DEFAULT_STORE_URL = "sqlite:///./contribnet.db"
#: The bootstrap admin key from the environment opens everything: it must not be guessable.
MIN_ADMIN_KEY_LENGTH = 24


class SettingsError(ContribnetError):
    """An environment variable with a value contribnet cannot run with."""


def redacted_url(url: str) -> str:
    """A store URL fit to print: any password replaced by ``***``.

    >>> redacted_url("neo4j://neo4j:s3cret@db:7687/neo4j")
    'neo4j://neo4j:***@db:7687/neo4j'
    >>> redacted_url("sqlite:///./contribnet.db")
    'sqlite:///./contribnet.db'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


class Settings(BaseSettings):
    """The process's settings: each field is read from ``CONTRIBNET_<NAME>`` (names below)."""

    model_config = SettingsConfigDict(
        env_prefix="CONTRIBNET_",
        frozen=True,
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,  # an invalid secret is never echoed in the error
    )

    store_url: str = Field(
        default=DEFAULT_STORE_URL,
        validation_alias="CONTRIBNET_STORE",
        repr=False,  # it may carry a password
        description="the store: sqlite:///path.db or neo4j://user:pass@host:7687[/database]",
    )
    stages: Annotated[tuple[str, ...], NoDecode] = Field(
        default=DEFAULT_STAGES,
        description="the journey's stages in order, comma-separated",
    )
    actions: Annotated[tuple[str, ...], NoDecode] = Field(
        default=DEFAULT_ACTIONS,
        description="the actions an activity may record (they earn points), comma-separated",
    )
    flag_rules: Annotated[FlagRules, NoDecode] = Field(
        default_factory=FlagRules,
        description="thresholds of the fraud rules, name=value comma-separated (e.g. "
        "travel_hours=3,burst_touches=8); unnamed ones keep their defaults",
    )
    at_risk_drop: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="the at-risk list's default threshold: an advisor whose activity fell by "
        "more than this share (0 to 1) from one window to the next is listed",
    )
    pool_policy: Path | None = Field(
        default=None,
        description="the pool policy (TOML) that sets the lead follow-up deadlines; default: "
        "the shipped policies/pool/default.toml (72 hours everywhere)",
    )
    admin_key: SecretStr | None = Field(
        default=None,
        description=f"the bootstrap admin API key (at least {MIN_ADMIN_KEY_LENGTH} characters)",
    )
    key_pepper: SecretStr | None = Field(
        default=None,
        description="the server secret API keys are stored under (HMAC of each key, records "
        f"sealed with it; at least {MIN_ADMIN_KEY_LENGTH} characters); the same for the server "
        "and the CLI",
    )
    cache: Path | None = Field(
        default=None,
        description="the folder for downloads and builds (Neo4j jars, the launcher's classpath)",
    )
    mvn: str | None = Field(
        default=None, description="the Maven command that builds the local Neo4j launcher"
    )
    debug: bool = Field(default=False, description="show tracebacks of unexpected CLI errors")
    log_format: Literal["text", "json"] = Field(
        default="text", description="how `serve` logs: text or json (`serve --log-format`)"
    )
    observability: bool = Field(
        default=True,
        description="the access log, request metrics and /metrics (off: none of them, to "
        "measure their cost; request ids stay)",
    )

    @field_validator("stages", "actions", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            names = tuple(s.strip() for s in value.split(",") if s.strip())
            return names or (DEFAULT_STAGES if info.field_name == "stages" else DEFAULT_ACTIONS)
        return value

    @field_validator("flag_rules", mode="before")
    @classmethod
    def _flag_rules(cls, value: Any) -> Any:
        return FlagRules.parse(value) if isinstance(value, str) else value

    @field_validator("admin_key", "key_pepper", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def shown_store_url(self) -> str:
        """The store URL fit to print (no password)."""
        return redacted_url(self.store_url)

    def admin_secret(self) -> str | None:
        """The bootstrap admin key's text, for comparing with a caller's key."""
        return self.admin_key.get_secret_value() if self.admin_key else None

    def pepper(self) -> str | None:
        """The key pepper's text (None: not set, keys are kept under the built-in one)."""
        return self.key_pepper.get_secret_value() if self.key_pepper else None

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the environment gives; raises :class:`SettingsError` naming the variable
        with a bad value (a too short admin key among them)."""
        try:
            settings = cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"CONTRIBNET_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                for e in exc.errors()
            )
            raise SettingsError(f"bad environment: {problems}") from None
        secret = settings.admin_secret()
        if secret is not None and len(secret) < MIN_ADMIN_KEY_LENGTH:
            raise SettingsError(
                f"CONTRIBNET_ADMIN_KEY: the bootstrap admin key is {len(secret)} characters; "
                f"it needs at least {MIN_ADMIN_KEY_LENGTH} (e.g. python -c "
                "'import secrets; print(secrets.token_urlsafe(32))')"
            )
        pepper = settings.pepper()
        if pepper is not None and len(pepper) < MIN_ADMIN_KEY_LENGTH:
            raise SettingsError(
                f"CONTRIBNET_KEY_PEPPER: the key pepper is {len(pepper)} characters; it needs at "
                f"least {MIN_ADMIN_KEY_LENGTH} (e.g. python -c "
                "'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return settings
