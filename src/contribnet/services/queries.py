"""The analysts' query library and safe read-only Cypher, on Neo4j.

Named queries are the files of ``cypher/queries/``, one query each, opening with a header comment:

.. code-block:: text

    // Question: Which deals ...? (continuation lines are indented)
    //   ... more of the question.
    // Parameters:
    //   $deal :: STRING        the deal's id
    //   $days :: INTEGER = 90  how many days before the close to look back
    // Returns: at, days_before, stage, staff
    // Example (where the example comes from):
    //   params: {"deal": "d-0000163", "days": 30}
    //   at | days_before | ...

The example's ``params:`` line (JSON, as ``--param`` would give them) is what
``contribnet query NAME --example`` runs and ``tests/services/test_query_examples.py`` runs on the
demo network, comparing the rows with the table below it (written by ``tools/query_examples.py``).

A parameter line is ``$name :: TYPE [= default] description``; ``TYPE`` is one of
:data:`PARAMETER_TYPES` and the default is written as on the command line (``null``: no value;
lists comma-separated, no spaces). A parameter without a default is required. ``Parameters: none``
declares none. ``Returns`` names the columns in order.

Free Cypher passes four locks before a row comes back: a lexical check (one statement, a read
clause first, no ``LOAD CSV``, no ``CALL { } IN TRANSACTIONS``, procedures only from
:data:`ALLOWED_PROCEDURES`), ``EXPLAIN`` (Neo4j must classify it as read-only, ``'r'``, and its
plan may hold no file loading, admin command or other procedure), a READ access-mode transaction
(the server refuses writes), and a server-side timeout with a row cap. Named queries take the same
path. Parameters are passed as parameters, never spliced into the text.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from types import TracebackType
from typing import Any

import neo4j
import neo4j.exceptions
import neo4j.graph
import neo4j.spatial
import neo4j.time

from contribnet import cypher
from contribnet.domain.errors import ContribnetError, NotFound
from contribnet.paths import CYPHER_DIR
from contribnet.store.errors import memory_limit
from contribnet.store.neo4j_retry import in_transaction

__all__ = [
    "ALLOWED_PROCEDURES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "KEY_LABEL",
    "DEFAULT_TIMEOUT",
    "PARAMETER_TYPES",
    "LibraryQuery",
    "Neo4jRequired",
    "Parameter",
    "QueryError",
    "QueryOverMemory",
    "QueryParameterError",
    "QueryRefused",
    "QueryResult",
    "QueryService",
    "QueryTimeout",
    "QueryUnavailable",
    "UnknownQuery",
    "check_parameters",
    "check_read_only",
    "get_query",
    "library",
    "parse_assignments",
    "parse_query",
    "to_json",
]

#: Rows returned when the caller names no cap.
DEFAULT_MAX_ROWS = 1_000
#: Bytes of JSON rows returned at most, whatever the row cap: a single huge row (a collected
#: journey, a long string) is cut off too, answered with ``truncated``.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
#: The label of the API keys' nodes: not part of the analysts' graph. A query naming it is
#: refused, and key nodes (and their hashes) are removed from any result that reaches them.
KEY_LABEL = "ApiKey"
#: Seconds a query may run on the server when the caller names no timeout.
DEFAULT_TIMEOUT = 10.0

#: Procedures free Cypher may CALL: they read the schema or the database's identity, nothing else.
ALLOWED_PROCEDURES: frozenset[str] = frozenset(
    {
        "db.labels",
        "db.relationshiptypes",
        "db.propertykeys",
        "db.schema.visualization",
        "db.schema.nodetypeproperties",
        "db.schema.reltypeproperties",
        "db.info",
        "db.ping",
    }
)

#: The clauses a read query may start with.
_FIRST_CLAUSES = frozenset({"MATCH", "OPTIONAL", "WITH", "UNWIND", "RETURN", "CALL"})

_NEO4J_SCHEMES = ("neo4j://", "bolt://", "neo4j+s://", "bolt+s://", "neo4j+ssc://", "bolt+ssc://")
_TIMEOUT_CODES = frozenset(
    {
        "Neo.ClientError.Transaction.TransactionTimedOut",
        "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
    }
)


# --- errors --------------------------------------------------------------------------------------


class UnknownQuery(NotFound):
    """No library query has this name."""

    def __init__(self, name: str) -> None:
        super().__init__("query", name)


@dataclass
class QueryParameterError(ContribnetError):
    """A parameter is unknown, missing, or of the wrong type; ``name`` says which."""

    name: str
    message: str

    def __str__(self) -> str:
        return f"parameter ${self.name}: {self.message}"


@dataclass
class QueryRefused(ContribnetError):
    """The Cypher might write, read files, call a procedure off the allow-list, or is not one
    read statement; it was not run."""

    reason: str

    def __str__(self) -> str:
        return f"query refused: {self.reason}"


@dataclass
class QueryError(ContribnetError):
    """Neo4j rejected or failed the query; ``message`` and ``code`` are Neo4j's."""

    message: str
    code: str | None = None

    def __str__(self) -> str:
        return f"{self.message} ({self.code})" if self.code else self.message


