"""The folders the scale-out commands read: an export (``contribnet export``) and a recompute
(``contribnet recompute``), checked before any work starts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from contribnet.domain.settlement import PolicyRecord
from contribnet.domain.split import Split
from contribnet.scale import ScaleError
from contribnet.scale.export import EXPORT_FORMAT, MANIFEST, require_pyarrow
from contribnet.services.settlement import RecomputedSplit

__all__ = [
    "RECOMPUTE_FORMAT",
    "Export",
    "Recompute",
    "read_export",
    "read_recompute",
]

#: What ``format`` a recompute's manifest says.
RECOMPUTE_FORMAT = "contribnet-recompute/1"

#: The columns each export table must have (a folder missing one is not an export).
_EXPORT_COLUMNS = {
    "journeys": {"deal", "closed_at", "journey"},
    "paths": {"items", "closes"},
    "staff": {"id", "store"},
    "stores": {"id", "brand", "city"},
}
_SPLIT_COLUMNS = {"deal", "policy", "policy_hash", "model", "input_hash", "split", "error"}


def _manifest(folder: Path, expected: str, what: str, made_by: str) -> dict[str, Any]:
    if not folder.is_dir():
        raise ScaleError(f"no folder {folder}: {made_by}")
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScaleError(f"{folder} is not {what} (no {MANIFEST}): {made_by}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScaleError(f"{path} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != expected:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ScaleError(
            f"{folder} is not {what}: its {MANIFEST} says format {found!r}, not {expected!r}; "
            f"{made_by}"
        )
    return manifest


def _check_table(folder: Path, name: str, columns: set[str]) -> None:
    """The table's Parquet files can be read and have ``columns``."""
    require_pyarrow()
    import pyarrow.dataset as ds

    table = folder / name
    try:
        schema = ds.dataset(table, format="parquet", partitioning="hive").schema
        files = list(table.rglob("*.parquet"))
        if not files:
            raise ScaleError(f"{table} holds no Parquet file")
        for file in files:  # each footer: a truncated or foreign file is found here, not later
            import pyarrow.parquet as pq

            pq.read_metadata(file)
    except ScaleError:
        raise
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ScaleError(f"{table} is not a readable Parquet table: {exc}") from None
    missing = columns - set(schema.names)
    if missing:
        raise ScaleError(f"{table} lacks the column(s) {', '.join(sorted(missing))}")


@dataclass(frozen=True)
class Export:
    """A checked export folder."""

    path: Path
    manifest: dict[str, Any]

    @property
    def policies(self) -> list[PolicyRecord]:
        return [PolicyRecord.model_validate(p) for p in self.manifest.get("policies", [])]

    def table(self, name: str) -> str:
        return str(self.path.absolute() / name)


def read_export(folder: Path) -> Export:
    """The export in ``folder``; :class:`ScaleError` if it is missing, not an export, or a table
    cannot be read."""
    manifest = _manifest(
        folder, EXPORT_FORMAT, "an export", "make one with contribnet export --out DIR"
    )
    for name, columns in _EXPORT_COLUMNS.items():
        _check_table(folder, name, columns)
    try:
        Export(folder, manifest).policies  # noqa: B018 -- validated now, not on the cluster
    except ValidationError as exc:
        raise ScaleError(f"{folder / MANIFEST}: a policy cannot be read: {exc}") from None
    return Export(folder, manifest)


@dataclass(frozen=True)
class Recompute:
    """A checked recompute folder."""

    path: Path
    manifest: dict[str, Any]

    @property
    def deals(self) -> int:
        return int(self.manifest.get("deals", 0)) + int(self.manifest.get("failures", 0))

    def rows(self, chunk: int = 1000) -> Iterator[list[RecomputedSplit]]:
        """The splits, ``chunk`` deals at a time, read a batch at a time (bounded memory)."""
        require_pyarrow()
        import pyarrow.dataset as ds

        dataset = ds.dataset(self.path / "splits", format="parquet", partitioning="hive")
        columns = sorted(_SPLIT_COLUMNS)
        for batch in dataset.to_batches(columns=columns, batch_size=chunk):
            data = batch.to_pydict()
            rows = []
            for i in range(batch.num_rows):
                text = data["split"][i]
                policy, model = data["policy"][i], data["model"][i]
                rows.append(
                    RecomputedSplit(
                        deal=data["deal"][i],
                        policy=policy,
                        policy_hash=data["policy_hash"][i],
                        model=model,
                        input_hash=data["input_hash"][i],
                        split=Split.model_validate_json(text) if text else None,
                        error=data["error"][i],
                        fingerprint=self.fingerprint(policy, model) if policy and model else None,
                    )
                )
            if rows:
                yield rows

    def fingerprint(self, policy: str, model: str) -> str | None:
        """The fingerprint of the tables the learned ``model`` was fitted with under ``policy``
        (None for a rule-based model)."""
        value = self.manifest.get("fingerprints", {}).get(f"{policy} {model}")
        return str(value) if value else None


def read_recompute(folder: Path) -> Recompute:
    """The recompute in ``folder``; :class:`ScaleError` if it is missing or not a recompute."""
    manifest = _manifest(
        folder,
        RECOMPUTE_FORMAT,
        "a recompute",
        "make one with contribnet recompute --engine spark --input EXPORT --out DIR",
    )
    _check_table(folder, "splits", _SPLIT_COLUMNS)
    return Recompute(folder, manifest)
