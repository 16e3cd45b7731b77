"""The Spark jobs: fit the learned models' counts, split every deal, simulate two policies.

Every number comes from the functions the service runs. The learned models' tables are fitted
in two distributed passes over the exported training paths: the executors cut each customer's
path as :func:`~contribnet.credit.learned.training_paths` does, find the stages present (pass
one), then count stage sets and Markov transitions with the stages coded alike
(:func:`~contribnet.credit.context.count_paths`, pass two); Spark sums the counts, and the driver
turns the sums into the context (:func:`~contribnet.credit.context.context_of_counts`) -- the
same, bit for bit, as the service's, fingerprint included. Each deal's split is then computed in
the executors by :func:`~contribnet.credit.compute_split` from the exported journey, under the
policy version in force at its close (or the one named), so allocations, input hashes and
explanations equal the service's fen for fen. The executors read each journey back as the store
reads its events (:class:`~contribnet.scale.journeys.JourneyReader`), not validating again what
the store validated when it accepted it.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from contribnet.credit import CreditContext, CreditError, compute_split, needs_context, store_totals
from contribnet.credit.context import PathCounts, context_of_counts, count_paths
from contribnet.credit.learned import learned_stages, training_paths
from contribnet.credit.markov import encode_paths
from contribnet.domain.errors import NotFound
from contribnet.domain.policy import Policy
from contribnet.domain.settlement import (
    InvalidRequest,
    PolicyRecord,
    business_date,
    period_bounds,
)
from contribnet.scale.export import MANIFEST, finish_out, prepare_out
from contribnet.scale.folders import RECOMPUTE_FORMAT, Export
from contribnet.scale.journeys import JourneyReader
from contribnet.services.credit import check_model
from contribnet.services.policies import (
    find_policy,
    in_force,
    parse_policy,
    policy_in_force,
    policy_record,
    read_policy_file,
)

__all__ = [
    "SIMULATE_FORMAT",
    "RecomputeReport",
    "SimulateReport",
    "fit_contexts",
    "recompute",
    "resolve_policy_arg",
    "simulate",
]

#: What ``format`` a simulation's manifest says.
SIMULATE_FORMAT = "contribnet-simulate/1"
#: Failures listed in a manifest (all are counted).
MAX_LISTED = 100

_ALLOCATION = (
    "struct<kind:string,id:string,name:string,store:string,brand:string,share:double,"
    "amount:bigint,points:bigint>"
)
_SPLIT_SCHEMA = (
    "deal string, customer string, closed_at timestamp, close_month string, policy string, "
    "policy_hash string, model string, input_hash string, pool bigint, "
    f"allocations array<{_ALLOCATION}>, store_credit array<struct<store:string,amount:bigint>>, "
    "split string, error string"
)
_SIMULATED_SCHEMA = "level string, key string, side string, amount bigint"


def _arrow_schema(ddl: str) -> Any:
    """The Arrow schema Spark expects of ``mapInArrow``'s output for a DDL schema."""
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    allocation = pa.struct(
        [
            ("kind", pa.string()),
            ("id", pa.string()),
            ("name", pa.string()),
            ("store", pa.string()),
            ("brand", pa.string()),
            ("share", pa.float64()),
            ("amount", pa.int64()),
            ("points", pa.int64()),
        ]
    )
    if ddl == _SPLIT_SCHEMA:
        return pa.schema(
            [
                ("deal", pa.string()),
                ("customer", pa.string()),
                ("closed_at", ts),
                ("close_month", pa.string()),
                ("policy", pa.string()),
                ("policy_hash", pa.string()),
                ("model", pa.string()),
                ("input_hash", pa.string()),
                ("pool", pa.int64()),
                ("allocations", pa.list_(allocation)),
                (
                    "store_credit",
                    pa.list_(pa.struct([("store", pa.string()), ("amount", pa.int64())])),
                ),
                ("split", pa.string()),
                ("error", pa.string()),
            ]
        )
    return pa.schema(
        [
            ("level", pa.string()),
            ("key", pa.string()),
            ("side", pa.string()),
            ("amount", pa.int64()),
        ]
    )


