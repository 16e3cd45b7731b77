"""Credit engine benchmarks: each figure beside its peer, measured in one run on the same paths.

    python -m benchmarks.credit            # full sizes (1M deals, 1M paths), a few minutes
    python -m benchmarks.credit --quick    # a tenth of the size
    python -m benchmarks.credit --no-append

Peers are benchmark extras, never runtime dependencies; without them their columns say so::

    pip install channelattribution==2.2.5 matplotlib marketing-attribution-models

Every measurement runs in its own child process (``--child NAME``), so its peak RSS is its own;
the children regenerate the same synthetic data from the same seed. Times are the best of 3-5
repeats (the box may be shared); building the inputs (arrays for us, data frames of path strings
for the peers) is not timed. What is compared:

* rule models -- ``rules_many`` (first, last, linear, time decay, position; exact fen allocation
  per deal) against ``ChannelAttribution.heuristic_models`` (first, last, linear in one call) on the
  same deals' stage paths;
* Markov -- exact removal effects from paths of stage tuples, as ``credit.learned.training_paths``
  yields them (encoding included), against ``ChannelAttribution.markov_model`` (simulation), and
  the largest difference of the attributed shares;
* Shapley -- a 100-contributor, 11-stage deal through ``compute_split``; many 8-, 12- and
  20-contributor deals with ``shapley_many``; and ``marketing-attribution-models``' Shapley
  (which enumerates every coalition of a journey's channels) against ours on the same
  conversion-rate game;
* the learned models' context end to end from a store (``--only context``): the training rows
  read (``Store.contribution_rows``) and the models fitted, against
  ``ChannelAttribution.markov_model`` on the same training paths as strings, in one process: on
  a demo network in SQLite, the m network's SQLite file (``--context-m``), the demo
  network on the Neo4j server of ``NEO4J_URI`` and the m network in the Neo4j store of
  ``--context-neo4j-m``; and the way the service reaches it
  (``services.credit.credit_context``): in a new process from the tally of training paths the
  store keeps, as it is and after the store's last 1,000 events (the m file gets the tally's
  table; its events are not changed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

STAGES = (
    "consultation",
    "delivery",
    "event",
    "follow_up",
    "handover",
    "lead",
    "order",
    "quote",
    "reception",
    "referral",
    "test_drive",
)  # sorted, as encode_paths numbers them
FUNNEL = ("lead", "referral", "reception", "event", "consultation", "handover", "test_drive",
          "quote", "order", "delivery", "follow_up")  # fmt: skip
SEED = 20241101


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _best_with_cpu(fn: Callable[[], Any], repeats: int) -> tuple[tuple[float, float], Any]:
    """The least wall and the least CPU seconds of ``repeats`` calls (the box is shared: CPU
    time is less disturbed by the other processes), and the last result."""
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return (wall, cpu), result


# --- synthetic data -------------------------------------------------------------------------


def _funnel_codes(rng: np.random.Generator, lengths: np.ndarray) -> np.ndarray:
    """Stage codes (indices into STAGES) that drift down the funnel along each path."""
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    deal = np.repeat(np.arange(len(lengths)), lengths)
    pos = (np.arange(offsets[-1]) - offsets[:-1][deal]) / lengths[deal]
    step = np.clip((pos * 9 + rng.normal(0, 1.5, size=len(pos))).round().astype(int), 0, 10)
    funnel_to_sorted = np.array([STAGES.index(s) for s in FUNNEL])
    return funnel_to_sorted[step]


def rule_deals(n: int) -> dict[str, np.ndarray]:
    """n deals of 4-12 touches (mean 8): ages (oldest first), contributors, stages, pools."""
    rng = np.random.default_rng(SEED)
    lengths = rng.integers(4, 13, size=n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    deal = np.repeat(np.arange(n), lengths)
    ages = np.round(rng.uniform(0, 120, size=offsets[-1]), 3)
    order = np.lexsort((-ages, deal))
    ages = ages[order]
    n_contrib = rng.integers(1, 6, size=n)
    contributor = (rng.random(offsets[-1]) * n_contrib[deal]).astype(np.int64)
    return {
        "offsets": offsets,
        "ages": ages,
        "contributor": contributor,
        "codes": _funnel_codes(rng, lengths),
        "pools": rng.integers(100_000, 2_000_000, size=n),
    }


def markov_paths(n: int) -> tuple[list[tuple[str, ...]], list[bool]]:
    """n customer paths of 1-12 stages; conversion depends on test drives and referrals."""
    rng = np.random.default_rng(SEED + 1)
    lengths = rng.integers(1, 13, size=n)
    codes = _funnel_codes(rng, lengths)
    names = np.array(STAGES)[codes].tolist()
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    paths = [tuple(names[offsets[i] : offsets[i + 1]]) for i in range(n)]
    td, rf = STAGES.index("test_drive"), STAGES.index("referral")
    deal = np.repeat(np.arange(n), lengths)
    has_td = np.bincount(deal, weights=codes == td, minlength=n) > 0
    has_rf = np.bincount(deal, weights=codes == rf, minlength=n) > 0
    p = 0.05 + 0.25 * has_td + 0.15 * has_rf + 0.02 * lengths
    return paths, (rng.random(n) < p).tolist()


def shapley_journeys(n: int, max_channels: int) -> tuple[list[tuple[str, ...]], list[bool]]:
    """n journeys of 1..max_channels distinct stages, for the conversion-rate game."""
    rng = np.random.default_rng(SEED + 2)
    paths, converted = [], []
    weights = np.linspace(2.0, 0.5, len(STAGES))
    weights /= weights.sum()
    for _ in range(n):
        k = int(rng.integers(1, max_channels + 1))
        chosen = rng.choice(len(STAGES), size=k, replace=False, p=weights)
        paths.append(tuple(STAGES[c] for c in chosen))
        converted.append(bool(rng.random() < 0.1 + 0.08 * k + 0.2 * (10 in chosen)))
    return paths, converted


def _path_strings(offsets: np.ndarray, codes: np.ndarray) -> list[str]:
    names = np.array(STAGES)[codes].tolist()
    return [" > ".join(names[offsets[i] : offsets[i + 1]]) for i in range(len(offsets) - 1)]


# --- children -------------------------------------------------------------------------------


def child_rules(size: int) -> dict[str, Any]:
    from contribnet.credit.rules import RULES_MANY, rules_many

    data = rule_deals(size)
    touches = int(data["offsets"][-1])
    out: dict[str, Any] = {"deals": size, "touches": touches, "models": {}}
    for model in RULES_MANY:
        seconds, amounts = _best(
            lambda m=model: rules_many(  # type: ignore[misc]
                m, data["offsets"], data["ages"], data["contributor"], data["pools"]
            ),
            5,
        )
        assert np.array_equal(amounts.sum(axis=1), data["pools"]), "a split missed its pool"
        out["models"][model] = seconds
    out["rss_mb"] = _rss_mb()
    return out


def child_rules_peer(size: int) -> dict[str, Any]:
    import pandas as pd
    from ChannelAttribution import heuristic_models

    data = rule_deals(size)
    frame = pd.DataFrame(
        {"path": _path_strings(data["offsets"], data["codes"]), "total_conversions": 1}
    )
    seconds, _ = _best(
        lambda: heuristic_models(frame, "path", "total_conversions", sep=">", flg_pro=False), 3
    )
    return {"seconds": seconds, "rss_mb": _rss_mb()}


def _shares(effects: dict[str, float]) -> dict[str, float]:
    total = sum(effects.values())
    return {k: v / total for k, v in effects.items()}


def child_markov(size: int) -> dict[str, Any]:
    from contribnet.credit.markov import encode_paths, markov_chain, removal_effects

    paths, converted = markov_paths(size)
    pairs = list(zip(paths, converted, strict=True))  # as credit.learned.training_paths yields

    def order(k: int) -> dict[str, float]:
        return removal_effects(markov_chain(encode_paths(pairs), k))

    seconds, effects = _best(lambda: order(1), 5)
    higher = {k: _best(lambda k=k: order(k), 1)[0] for k in (2, 3, 4)}  # type: ignore[misc]
    return {
        "paths": size,
        "seconds": seconds,
        "shares": _shares(effects),
        "higher_orders": higher,
        "rss_mb": _rss_mb(),
    }


def child_markov_peer(size: int) -> dict[str, Any]:
    import pandas as pd
    from ChannelAttribution import markov_model

    paths, converted = markov_paths(size)
    conv = np.array(converted, dtype=int)
    frame = pd.DataFrame(
        {"path": [" > ".join(p) for p in paths], "total_conversions": conv, "total_null": 1 - conv}
    )

    def run(max_step: int | None) -> dict[str, float]:
        result = markov_model(
            frame, "path", "total_conversions", var_null="total_null", order=1, sep=">",
            max_step=max_step, verbose=False, flg_pro=False,
        )  # fmt: skip
        total = float(result["total_conversions"].sum())
        return {
            str(c): float(v) / total
            for c, v in zip(result["channel_name"], result["total_conversions"], strict=True)
        }

    seconds, shares = _best(lambda: run(None), 3)
    long_seconds, long_shares = _best(lambda: run(50), 1)
    return {
        "seconds": seconds,
        "shares": shares,
        "long_seconds": long_seconds,
        "long_shares": long_shares,
        "rss_mb": _rss_mb(),
    }


def _hundred_contributor_journey() -> Any:
    import random
    from datetime import UTC, datetime, timedelta

    from contribnet.domain.events import Deal, Touch
    from contribnet.domain.journey import DealJourney

    rng = random.Random(SEED)
    close = datetime(2025, 6, 1, tzinfo=UTC)
    touches = [
        Touch(id=f"t{s}-{k}", at=close - timedelta(hours=rng.randint(1, 2000)), customer="c",
              staff=f"sf-{s:03d}", store=f"st-{s % 7}", stage=rng.choice(FUNNEL[:-1]))
        for s in range(100)
        for k in range(rng.randint(1, 4))
    ]  # fmt: skip
    deal = Deal(id="d", customer="c", store="st-0", staff="sf-000", closed_at=close,
                amount=30_000_000, reward_pool=1_000_000)  # fmt: skip
    return DealJourney(deal=deal, touches=tuple(touches))


def _mam_game(paths: list[tuple[str, ...]], converted: list[bool]) -> tuple[Any, Any, Any]:
    """Our side of the MAM comparison: the same game (conversion rate of each exact channel set
    with a conversion, 0 otherwise; not smoothed, not monotone), solved exactly for every
    channel set at once, and each journey's shares looked up."""
    from contribnet.credit.markov import encode_paths
    from contribnet.credit.shapley import shapley_many

    encoded = encode_paths(list(zip(paths, converted, strict=True)))
    masks = encoded.masks()
    size = 1 << len(encoded.stages)
    journeys = np.bincount(masks, minlength=size)
    conversions = np.bincount(masks, weights=encoded.converted, minlength=size)
    rate = np.divide(conversions, journeys, out=np.zeros(size), where=conversions > 0)
    combos = np.flatnonzero(conversions > 0)
    bits = (combos[:, None] >> np.arange(len(encoded.stages))) & 1
    players = np.where(bits == 1, 1 << np.arange(len(encoded.stages)), 0)
    phi = shapley_many(players, rate)
    total = phi.sum(axis=1, keepdims=True)
    shares = np.divide(phi, total, out=np.zeros_like(phi), where=total != 0)
    row_of = np.full(size, -1)
    row_of[combos] = np.arange(len(combos))
    per_journey = shares[np.maximum(row_of[masks], 0)]
    return encoded.stages, combos, shares, per_journey  # type: ignore[return-value]


