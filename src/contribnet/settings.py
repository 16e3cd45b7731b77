"""Settings from the environment (``CONTRIBNET_*``), read once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from contribnet.domain.events import DEFAULT_STAGES

DEFAULT_STORE_URL = "sqlite:///./contribnet.db"


@dataclass(frozen=True)
class Settings:
    store_url: str = DEFAULT_STORE_URL
    stages: tuple[str, ...] = field(default=DEFAULT_STAGES)
    admin_key: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        stages = os.environ.get("CONTRIBNET_STAGES")
        return cls(
            store_url=os.environ.get("CONTRIBNET_STORE", DEFAULT_STORE_URL),
            stages=tuple(s.strip() for s in stages.split(",") if s.strip())
            if stages
            else DEFAULT_STAGES,
            admin_key=os.environ.get("CONTRIBNET_ADMIN_KEY") or None,
        )