# --- policies ----------------------------------------------------------------------------------


def resolve_policy_arg(records: Sequence[PolicyRecord], ref: str, field: str) -> PolicyRecord:
    """A policy named on the command line: a version recorded in the export (``name@version``
    or ``name``: its latest), or a TOML file (a candidate not recorded yet: fine to simulate or
    recompute, but ``settle --from-parquet`` pays only recorded versions)."""
    path = Path(ref)
    if ref.endswith(".toml") or path.is_file():
        text = read_policy_file(path, field)
        policy, source = parse_policy(text, for_storage=False, field=field)
        return policy_record(policy, f"file:{path.name}", source)
    try:
        return find_policy(records, ref)
    except NotFound:
        known = ", ".join(sorted(r.id for r in records)) or "none"
        raise InvalidRequest.one(
            field, f"no policy {ref!r} in the export (recorded: {known}), and no such file"
        ) from None


# --- fitting the learned models ---------------------------------------------------------------


def _training(batches: Iterable[Any], policy: Policy) -> list[tuple[tuple[str, ...], bool]]:
    """The training paths of the customers in ``batches`` (Arrow record batches of ``paths/``)."""
    found: list[tuple[tuple[str, ...], bool]] = []
    for batch in batches:
        data = batch.to_pydict()
        journeys = (
            ([(item["at"], item["stage"]) for item in items], closes)
            for items, closes in zip(data["items"], data["closes"], strict=True)
        )
        found.extend(training_paths(journeys, policy))
    return found


def _stages_batch(policy_json: str, batches: Iterator[Any]) -> Iterator[Any]:
    """Executor, pass one: the stages of this partition's training paths."""
    import pyarrow as pa

    policy = Policy.model_validate_json(policy_json)
    stages = sorted({stage for path, _ in _training(batches, policy) for stage in path})
    yield pa.RecordBatch.from_pydict({"stage": stages}, schema=pa.schema([("stage", pa.string())]))


def _counts_batch(
    policy_json: str, stages: tuple[str, ...], order: int, batches: Iterator[Any]
) -> Iterator[Any]:
    """Executor, pass two: this partition's paths counted (stage sets, Markov transitions,
    totals) with the stages of every partition coded alike; kinds 0, 1, 2."""
    import pyarrow as pa

    policy = Policy.model_validate_json(policy_json)
    counts = count_paths(encode_paths(_training(batches, policy), stages), order)
    kinds = (
        [0] * len(counts.masks) + [1] * len(counts.transition_keys) + [2],
        [*counts.masks.tolist(), *counts.transition_keys.tolist(), 0],
        [*counts.set_journeys.tolist(), *counts.transition_counts.tolist(), counts.journeys],
        [*counts.set_conversions.tolist(), *[0] * len(counts.transition_keys), counts.conversions],
    )
    schema = pa.schema(
        [("kind", pa.int32()), ("key", pa.int64()), ("n", pa.int64()), ("c", pa.int64())]
    )
    yield pa.RecordBatch.from_arrays([pa.array(k) for k in kinds], schema=schema)