def child_shapley(size: int, mam_size: int) -> dict[str, Any]:
    from contribnet.credit import build_context, compute_split
    from contribnet.credit.shapley import monotone_closure, shapley_many, shapley_union_game
    from contribnet.domain.policy import Policy

    out: dict[str, Any] = {}
    paths, converted = markov_paths(50_000)
    context = build_context(list(zip(paths, converted, strict=True)), Policy())
    journey = _hundred_contributor_journey()
    for model in ("shapley_conversion", "shapley"):
        times = []
        for _ in range(15):
            start = time.perf_counter()
            split = compute_split(journey, Policy(), model, context)
            times.append(time.perf_counter() - start)
        assert len(split.allocations) == 100
        out[f"split_{model}_ms"] = float(np.median(times) * 1000)
    rng = np.random.default_rng(SEED)
    masks = [int(m) for m in np.bitwise_or.reduce(1 << rng.integers(0, 11, size=(100, 3)), axis=1)]
    assert context.conversion_values is not None
    table = context.conversion_values
    kernel = [_best(lambda: shapley_union_game(masks, table), 1)[0] for _ in range(15)]
    out["kernel_100_ms"] = float(np.median(kernel) * 1000)

    # 8, 12 and 20 contributors a deal, each covering 1-3 of the 11 stages
    values = monotone_closure(table)
    out["many_deals"] = size
    for contributors in (8, 12, 20):
        bits = rng.integers(0, 11, size=(size, contributors, 3))
        keep = rng.random(size=(size, contributors, 3)) < np.array([1.0, 0.5, 0.25])
        deal_masks = np.bitwise_or.reduce((1 << bits) * keep, axis=2)
        (seconds, cpu), phi = _best_with_cpu(lambda m=deal_masks: shapley_many(m, values), 3)
        out[f"many{contributors}_per_s"] = size / seconds
        out[f"many{contributors}_cpu_per_s"] = size / cpu
        assert np.allclose(
            phi[:5].sum(axis=1), [values[np.bitwise_or.reduce(r)] for r in deal_masks[:5]]
        )
        if contributors == 8:
            first = deal_masks[: min(size, 3000)]
            single, _ = _best(
                lambda m=first: [shapley_union_game(r.tolist(), values) for r in m], 1
            )
            out["single_deals_per_s"] = len(first) / single
    out["load_average"] = os.getloadavg()[0]

    for k in (4, 8):
        journeys, conv = shapley_journeys(mam_size, k)
        seconds, (stages, combos, shares, _) = _best(
            lambda j=journeys, c=conv: _mam_game(j, c),  # type: ignore[misc]
            2,
        )
        out[f"mam{k}_ours_s"] = seconds
        out[f"mam{k}_shares"] = {
            " > ".join(stages[b] for b in range(len(stages)) if int(c) >> b & 1): [
                float(shares[i, b]) for b in range(len(stages)) if int(c) >> b & 1
            ]
            for i, c in enumerate(combos)
        }
    out["rss_mb"] = _rss_mb()
    return out