class QueryTimeout(QueryError):
    """The server stopped the query at its timeout."""


class QueryOverMemory(QueryError):
    """The query needs more memory than Neo4j allows a transaction: it would fail again, so it
    is a limit (422), not an outage to retry; ``message`` names the setting."""


class QueryUnavailable(QueryError):
    """Neo4j could not be reached."""


class Neo4jRequired(ContribnetError):
    """The configured store is not Neo4j; the query library reads Neo4j only."""

    def __str__(self) -> str:
        return (
            "the query library needs the Neo4j store (configure a neo4j://user:pass@host:7687 "
            "store URL; `contribnet neo4j start` runs one locally)"
        )


# --- the library ---------------------------------------------------------------------------------

#: Parameter types a library query may declare (Cypher's own type names).
PARAMETER_TYPES: tuple[str, ...] = (
    "STRING",
    "INTEGER",
    "FLOAT",
    "BOOLEAN",
    "DATETIME",
    "DATE",
    "LIST<STRING>",
    "LIST<INTEGER>",
)


@dataclass(frozen=True)
class Parameter:
    """A declared parameter of a library query."""

    name: str
    type: str
    description: str
    required: bool = True
    default: Any = None

    def coerce(self, value: Any) -> Any:
        """``value`` (JSON, or text from the command line) as this parameter's type."""
        if value is None:
            if self.required:
                raise QueryParameterError(self.name, f"a {self.type} value is required")
            return None
        try:
            return _coerce(self.type, value)
        except (TypeError, ValueError) as exc:
            raise QueryParameterError(self.name, f"expected {self.type}: {exc}") from None

    def default_text(self) -> str | None:
        """The default as the header writes it (``None`` for a required parameter)."""
        if self.required:
            return None
        return "null" if self.default is None else _text_of(self.default)


