"""Domain exceptions, mapped to HTTP statuses and CLI messages in one place each."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ConflictError", "ContribnetError", "FieldError", "InvalidEvents", "NotFound"]


class ContribnetError(Exception):
    """Base of every error contribnet raises on purpose."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one event: where it is, which event, which field, what is wrong."""

    index: int
    id: str | None
    field: str
    message: str
    line: int | None = None

    def describe(self) -> str:
        where = f"line {self.line}" if self.line is not None else f"event {self.index}"
        ident = f" (id {self.id})" if self.id else ""
        return f"{where}{ident}: {self.field}: {self.message}"


@dataclass
class InvalidEvents(ContribnetError):
    """A batch had invalid events; nothing of it was written."""

    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        shown = "; ".join(e.describe() for e in self.errors[:20])
        more = f" (and {len(self.errors) - 20} more)" if len(self.errors) > 20 else ""
        return f"{len(self.errors)} invalid event(s): {shown}{more}"


@dataclass
class ConflictError(ContribnetError):
    """An event id was re-used with different content; nothing of the batch was written."""

    ids: list[str]

    def __str__(self) -> str:
        return "event id re-used with different content: " + ", ".join(self.ids[:20])


@dataclass
class NotFound(ContribnetError):
    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind} {self.id!r} not found"