def child_shapley_peer(mam_size: int) -> dict[str, Any]:
    import polars as pl
    from mam import MAM

    out: dict[str, Any] = {}
    for k in (4, 8):
        journeys, conv = shapley_journeys(mam_size, k)
        frame = pl.DataFrame({
            "journey": [" > ".join(j) for j in journeys],
            "conversion": conv,
            "occurrences": [1] * len(journeys),
        })  # fmt: skip
        mam = MAM(df=frame, format_type="grouped_journey", channels_colname="journey",
                  journey_with_conv_colname="conversion",
                  occurrences_colname="occurrences")  # fmt: skip
        seconds, result = _best(lambda m=mam, k=k: m.run_shapley(max_size=k), 1)  # type: ignore[misc]
        table = result.metadata["conv_table"]
        column = [c for c in table.columns if c.startswith("attribution_shapley")][0]
        shares = {}
        for combo, values in zip(table["combinations"], table[column], strict=True):
            total = sum(values)
            shares[combo] = [v / total if total else 0.0 for v in values]
        out[f"mam{k}_s"] = seconds
        out[f"mam{k}_shares"] = shares
    out["rss_mb"] = _rss_mb()
    return out


#: The m network's SQLite file another benchmark keeps (``benchmarks/flags.py``); the service
#: rows keep a tally of training paths in it (its events are not changed).
M_NETWORK_DB = ".cache/bench-flags/m-1.db"