@dataclass(frozen=True)
class LibraryQuery:
    """A named, documented query of ``cypher/queries/``."""

    name: str
    question: str
    parameters: tuple[Parameter, ...]
    returns: tuple[str, ...]
    example: str
    text: str = field(repr=False)
    example_params: dict[str, Any] = field(default_factory=dict)

    def bind(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """The parameters to send: ``given`` checked and typed, defaults filled in.

        Raises ``QueryParameterError`` naming the first unknown, missing or mistyped parameter.
        """
        given = dict(given or {})
        known = {p.name for p in self.parameters}
        for name in given:
            if name not in known:
                accepted = ", ".join(f"${p}" for p in sorted(known)) or "none"
                raise QueryParameterError(
                    name, f"unknown parameter of query {self.name!r} (it takes {accepted})"
                )
        bound: dict[str, Any] = {}
        for p in self.parameters:
            if p.name in given:
                bound[p.name] = p.coerce(given[p.name])
            elif p.required:
                raise QueryParameterError(p.name, f"required by query {self.name!r} ({p.type})")
            else:
                bound[p.name] = p.default
        return bound


_SECTION = re.compile(r"^(Question|Parameters|Returns|Example)\b([^:]*):\s*(.*)$")
_PARAMETER = re.compile(
    r"^\$(?P<name>[A-Za-z_]\w*)\s*::\s*(?P<type>[A-Z]+(?:<[A-Z]+>)?)"
    r"(?:\s*=\s*(?P<default>\S+))?\s*(?P<description>.*)$"
)


def parse_query(name: str, source: str) -> LibraryQuery:
    """A library query from its file's text (the header format is in the module docstring)."""
    header: list[str] = []
    lines = source.splitlines()
    body_start = 0
    for i, line in enumerate(lines):
        if not line.startswith("//"):
            body_start = i
            break
        header.append(line[2:])
    else:
        body_start = len(lines)
    sections: dict[str, list[str]] = {}
    captions: dict[str, str] = {}
    current: str | None = None
    for line in header:
        match = (
            _SECTION.match(line.strip())
            if line.startswith(" ") and not line.startswith("  ")
            else None
        )
        if match:
            current = match.group(1)
            captions[current] = match.group(2).strip()
            sections[current] = [match.group(3)] if match.group(3) else []
        elif current is not None:
            sections[current].append(line)
    for required in ("Question", "Parameters", "Returns"):
        if required not in sections:
            raise ValueError(f"cypher/queries/{name}.cypher: the header has no '{required}:' line")
    question = " ".join(part.strip() for part in sections["Question"] if part.strip())
    parameters = tuple(_parse_parameters(name, sections["Parameters"]))
    returns = tuple(c.strip() for c in " ".join(sections["Returns"]).split(",") if c.strip())
    example_lines = sections.get("Example", [])
    example = _dedent(example_lines)
    if captions.get("Example"):
        example = f"{captions['Example']}\n{example}" if example else captions["Example"]
    example_params: dict[str, Any] = {}
    for line in example_lines:
        if line.strip().startswith("params:"):
            try:
                example_params = json.loads(line.strip()[len("params:") :])
            except ValueError as exc:
                raise ValueError(
                    f"cypher/queries/{name}.cypher: the example's params are not JSON: {exc}"
                ) from None
    body = "\n".join(lines[body_start:]).strip()
    if not body:
        raise ValueError(f"cypher/queries/{name}.cypher: no query after the header")
    return LibraryQuery(name, question, parameters, returns, example, body, example_params)


def _parse_parameters(name: str, lines: Sequence[str]) -> Iterator[Parameter]:
    entries = [line.strip() for line in lines if line.strip()]
    if entries == ["none"]:
        return
    for entry in entries:
        match = _PARAMETER.match(entry)
        if not match:
            raise ValueError(f"cypher/queries/{name}.cypher: unreadable parameter line {entry!r}")
        ptype = match.group("type")
        if ptype not in PARAMETER_TYPES:
            raise ValueError(f"cypher/queries/{name}.cypher: unknown type {ptype} of {entry!r}")
        default_text = match.group("default")
        default: Any = None
        if default_text is not None and default_text != "null":
            default = _coerce(ptype, default_text)
        yield Parameter(
            name=match.group("name"),
            type=ptype,
            description=match.group("description").strip(),
            required=default_text is None,
            default=default,
        )


def _dedent(lines: Sequence[str]) -> str:
    kept = [line.rstrip() for line in lines]
    while kept and not kept[-1].strip():
        kept.pop()
    indents = [len(line) - len(line.lstrip()) for line in kept if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in kept)


@cache
def _library() -> dict[str, LibraryQuery]:
    folder = CYPHER_DIR / "queries"
    names = sorted(path.stem for path in folder.glob("*.cypher"))
    return {name: parse_query(name, cypher.load(f"queries/{name}")) for name in names}


def library() -> list[LibraryQuery]:
    """Every library query, by name."""
    return list(_library().values())


def get_query(name: str) -> LibraryQuery:
    """The library query called ``name``; ``UnknownQuery`` (a ``NotFound``) if there is none."""
    found = _library().get(name)
    if found is None:
        raise UnknownQuery(name)
    return found


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """``["k=v", ...]`` from the command line as a dict of texts (typed later by the header)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lstrip("$")
        if not sep or not key:
            raise QueryParameterError(key or pair, f"write parameters as NAME=VALUE (got {pair!r})")
        out[key] = value
    return out


# --- types ---------------------------------------------------------------------------------------


#: Neo4j's INTEGER: a signed 64-bit integer. A larger one would fail in the driver.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _int64(value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"{value} is outside 64-bit integers ({INT64_MIN} to {INT64_MAX})")
    return value


def check_parameters(params: Mapping[str, Any]) -> None:
    """Free Cypher's parameters as Neo4j can take them: every integer in them (in lists and maps
    too) within 64 bits. Raises ``QueryParameterError`` naming the parameter."""
    for name, value in params.items():
        pending = [value]
        while pending:
            item = pending.pop()
            if isinstance(item, dict):
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, int) and not isinstance(item, bool):
                try:
                    _int64(item)
                except ValueError as exc:
                    raise QueryParameterError(name, str(exc)) from None


def _coerce(ptype: str, value: Any) -> Any:
    if ptype.startswith("LIST<"):
        inner = ptype[5:-1]
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            raise TypeError(f"not a list: {value!r}")
        return [_coerce(inner, item) for item in value]
    if ptype == "STRING":
        if not isinstance(value, str):
            raise TypeError(f"not a string: {value!r}")
        return value
    if ptype == "INTEGER":
        if isinstance(value, bool):
            raise TypeError(f"not an integer: {value!r}")
        if isinstance(value, int):
            return _int64(value)
        if isinstance(value, float) and value.is_integer():
            return _int64(int(value))
        if isinstance(value, str):
            return _int64(int(value.strip()))
        raise TypeError(f"not an integer: {value!r}")
    if ptype == "FLOAT":
        if isinstance(value, bool):
            raise TypeError(f"not a number: {value!r}")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            return float(value.strip())
        raise TypeError(f"not a number: {value!r}")
    if ptype == "BOOLEAN":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        raise ValueError(f"not a boolean: {value!r} (true or false)")
    if ptype == "DATETIME":
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip())
        else:
            raise TypeError(f"not an ISO 8601 date-time: {value!r}")
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        try:
            parsed.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00: year 0 in UTC
            raise ValueError(f"{value!r} is outside years 1 to 9999 in UTC") from None
        return parsed
    if ptype == "DATE":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            return date.fromisoformat(value.strip())
        raise TypeError(f"not an ISO 8601 date: {value!r}")
    raise ValueError(f"unknown parameter type {ptype}")


def _text_of(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_text_of(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def rfc3339(value: datetime) -> str:
    """An instant as RFC 3339 UTC text with ``Z``, as the REST API writes it (a datetime without a
    zone is not an instant: written as it is)."""
    if value.tzinfo is None:
        return value.isoformat()
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_json(value: Any) -> Any:
    """A value from a Neo4j record as plain JSON: nodes, relationships and paths as objects,
    temporal values as ISO 8601 text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, neo4j.graph.Node):
        return {
            "element_id": value.element_id,
            "labels": sorted(value.labels),
            "properties": to_json(dict(value)),
        }
    if isinstance(value, neo4j.graph.Relationship):
        return {
            "element_id": value.element_id,
            "type": value.type,
            "start": value.start_node.element_id if value.start_node else None,
            "end": value.end_node.element_id if value.end_node else None,
            "properties": to_json(dict(value)),
        }
    if isinstance(value, neo4j.graph.Path):
        return {
            "nodes": [to_json(n) for n in value.nodes],
            "relationships": [to_json(r) for r in value.relationships],
        }
    if isinstance(value, neo4j.time.DateTime):
        if value.tzinfo is None:
            return value.iso_format()
        if value.nanosecond % 1000 == 0:
            return rfc3339(value.to_native())
        return str(value.astimezone(UTC).iso_format()).replace("+00:00", "Z")  # nanoseconds kept
    if isinstance(value, neo4j.time.Date | neo4j.time.Time | neo4j.time.Duration):
        return value.iso_format()
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, neo4j.spatial.Point):
        return {"srid": value.srid, "coordinates": list(value)}
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return str(value)