def _fit(spark: Any, paths: Any, policy: Policy) -> CreditContext:
    """The learned models' context under ``policy``, fitted on the cluster."""
    import numpy as np
    from pyspark.sql import functions as F

    text = policy.model_dump_json()
    stages = tuple(
        sorted(
            row.stage
            for row in paths.mapInArrow(partial(_stages_batch, text), "stage string")
            .distinct()
            .collect()
        )
    )
    rows = (
        paths.mapInArrow(
            partial(_counts_batch, text, stages, policy.markov_order),
            "kind int, key bigint, n bigint, c bigint",
        )
        .groupBy("kind", "key")
        .agg(F.sum("n").alias("n"), F.sum("c").alias("c"))
        .collect()
    )

    def part(kind: int) -> tuple[Any, Any, Any]:
        picked = sorted((r.key, r.n, r.c) for r in rows if r.kind == kind)
        keys, n, c = zip(*picked, strict=True) if picked else ((), (), ())
        return (np.array(keys, dtype=np.int64), np.array(n, np.int64), np.array(c, np.int64))

    masks, set_n, set_c = part(0)
    keys, counts, _ = part(1)
    _, totals_n, totals_c = part(2)
    merged = PathCounts(
        stages=stages,
        order=policy.markov_order,
        journeys=int(totals_n.sum()),
        conversions=int(totals_c.sum()),
        masks=masks,
        set_journeys=set_n,
        set_conversions=set_c,
        transition_keys=keys,
        transition_counts=counts,
    )
    return context_of_counts(merged, policy)


def fit_contexts(
    spark: Any, export: Export, wanted: Iterable[tuple[PolicyRecord, str]]
) -> dict[str, CreditContext]:
    """The context of each ``(policy version, model)`` whose model learns, keyed
    ``"policy model"``; one fit per set of policy parameters the tables depend on."""
    paths = spark.read.parquet(export.table("paths"))
    fitted: dict[tuple[Any, ...], CreditContext] = {}
    contexts: dict[str, CreditContext] = {}
    for record, model in wanted:
        if not needs_context(model):
            continue
        p = record.policy
        key = (learned_stages(p), p.lookback_days, p.markov_order, p.conversion_smoothing)
        if key not in fitted:
            fitted[key] = _fit(spark, paths, p)
        contexts[f"{record.id} {model}"] = fitted[key]
    return contexts


# --- splitting every deal ---------------------------------------------------------------------


def _policy_for(
    records: Sequence[PolicyRecord], named: PolicyRecord | None, closed_at: datetime
) -> PolicyRecord:
    return named if named is not None else policy_in_force(records, closed_at)


def _split_batch(
    records_json: str,
    named_json: str | None,
    model: str | None,
    contexts: dict[str, CreditContext],
    batches: Iterator[Any],
) -> Iterator[Any]:
    """Executor: each deal's split, one output row per deal (``error`` if it has none)."""
    import pyarrow as pa

    records = [PolicyRecord.model_validate(r) for r in json.loads(records_json)]
    named = PolicyRecord.model_validate_json(named_json) if named_json else None
    schema = _arrow_schema(_SPLIT_SCHEMA)
    reader = JourneyReader()
    for batch in batches:
        rows = []
        for text in batch.column("journey").to_pylist():
            journey = reader.read(text)
            deal = journey.deal
            row: dict[str, Any] = {
                "deal": deal.id,
                "customer": deal.customer,
                "closed_at": deal.closed_at,
                "close_month": business_date(deal.closed_at).strftime("%Y-%m"),
                "pool": deal.reward_pool,
                "allocations": [],
                "store_credit": [],
            }
            try:
                record = _policy_for(records, named, deal.closed_at)
                name = model or record.policy.model
                row.update(policy=record.id, policy_hash=record.hash, model=name)
                split = compute_split(
                    journey, record.policy, name, contexts.get(f"{record.id} {name}")
                )
            except (InvalidRequest, CreditError) as exc:
                row["error"] = str(exc)
                rows.append(row)
                continue
            row["input_hash"] = split.input_hash
            row["split"] = split.model_dump_json()
            row["allocations"] = [
                {
                    "kind": a.kind,
                    "id": a.id,
                    "name": a.name,
                    "store": a.store,
                    "brand": a.brand,
                    "share": a.share,
                    "amount": a.amount,
                    "points": a.points,
                }
                for a in split.allocations
            ]
            row["store_credit"] = [
                {"store": s, "amount": fen} for s, fen in store_totals(split).items()
            ]
            rows.append(row)
        yield pa.RecordBatch.from_pylist(rows, schema=schema)