def _context_stores(args: argparse.Namespace) -> list[tuple[str, Callable[[], Any], int]]:
    """(label, opener, marks of the last :data:`NEWS` events) of the stores the context is
    measured on: a demo network generated into a fresh SQLite file, the m network if its file
    is there, and the demo network on the Neo4j server of ``NEO4J_URI`` (loaded if the server
    holds no events, its last :data:`NEWS` events in writes of :data:`NEWS_BATCH`). A SQLite
    mark is an event; a Neo4j mark, a write transaction."""
    import tempfile

    from contribnet.demo.generator import generate
    from contribnet.services.ingest import ingest_stream
    from contribnet.store import open_store
    from contribnet.store.sqlite import SqliteStore

    def sqlite_demo() -> Any:
        path = os.path.join(tempfile.mkdtemp(prefix="bench-context-"), "demo.db")
        store = open_store(f"sqlite:///{path}")
        ingest_stream(store, generate("demo", 1))
        return store

    stores: list[tuple[str, Callable[[], Any], int]] = [("SQLite, demo network", sqlite_demo, NEWS)]
    if os.path.exists(args.context_m):
        m_file = f"sqlite:///{os.path.abspath(args.context_m)}"
        stores.append(("SQLite, m network", lambda: SqliteStore(m_file), NEWS))
    if os.environ.get("NEO4J_URI"):
        from benchmarks.settle import _url

        def neo4j_demo() -> Any:
            user = os.environ.get("NEO4J_USER", "neo4j")
            store = open_store(
                _url(os.environ["NEO4J_URI"], user, os.environ.get("NEO4J_PASSWORD", ""))
            )
            if store.event_count() == 0:
                events = list(generate("demo", 1))
                ingest_stream(store, events[:-NEWS])
                ingest_stream(store, events[-NEWS:], batch_size=NEWS_BATCH)
            return store

        stores.append(("Neo4j 5.26, demo network", neo4j_demo, NEWS // NEWS_BATCH))
    if args.context_neo4j_m:
        m_graph = args.context_neo4j_m
        stores.append(("Neo4j 5.26, m network", lambda: open_store(m_graph), NEWS // NEWS_BATCH))
    return stores


def child_context(args: argparse.Namespace) -> dict[str, Any]:
    """The learned models' context end to end from a store -- the training rows read
    (``Store.contribution_rows``), the paths cut and encoded, the Markov chain and the conversion
    game fitted -- against ``ChannelAttribution.markov_model`` on the same paths as strings (its
    parsing included), in this one process; and the path it replaces, once."""
    start = time.perf_counter()
    from contribnet.credit.context import build_context, encode_training_rows

    imports = time.perf_counter() - start
    import pandas as pd
    from ChannelAttribution import markov_model

    from contribnet.credit.learned import training_paths
    from contribnet.domain.policy import Policy

    policy = Policy()
    out: dict[str, Any] = {"import_s": imports, "stores": []}
    for label, opener, news_marks in _context_stores(args):
        store = opener()
        try:
            timings = []
            for _ in range(args.context_repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                rows = store.contribution_rows()
                t1, c1 = time.perf_counter(), time.process_time()
                encoded = encode_training_rows(rows, policy)
                context = build_context(encoded, policy)
                t2, c2 = time.perf_counter(), time.process_time()
                timings.append((t1 - t0, c1 - c0, t2 - t1, c2 - c1))
            t0, c0 = time.perf_counter(), time.process_time()
            before = build_context(list(training_paths(store.contribution_paths(), policy)), policy)
            before_s, before_cpu = time.perf_counter() - t0, time.process_time() - c0
            assert before.fingerprint == context.fingerprint, "not the same context"
            kept = _kept_tally(store, policy, context.fingerprint, args.context_repeats, news_marks)
        finally:
            store.close()
        strings, conversions = [], []
        for k in range(len(encoded)):
            codes = encoded.codes[encoded.offsets[k] : encoded.offsets[k + 1]]
            if len(codes):  # the peer takes no empty path
                strings.append(" > ".join(encoded.stages[c] for c in codes))
                conversions.append(int(encoded.converted[k]))
        conv = np.array(conversions)
        frame = pd.DataFrame({"path": strings, "total_conversions": conv, "total_null": 1 - conv})

        def peer(f: Any = frame) -> Any:
            return markov_model(
                f, "path", "total_conversions", var_null="total_null", order=1, sep=">",
                verbose=False, flg_pro=False,
            )  # fmt: skip

        peer_runs = []
        for _ in range(args.context_repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            peer()
            peer_runs.append((time.perf_counter() - t0, time.process_time() - c0))
        best = min(timings, key=lambda t: t[0] + t[2])
        best_cpu = min(timings, key=lambda t: t[1] + t[3])
        out["stores"].append({
            "label": label, "items": len(rows), "paths": len(encoded),
            "first": timings[0], "best": best, "best_cpu": best_cpu,
            "before_s": before_s, "before_cpu": before_cpu,
            "peer_first": peer_runs[0], "peer_s": min(r[0] for r in peer_runs),
            "peer_cpu": min(r[1] for r in peer_runs), "load_average": os.getloadavg()[0],
            "kept": kept,
        })  # fmt: skip
    out["rss_mb"] = _rss_mb()
    return out


#: The store's last events taken as news for the "brought up to date" figure.
NEWS = 1_000
#: Events per write of the news loaded into Neo4j.
NEWS_BATCH = 100


def _kept_tally(
    store: Any, policy: Any, fingerprint: str, repeats: int, news_marks: int
) -> dict[str, Any]:
    """``credit_context`` as the service reaches it, each call as in a new process (nothing
    cached): the first call reads every journey and keeps the tally of training paths in the
    store; later ones read it. Then the tally as of :data:`NEWS` events ago (``news_marks``
    marks) is kept in its place, so a call reads it and the changes of the last events.
    (wall s, CPU s) each."""
    from contribnet.credit.context import encode_training_rows, tally_paths, update_tally
    from contribnet.domain.training import ContributionChanges
    from contribnet.services import credit as service

    def timed() -> tuple[float, float]:
        service._caches.clear()  # a new process: nothing cached
        t0, c0 = time.perf_counter(), time.process_time()
        context = service.credit_context(store, policy, "markov")
        out = time.perf_counter() - t0, time.process_time() - c0
        assert context is not None and context.fingerprint == fingerprint, "not the same context"
        return out

    first = timed()
    runs = [timed() for _ in range(repeats)]
    key = service._tally_key((service.learned_stages(policy), policy.lookback_days))
    saved = store.saved_tally(key)
    out: dict[str, Any] = {"first": first, "best": min(runs), "news": None, "kept": bool(saved)}
    if saved is None:
        return out
    rows = store.contribution_rows()
    assert rows.mark is not None
    now = tally_paths(encode_training_rows(rows, policy))
    changes = None
    if rows.mark > news_marks:
        mark = rows.mark - news_marks
        changes = store.contribution_changes(mark)
    if changes is not None:
        undone = ContributionChanges(mark, before=changes.after, after=changes.before)
        earlier = update_tally(now, undone, policy)
        news = []
        for _ in range(repeats):
            store.save_tally(key, mark, service._tally_text(earlier))
            news.append(timed())
        out["news"] = min(news)
    store.save_tally(key, rows.mark, service._tally_text(now))  # the store's own, as of now
    return out


CHILDREN: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "rules": lambda a: child_rules(a.deals),
    "rules-peer": lambda a: child_rules_peer(a.deals),
    "markov": lambda a: child_markov(a.paths),
    "markov-peer": lambda a: child_markov_peer(a.paths),
    "shapley": lambda a: child_shapley(a.shapley_deals, a.mam_journeys),
    "shapley-peer": lambda a: child_shapley_peer(a.mam_journeys),
    "context": child_context,
}


# --- the report ---------------------------------------------------------------------------


def _run_child(name: str, args: argparse.Namespace) -> dict[str, Any] | str:
    cmd = [sys.executable, "-m", "benchmarks.credit", "--child", name,
           "--deals", str(args.deals), "--paths", str(args.paths),
           "--shapley-deals", str(args.shapley_deals),
           "--mam-journeys", str(args.mam_journeys), "--context-m", args.context_m,
           "--context-repeats", str(args.context_repeats),
           "--context-neo4j-m", args.context_neo4j_m]  # fmt: skip
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", "src")
    print(f"… {name}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return f"not run ({last[:80]})"
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f}M/s" if x >= 1e6 else f"{x:,.0f}/s"


def _max_diff(ours: dict[str, list[float]] | dict[str, float], theirs: Any) -> float:
    diffs = []
    for key, value in ours.items():
        if key not in theirs:
            continue
        if isinstance(value, list):
            diffs += [abs(a - b) for a, b in zip(value, theirs[key], strict=True)]
        else:
            diffs.append(abs(value - theirs[key]))
    return max(diffs) if diffs else float("nan")


def report(args: argparse.Namespace) -> tuple[list[str], list[list[object]], str]:
    only = set(args.only.split(",")) if args.only else None
    r = {
        name: _run_child(name, args) if only is None or name.split("-")[0] in only else "not run"
        for name in CHILDREN
    }
    header = ["figure", "contribnet", "peer (same run)", "goal", "met", "peak RSS ours / peer"]
    rows: list[list[object]] = []

    def rss(a: Any, b: Any) -> str:
        left = f"{a['rss_mb']:.0f} MB" if isinstance(a, dict) else "–"
        right = f"{b['rss_mb']:.0f} MB" if isinstance(b, dict) else "–"
        return f"{left} / {right}"

    ours, peer = r["rules"], r["rules-peer"]
    if isinstance(ours, dict):
        touches = ours["touches"]
        for model, seconds in ours["models"].items():
            rate = touches / seconds
            rows.append([
                f"`{model}`, {ours['deals']:,} deals / {touches:,} touches, exact fen",
                f"{seconds:.2f} s ({_fmt_rate(rate)} touches)", "", "≥ 2M touches/s",
                "yes" if rate >= 2e6 else "no", rss(ours, peer),
            ])  # fmt: skip
        three = sum(ours["models"][m] for m in ("first_touch", "last_touch", "linear"))
        peer_s = peer["seconds"] if isinstance(peer, dict) else None
        rows.append([
            "first + last + linear on the same paths",
            f"{three:.2f} s",
            f"{peer_s:.2f} s (`heuristic_models`)" if peer_s else str(peer),
            "≤ peer", "yes" if peer_s and three <= peer_s else ("?" if not peer_s else "no"),
            rss(ours, peer),
        ])  # fmt: skip
    else:
        rows.append(["rule models", ours, "", "", "", ""])

    ours, peer = r["markov"], r["markov-peer"]
    if isinstance(ours, dict):
        peer_s = peer["seconds"] if isinstance(peer, dict) else None
        speedup = peer_s / ours["seconds"] if peer_s else None
        rows.append([
            f"`markov` order 1, exact removal effects, {ours['paths']:,} paths (from tuples)",
            f"{ours['seconds']:.2f} s",
            f"{peer_s:.2f} s (`markov_model`, simulated)" if peer_s else str(peer),
            "≥ 2× faster", f"{speedup:.1f}× " + ("yes" if speedup >= 2 else "no")
            if speedup else "?", rss(ours, peer),
        ])  # fmt: skip
        if isinstance(peer, dict):
            diff = _max_diff(ours["shares"], peer["shares"])
            long_diff = _max_diff(ours["shares"], peer["long_shares"])
            rows.append([
                "`markov` shares: largest difference from the peer's",
                f"{diff:.4f}", "default `max_step`", "≤ 0.01", "yes" if diff <= 0.01 else "no",
                "",
            ])  # fmt: skip
            rows.append([
                "… with the peer's simulated paths not cut at 12 steps (`max_step=50`)",
                f"{long_diff:.4f}", f"{peer['long_seconds']:.2f} s", "≤ 0.01",
                "yes" if long_diff <= 0.01 else "no", "",
            ])  # fmt: skip
        for k, seconds in ours["higher_orders"].items():
            rows.append([f"`markov` order {k}, same paths", f"{seconds:.2f} s", "", "", "", ""])
    else:
        rows.append(["markov", ours, "", "", "", ""])

    ours, peer = r["shapley"], r["shapley-peer"]
    if isinstance(ours, dict):
        for model in ("shapley_conversion", "shapley"):
            ms = ours[f"split_{model}_ms"]
            rows.append([
                f"`{model}`: a 100-contributor, 11-stage deal, whole `compute_split`",
                f"{ms:.1f} ms", "", "< 50 ms", "yes" if ms < 50 else "no", "",
            ])  # fmt: skip
        rows.append([
            "exact Shapley kernel alone, 100 contributors × 11 stages",
            f"{ours['kernel_100_ms']:.2f} ms", "", "< 50 ms",
            "yes" if ours["kernel_100_ms"] < 50 else "no", "",
        ])  # fmt: skip
        for contributors, goal in ((8, 10_000), (12, 50_000), (20, 50_000)):
            rate = ours[f"many{contributors}_per_s"]
            cpu_rate = ours[f"many{contributors}_cpu_per_s"]
            rows.append([
                f"exact Shapley, {contributors} contributors × 11 stages: {ours['many_deals']:,} "
                "deals (`shapley_many`)",
                f"{_fmt_rate(rate)} deals ({_fmt_rate(cpu_rate)} of CPU; load average "
                f"{ours['load_average']:.1f})", "", f"≥ {goal:,} deals/s",
                "yes" if rate >= goal else ("on CPU time only" if cpu_rate >= goal else "no"),
                rss(ours, peer) if contributors == 8 else "",
            ])  # fmt: skip
        rows.append(
            [
                "… one deal at a time (`shapley_union_game`)",
                f"{_fmt_rate(ours['single_deals_per_s'])} deals",
                "",
                "",
                "",
                "",
            ]
        )
        for k in (4, 8):
            peer_s = peer.get(f"mam{k}_s") if isinstance(peer, dict) else None
            diff = _max_diff(ours[f"mam{k}_shares"], peer[f"mam{k}_shares"]) if peer_s else None
            rows.append([
                f"conversion-rate Shapley of {args.mam_journeys:,} journeys of ≤ {k} channels "
                f"(`max_size={k}`)",
                f"{ours[f'mam{k}_ours_s']:.2f} s",
                f"{peer_s:.2f} s (MAM `run_shapley`), shares differ ≤ {diff:.1e}"
                if peer_s and diff is not None else str(peer),
                "faster, same values",
                "yes" if peer_s and ours[f"mam{k}_ours_s"] < peer_s and diff is not None
                and diff < 1e-9 else "no",
                "",
            ])  # fmt: skip
    else:
        rows.append(["shapley", ours, "", "", "", ""])

    ours = r["context"]
    if isinstance(ours, dict):
        for st in ours["stores"]:
            read, read_cpu, fit, fit_cpu = st["best"]
            cpu = sum(st["best_cpu"][1::2])
            wall = read + fit
            speedup, cpu_speedup = st["peer_s"] / wall, st["peer_cpu"] / cpu
            rows.append([
                f"learned models' context end to end from the store, {st['label']} "
                f"({st['items']:,} items, {st['paths']:,} training paths): read + fit",
                f"{wall:.3f} s (read {read:.3f} + fit {fit:.3f}; CPU {cpu:.3f} s); first call "
                f"{st['first'][0] + st['first'][2]:.3f} s; load average "
                f"{st['load_average']:.1f}",
                f"{st['peer_s']:.3f} s, CPU {st['peer_cpu']:.3f} s (`markov_model` on the path "
                f"strings; first call {st['peer_first'][0]:.3f} s)",
                "≥ 2× faster",
                f"{speedup:.1f}× wall, {cpu_speedup:.1f}× CPU: "
                + ("yes" if min(speedup, cpu_speedup) >= 2 else
                   "on CPU time only" if cpu_speedup >= 2 else "no"),
                "",
            ])  # fmt: skip
            kept = st["kept"]
            if not kept["kept"]:
                rows.append([
                    f"… the same context as the service reaches it in a new process, "
                    f"{st['label']}: this store keeps no tally (no marks), every journey is read",
                    f"{kept['best'][0]:.3f} s (CPU {kept['best'][1]:.3f} s)", "", "", "", "",
                ])  # fmt: skip
            else:
                best_s, best_cpu = kept["best"]
                news = kept["news"]
                figure = (
                    f"{best_s:.4f} s (CPU {best_cpu:.4f} s); first call in the store, reading "
                    f"every journey, {kept['first'][0]:.3f} s; after the last {NEWS:,} events "
                    + (f"{news[0]:.4f} s (CPU {news[1]:.4f} s)" if news else "not measured")
                )
                worst = max(best_s, news[0] if news else 0.0)
                worst_cpu = max(best_cpu, news[1] if news else 0.0)
                rows.append([
                    f"… the same context as the service reaches it in a new process "
                    f"(`credit_context`: the store's kept tally of training paths + what changed "
                    f"since), {st['label']}",
                    figure,
                    f"{st['peer_s']:.3f} s, CPU {st['peer_cpu']:.3f} s",
                    "≥ 2× faster",
                    f"{st['peer_s'] / worst:.0f}× wall, {st['peer_cpu'] / worst_cpu:.0f}× CPU: "
                    + ("yes" if min(st["peer_s"] / worst, st["peer_cpu"] / worst_cpu) >= 2
                       else "no"),
                    "",
                ])  # fmt: skip
            rows.append([
                f"… the same context before (`contribution_paths` + `training_paths` + "
                f"`build_context`), {st['label']}",
                f"{st['before_s']:.3f} s (CPU {st['before_cpu']:.3f} s)", "", "", "", "",
            ])  # fmt: skip
        rows.append([
            "… first use in a process: `import contribnet.credit.context` (pydantic domain "
            "models, numpy)",
            f"{ours['import_s']:.2f} s", "", "", "", f"{ours['rss_mb']:.0f} MB / –",
        ])  # fmt: skip
    rows = [row for row in rows if row[1] != "not run"]

    notes = (
        "Each figure is the best of 1-5 repeats, measured in its own process (peak RSS is that "
        "process's) on data regenerated from one seed; building inputs is not timed (ours: "
        "arrays, or the list of training-path tuples; peers: data frames of path "
        "strings, which they parse inside the timed call). Peers: `channelattribution` "
        "2.2.5 (C++), `marketing-attribution-models` (polars + Python). The peer's Markov "
        "simulation stops each simulated path at the longest observed path (12 stages) by "
        "default, which biases its removal effects; with longer walks it agrees with the exact "
        "answer to its sampling noise. Shapley at 8/12/20 contributors: wall and CPU time of "
        "the same best run (the box is shared; CPU time is the less disturbed). The context "
        "rows run in one process, ours then the peer's on the same training paths as strings "
        "(empty converted paths left out for it; building the strings not timed): best of 3 "
        "and the first call; read = `Store.contribution_rows()`, fit = "
        "`encode_training_rows` + `build_context` (Markov removal effects and the conversion "
        "game). The service rows (`credit_context`) call it as a new process would (nothing "
        "cached): from the tally of training paths the store keeps, and with the tally kept as "
        "of 1,000 events before the last, brought up to date from their changes; the m "
        "network's file gets the tally's table (its events are not changed); `met` takes the "
        "slower of the two."
    )
    return header, rows, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the full sizes")
    parser.add_argument("--no-append", action="store_true", help="print only")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--deals", type=int, default=None)
    parser.add_argument("--paths", type=int, default=None)
    parser.add_argument("--shapley-deals", type=int, default=None)
    parser.add_argument("--mam-journeys", type=int, default=None)
    parser.add_argument("--only", help="run only these measurements (comma-separated: rules, "
                        "markov, shapley, context)")  # fmt: skip
    parser.add_argument("--context-m", default=M_NETWORK_DB, help="the m network's SQLite file")
    parser.add_argument(
        "--context-neo4j-m",
        default="",
        help="a Neo4j store holding the m network, its last 1,000 events written 100 at a time",
    )
    parser.add_argument("--context-repeats", type=int, default=3)
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    args.deals = args.deals or 1_000_000 // scale
    args.paths = args.paths or 1_000_000 // scale
    args.shapley_deals = args.shapley_deals or 100_000 // scale
    args.mam_journeys = args.mam_journeys or 200_000 // scale
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return 0
    header, rows, notes = report(args)
    title = "Credit engine" + (" (quick)" if args.quick else "")
    title += f" ({args.only.replace(',', ', ')} only)" if args.only else ""
    if args.no_append:
        print(" | ".join(header))
        for row in rows:
            print(" | ".join(str(c) for c in row))
        print(notes)
    else:
        from benchmarks.results_file import append_section

        append_section(title, header, rows, notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