# --- the read-only check -------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>//[^\n]*|/\*.*?\*/)
    | (?P<open_comment>/\*)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<open_string>['"])
    | (?P<quoted>`(?:[^`]|``)*`)
    | (?P<open_quoted>`)
    | (?P<word>[^\W\d]\w*)
    | (?P<number>\d\w*(?:\.\d\w*)?)
    | (?P<symbol>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        """An identifier's name: a word as written, a quoted one without its backticks."""
        if self.kind == "quoted":
            return self.text[1:-1].replace("``", "`")
        return self.text


def _tokens(text: str) -> list[_Token]:
    """The significant tokens of Cypher text (comments and white space dropped)."""
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "symbol"
        if kind in ("space", "comment"):
            continue
        if kind.startswith("open_"):
            raise QueryRefused(
                f"unterminated {kind[5:].replace('_', ' ')} at offset {match.start()}"
            )
        out.append(_Token(kind, match.group(), match.start()))
    return out


def check_read_only(text: str) -> str:
    """The statement to run if ``text`` passes the lexical checks; ``QueryRefused`` otherwise.

    One statement (a final ``;`` is dropped), starting with a read clause; no ``LOAD CSV``, no
    ``CALL { } IN TRANSACTIONS``, no procedure off :data:`ALLOWED_PROCEDURES`. What this cannot
    see, the ``EXPLAIN`` check and the READ transaction catch.
    """
    tokens = _tokens(text)
    if not tokens:
        raise QueryRefused("the query is empty")
    for i, token in enumerate(tokens):
        if token.kind == "symbol" and token.text == ";":
            if i + 1 < len(tokens):
                raise QueryRefused("one statement per request (found ';' followed by more)")
            text = text[: token.start]
            tokens = tokens[:i]
            break
    if not tokens:
        raise QueryRefused("the query is empty")
    first = tokens[0].upper
    if first not in _FIRST_CLAUSES:
        shown = tokens[0].text[:40]
        raise QueryRefused(
            f"a read query starts with MATCH, OPTIONAL MATCH, WITH, UNWIND, RETURN or CALL "
            f"(not {shown!r}; administration commands, EXPLAIN and PROFILE are not accepted)"
        )
    for i, token in enumerate(tokens):
        before = tokens[i - 1].text if i else ""
        if before == ":" and token.name.lower() == KEY_LABEL.lower():
            raise QueryRefused("API keys are not part of the analysts' graph")
        if before in (".", ":", "$"):
            continue  # a property, label or parameter that happens to be called so
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.upper == "LOAD" and after is not None and after.upper == "CSV":
            raise QueryRefused("LOAD CSV reads files and URLs; it is not accepted")
        if token.upper == "IN" and after is not None and after.upper == "TRANSACTIONS":
            raise QueryRefused(
                "CALL { ... } IN TRANSACTIONS commits as it goes; it is not accepted"
            )
        if token.upper == "CALL" and after is not None and after.kind in ("word", "quoted"):
            procedure = _procedure_name(tokens, i + 1)
            if procedure.lower() not in ALLOWED_PROCEDURES:
                raise QueryRefused(
                    f"procedure {procedure} is not on the read-only allow-list "
                    f"({', '.join(sorted(_display_procedures()))})"
                )
    return text


def _procedure_name(tokens: Sequence[_Token], start: int) -> str:
    parts = [tokens[start].name]
    j = start + 1
    while (
        j + 1 < len(tokens) and tokens[j].text == "." and tokens[j + 1].kind in ("word", "quoted")
    ):
        parts.append(tokens[j + 1].name)
        j += 2
    return ".".join(parts)


@cache
def _display_procedures() -> tuple[str, ...]:
    spelled = {
        "db.relationshiptypes": "db.relationshipTypes",
        "db.propertykeys": "db.propertyKeys",
        "db.schema.nodetypeproperties": "db.schema.nodeTypeProperties",
        "db.schema.reltypeproperties": "db.schema.relTypeProperties",
    }
    return tuple(spelled.get(p, p) for p in sorted(ALLOWED_PROCEDURES))


_QUERY_TYPES = {"w": "write", "rw": "read-write", "s": "schema or system"}


def _check_plan(summary: neo4j.ResultSummary) -> None:
    """Refuse what ``EXPLAIN`` shows is not a pure read of the graph."""
    kind = summary.query_type
    if kind != "r":
        shown = _QUERY_TYPES.get(str(kind), str(kind))
        raise QueryRefused(f"Neo4j classifies the query as {shown} ({kind!r}); only reads are run")
    for operator, details in _operators(summary.plan or {}):
        if operator == "LoadCSV":
            raise QueryRefused("LOAD CSV reads files and URLs; it is not accepted")
        if operator.startswith(("Show", "Terminate")):
            raise QueryRefused(f"administration commands ({operator}) are not accepted")
        if operator.endswith("ProcedureCall"):
            procedure = (details or "").split("(", 1)[0].strip()
            if procedure.lower() not in ALLOWED_PROCEDURES:
                raise QueryRefused(
                    f"procedure {procedure or '?'} is not on the read-only allow-list"
                )


def _operators(plan: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    operator = str(plan.get("operatorType", "")).split("@", 1)[0]
    details = (plan.get("args") or {}).get("Details")
    yield operator, details if isinstance(details, str) else None
    for child in plan.get("children") or ():
        yield from _operators(child)


# --- running -------------------------------------------------------------------------------------


@dataclass
class QueryResult:
    """Rows as column -> JSON value; ``truncated`` when more rows existed than the cap."""

    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool = False
    notifications: list[str] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.rows)


class QueryService:
    """Runs library queries and free read-only Cypher on one Neo4j database."""

    def __init__(
        self,
        driver: neo4j.Driver,
        database: str = "neo4j",
        *,
        owns_driver: bool = False,
        max_rows: int = DEFAULT_MAX_ROWS,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._driver = driver
        self._database = database
        self._owns_driver = owns_driver
        self.max_rows = max_rows
        self.timeout = timeout
        self.max_bytes = max_bytes

    @classmethod
    def open(cls, store_url: str, **limits: Any) -> QueryService:
        """A service on the Neo4j a store URL names; ``Neo4jRequired`` for any other store."""
        if not store_url.startswith(_NEO4J_SCHEMES):
            raise Neo4jRequired()
        from contribnet.store.neo4j import connect

        driver, database = connect(store_url)
        return cls(driver, database, owns_driver=True, **limits)

    def close(self) -> None:
        if self._owns_driver:
            self._driver.close()

    def __enter__(self) -> QueryService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def run_query(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        max_rows: int | None = None,
        timeout: float | None = None,
    ) -> QueryResult:
        """Run the library query ``name`` with ``params`` typed by its header."""
        query = get_query(name)
        return self._run(query.text, query.bind(params), max_rows, timeout)

    def run_cypher(
        self,
        text: str,
        params: Mapping[str, Any] | None = None,
        *,
        max_rows: int | None = None,
        timeout: float | None = None,
    ) -> QueryResult:
        """Run an analyst's own Cypher, if it is one read-only statement (see the module notes)."""
        check_parameters(params or {})
        return self._run(text, dict(params or {}), max_rows, timeout)

    def _run(
        self,
        text: str,
        params: dict[str, Any],
        max_rows: int | None,
        timeout: float | None,
    ) -> QueryResult:
        cap = self.max_rows if max_rows is None else max_rows
        seconds = self.timeout if timeout is None else timeout
        if cap < 1:
            raise QueryParameterError("max_rows", "must be at least 1")
        if seconds <= 0:
            raise QueryParameterError("timeout", "must be positive")
        statement = check_read_only(text)
        explaining = False

        def read(tx: neo4j.Transaction) -> tuple[Any, list[str], list[dict[str, Any]], bool]:
            nonlocal explaining
            explaining = True
            plan = tx.run(_EXPLAIN + statement, params).consume()
            explaining = False
            _check_plan(plan)
            hidden = _KeyMaterial(tx.run(cypher.load("store/key_hashes")).single())
            if hidden.unsealed:
                raise QueryRefused(
                    f"{hidden.unsealed} API key records from before keys were peppered are "
                    "not re-sealed yet; starting the server (or `contribnet keys list`) "
                    "re-seals them"
                )
            result = tx.run(statement, params)
            columns = list(result.keys())
            rows: list[dict[str, Any]] = []
            truncated = False
            size = 0
            for record in result:
                if len(rows) >= cap:
                    truncated = True
                    break
                row = {
                    k: to_json(hidden.strip(v))
                    for k, v in zip(columns, record.values(), strict=True)
                }
                size += len(json.dumps(row, ensure_ascii=False, default=str).encode())
                if size > self.max_bytes:
                    truncated = True
                    break
                rows.append(row)
            return plan, columns, rows, truncated

        try:
            with self._driver.session(
                database=self._database,
                default_access_mode=neo4j.READ_ACCESS,
                fetch_size=min(cap + 1, 1_000),
            ) as session:
                # Nothing here commits: the transaction is rolled back once read.
                plan, columns, rows, truncated = in_transaction(
                    session, read, commit=False, timeout=seconds
                )
        except neo4j.exceptions.Neo4jError as exc:
            message = exc.message or str(exc)
            if exc.code in _TIMEOUT_CODES:
                raise QueryTimeout(
                    f"the query was stopped at its timeout of {seconds:g} s: {message}", exc.code
                ) from None
            limit = memory_limit(exc.code, message)
            if limit is not None:  # transient to Neo4j, yet the same query fails again
                raise QueryOverMemory(str(limit), exc.code) from None
            if explaining:
                message = _without_explain(message)
            raise QueryError(message, exc.code) from None
        except neo4j.exceptions.DriverError as exc:
            raise QueryUnavailable(f"Neo4j is not reachable: {exc}") from None
        return QueryResult(columns, rows, truncated, _notifications(plan))


class _KeyMaterial:
    """Removes API keys from a query's values: nodes labelled :data:`KEY_LABEL` (and paths
    through them) become null, and so does any text equal to a key node's digest or sealed record
    -- however the query reached it (``MATCH (n) RETURN n``, ``n.digest``, ``properties(n)``) --
    and the label's own name (``CALL db.labels()``, ``db.schema.*``). A key node holds nothing
    else: its role, staff and times are inside the sealed record (services/keys.py), which only
    the server's pepper opens, so no filter is what keeps them from analysts."""

    _NAMES = frozenset({KEY_LABEL, f":`{KEY_LABEL}`", f":{KEY_LABEL}"})

    def __init__(self, record: neo4j.Record | None) -> None:
        self._hashes = frozenset(record["hashes"]) if record is not None else frozenset()
        self.unsealed = int(record["unsealed"]) if record is not None else 0

    def strip(self, value: Any) -> Any:
        if isinstance(value, neo4j.graph.Node):
            return None if KEY_LABEL in value.labels else value
        if isinstance(value, neo4j.graph.Path):
            return None if any(KEY_LABEL in n.labels for n in value.nodes) else value
        if isinstance(value, str):
            return None if value in self._hashes or value in self._NAMES else value
        if isinstance(value, list):
            return [self.strip(v) for v in value]
        if isinstance(value, dict):
            return {k: self.strip(v) for k, v in value.items()}
        return value


#: What the read-only check puts before the analyst's statement (on its first line).
_EXPLAIN = "EXPLAIN "
_POSITION = re.compile(r"\(line (\d+), column (\d+) \(offset: (\d+)\)\)")


def _without_explain(message: str) -> str:
    """Neo4j's error about ``EXPLAIN <statement>`` as if about the analyst's own text: the
    position moved back over the prefix, the echoed line and its caret without it.

    >>> print(_without_explain('Invalid input (line 1, column 19 (offset: 18))\\n'
    ...                        '"EXPLAIN MATCH (n) RETRN n"\\n                   ^'))
    Invalid input (line 1, column 11 (offset: 10))
    "MATCH (n) RETRN n"
               ^
    """
    shift = len(_EXPLAIN)
    found = _POSITION.search(message)
    if found is None:
        return message
    line, column, offset = (int(g) for g in found.groups())
    if line == 1:
        column = max(column - shift, 1)
    position = f"(line {line}, column {column} (offset: {max(offset - shift, 0)}))"
    message = message[: found.start()] + position + message[found.end() :]
    if line == 1:
        message = message.replace('\n"' + _EXPLAIN, '\n"', 1)
        message = re.sub(rf"\n {{{shift}}}(\s*\^)$", r"\n\1", message)
    return message


def _notifications(summary: neo4j.ResultSummary) -> list[str]:
    """Neo4j's warnings about a query (deprecations, unknown labels, missing parameters)."""
    out = []
    for status in summary.gql_status_objects:
        if status.is_notification:
            out.append(f"{status.gql_status}: {status.status_description}")
    return out