def _journeys(spark: Any, export: Export, start: date | None, end: date | None) -> Any:
    from pyspark.sql import functions as F

    frame = spark.read.parquet(export.table("journeys"))
    lo, hi = period_bounds(start, end)
    if lo is not None:
        frame = frame.where(F.col("closed_at") >= F.lit(lo.astimezone(UTC)))
    if hi is not None:
        frame = frame.where(F.col("closed_at") < F.lit(hi.astimezone(UTC)))
    return frame


def _policies_in_force(
    journeys: Any, records: Sequence[PolicyRecord], named: PolicyRecord | None
) -> list[PolicyRecord]:
    """The policy versions the deals are split under: the named one, or those in force on the
    days the deals closed (a cheap distinct over close days)."""
    from pyspark.sql import functions as F

    if named is not None:
        return [named]
    days = journeys.select(
        F.to_date(F.from_utc_timestamp("closed_at", "Asia/Shanghai")).alias("day")
    ).distinct()
    found: dict[str, PolicyRecord] = {}
    for row in days.collect():
        record = in_force(records, row.day)
        if record is not None:
            found[record.id] = record
    return list(found.values())


@dataclass
class RecomputeReport:
    """What a recompute did: deals split, deals that could not be, seconds per stage."""

    deals: int = 0
    failures: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


def recompute(
    spark: Any,
    export: Export,
    out: Path,
    *,
    policy: str | None = None,
    model: str | None = None,
    start: date | None = None,
    end: date | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> RecomputeReport:
    """Split every exported deal closed from ``start`` to ``end`` on the cluster and write, under
    ``out``: ``splits/`` (one row per deal: policy version, model, input hash, allocations,
    store credit and the whole split with its explanations as JSON), ``allocations/`` (one row
    per deal and contributor: ``deal``, ``kind``, ``id``, ``store``, ``amount`` in fen,
    ``share``, ``points``), ``store_totals/`` (fen per store) and the manifest. ``out`` gets
    everything or nothing."""
    from pyspark.sql import functions as F

    stage = on_stage or (lambda _: None)
    records = export.policies
    named = resolve_policy_arg(records, policy, "--policy") if policy else None
    if model is not None:
        check_model(model, "--model")
    work = prepare_out(out)
    report = RecomputeReport()
    try:
        clock = time.perf_counter()
        stage("fit")
        journeys = _journeys(spark, export, start, end)
        candidates = [named] if named is not None else records
        used = candidates
        if any(needs_context(model or r.policy.model) for r in candidates):
            used = _policies_in_force(journeys, records, named)  # fit only what is used
        contexts = fit_contexts(spark, export, [(r, model or r.policy.model) for r in used])
        report.seconds["fit"] = time.perf_counter() - clock

        clock = time.perf_counter()
        stage("split")
        records_json = json.dumps([r.model_dump(mode="json") for r in records])
        splits = journeys.select("journey").mapInArrow(
            partial(
                _split_batch,
                records_json,
                named.model_dump_json() if named else None,
                model,
                contexts,
            ),
            _SPLIT_SCHEMA,
        )
        splits.write.partitionBy("close_month").parquet(str(work / "splits"))
        report.seconds["split"] = time.perf_counter() - clock

        clock = time.perf_counter()
        stage("write")
        done = spark.read.parquet(str(work / "splits"))
        ok = done.where(F.col("error").isNull())
        ok.select(
            "deal",
            "closed_at",
            "close_month",
            "policy",
            "model",
            F.explode("allocations").alias("a"),
        ).select(
            "deal",
            "closed_at",
            "close_month",
            "policy",
            "model",
            "a.kind",
            "a.id",
            "a.name",
            "a.store",
            "a.brand",
            "a.amount",
            "a.share",
            "a.points",
        ).write.partitionBy("close_month").parquet(str(work / "allocations"))
        ok.select("deal", F.explode("store_credit").alias("s")).groupBy("s.store").agg(
            F.sum("s.amount").alias("amount"), F.countDistinct("deal").alias("deals")
        ).coalesce(1).write.parquet(str(work / "store_totals"))
        counts = done.agg(
            F.count(F.when(F.col("error").isNull(), 1)).alias("deals"),
            F.count(F.when(F.col("error").isNotNull(), 1)).alias("failures"),
        ).first()
        report.deals, report.failures = int(counts.deals), int(counts.failures)
        if report.failures:
            report.failed = [
                (r.deal, r.error)
                for r in done.where(F.col("error").isNotNull())
                .select("deal", "error")
                .orderBy("deal")
                .limit(MAX_LISTED)
                .collect()
            ]
        report.seconds["write"] = time.perf_counter() - clock
        report.manifest = {
            "format": RECOMPUTE_FORMAT,
            "computed_at": datetime.now(UTC).isoformat(),
            "export": str(export.path.absolute()),
            "export_event_count": export.manifest.get("event_count"),
            "period": {
                "from": start.isoformat() if start else None,
                "to": end.isoformat() if end else None,
            },
            "policy": named.id if named else None,
            "model": model,
            "policies": [r.model_dump(mode="json") for r in used],
            "fingerprints": {k: c.fingerprint for k, c in contexts.items()},
            "deals": report.deals,
            "failures": report.failures,
            "failed": [list(f) for f in report.failed],
            "seconds": report.seconds,
        }
        (work / MANIFEST).write_text(json.dumps(report.manifest, indent=2, ensure_ascii=False))
        finish_out(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report


# --- simulating two policies ------------------------------------------------------------------


def _simulate_batch(
    sides_json: str, contexts: dict[str, CreditContext], batches: Iterator[Any]
) -> Iterator[Any]:
    """Executor: each deal split under both sides' policy and model; rows of fen per staff
    member and per store, and a ``deal`` row per deal split (``error`` rows for the others)."""
    import pyarrow as pa

    sides = [
        (side, PolicyRecord.model_validate(record), model)
        for side, record, model in json.loads(sides_json)
    ]
    schema = _arrow_schema(_SIMULATED_SCHEMA)
    reader = JourneyReader()
    for batch in batches:
        rows: list[dict[str, Any]] = []
        for text in batch.column("journey").to_pylist():
            journey = reader.read(text)
            try:
                splits = [
                    (
                        side,
                        compute_split(
                            journey, record.policy, model, contexts.get(f"{record.id} {model}")
                        ),
                    )
                    for side, record, model in sides
                ]
            except CreditError as exc:
                rows.append(
                    {"level": "error", "key": journey.deal.id, "side": str(exc), "amount": 0}
                )
                continue
            rows.append({"level": "deal", "key": journey.deal.id, "side": "a", "amount": 1})
            for side, split in splits:
                for a in split.allocations:
                    if a.kind == "staff":
                        rows.append(
                            {"level": "staff", "key": a.id, "side": side, "amount": a.amount}
                        )
                for store, fen in store_totals(split).items():
                    rows.append({"level": "store", "key": store, "side": side, "amount": fen})
        yield pa.RecordBatch.from_pylist(rows, schema=schema)


@dataclass
class SimulateReport:
    """What a simulation found: deals compared, failures, totals per side."""

    deals: int = 0
    failures: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    amount_a: int = 0
    amount_b: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def simulate(
    spark: Any,
    export: Export,
    out: Path,
    policy_a: str,
    policy_b: str,
    *,
    model_a: str | None = None,
    model_b: str | None = None,
    start: date | None = None,
    end: date | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> SimulateReport:
    """Split every exported deal closed from ``start`` to ``end`` under policy A and policy B
    and write, per staff member, store, brand and city, the fen under each and the difference
    (``key``, ``amount_a``, ``amount_b``, ``delta``): ``staff/``, ``stores/``, ``brands/``,
    ``cities/`` and the manifest (as ``POST /v1/simulations`` computes, for any number of
    deals). A store's brand and city are those of the exported store records."""
    from pyspark.sql import functions as F

    stage = on_stage or (lambda _: None)
    records = export.policies
    a = resolve_policy_arg(records, policy_a, "--policy")
    b = resolve_policy_arg(records, policy_b, "--policy")
    name_a = check_model(model_a or a.policy.model, "--model")
    name_b = check_model(model_b or b.policy.model, "--model")
    work = prepare_out(out)
    report = SimulateReport()
    try:
        clock = time.perf_counter()
        stage("fit")
        contexts = fit_contexts(spark, export, [(a, name_a), (b, name_b)])
        report.seconds["fit"] = time.perf_counter() - clock

        clock = time.perf_counter()
        stage("split")
        sides = json.dumps(
            [["a", a.model_dump(mode="json"), name_a], ["b", b.model_dump(mode="json"), name_b]]
        )
        rows = (
            _journeys(spark, export, start, end)
            .select("journey")
            .mapInArrow(partial(_simulate_batch, sides, contexts), _SIMULATED_SCHEMA)
        )
        rows.write.parquet(str(work / ".rows"))
        report.seconds["split"] = time.perf_counter() - clock

        clock = time.perf_counter()
        stage("write")
        done = spark.read.parquet(str(work / ".rows"))
        stores = spark.read.parquet(export.table("stores")).select(
            F.col("id").alias("key"), "brand", "city"
        )
        levels = {
            "staff": done.where(F.col("level") == "staff"),
            "stores": done.where(F.col("level") == "store"),
        }
        by_store = levels["stores"].join(stores, "key", "left")
        levels["brands"] = by_store.select(F.col("brand").alias("key"), "side", "amount")
        levels["cities"] = by_store.select(F.col("city").alias("key"), "side", "amount")
        for name, frame in levels.items():
            (
                frame.groupBy("key")
                .agg(
                    F.sum(F.when(F.col("side") == "a", F.col("amount")).otherwise(0)).alias(
                        "amount_a"
                    ),
                    F.sum(F.when(F.col("side") == "b", F.col("amount")).otherwise(0)).alias(
                        "amount_b"
                    ),
                )
                .withColumn("delta", F.col("amount_b") - F.col("amount_a"))
                .coalesce(1)
                .sortWithinPartitions("key")
                .write.parquet(str(work / name))
            )
        tally = {
            (r.level, r.side): (int(r.amount or 0), int(r.rows))
            for r in done.where(F.col("level").isin("staff", "deal"))
            .groupBy("level", "side")
            .agg(F.sum("amount").alias("amount"), F.count("*").alias("rows"))
            .collect()
        }
        report.amount_a = tally.get(("staff", "a"), (0, 0))[0]
        report.amount_b = tally.get(("staff", "b"), (0, 0))[0]
        report.deals = tally.get(("deal", "a"), (0, 0))[1]
        errors = done.where(F.col("level") == "error")
        report.failed = [(r.key, r.side) for r in errors.limit(MAX_LISTED).collect()]
        report.failures = errors.count() if report.failed else 0
        shutil.rmtree(work / ".rows")
        report.seconds["write"] = time.perf_counter() - clock
        manifest = {
            "format": SIMULATE_FORMAT,
            "computed_at": datetime.now(UTC).isoformat(),
            "export": str(export.path.absolute()),
            "policy_a": a.id,
            "policy_b": b.id,
            "model_a": name_a,
            "model_b": name_b,
            "period": {
                "from": start.isoformat() if start else None,
                "to": end.isoformat() if end else None,
            },
            "deals": report.deals,
            "failures": report.failures,
            "failed": [list(f) for f in report.failed],
            "totals": {
                "amount_a": report.amount_a,
                "amount_b": report.amount_b,
                "delta": report.amount_b - report.amount_a,
            },
            "seconds": report.seconds,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        finish_out(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report
