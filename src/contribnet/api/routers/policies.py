"""Policies: versions added, never edited; which one is in force when."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from contribnet.api.auth import require_roles
from contribnet.api.deps import StoreDep
from contribnet.api.limits import StrictJsonRoute
from contribnet.api.routers.credit import requested_by
from contribnet.domain import strict_json
from contribnet.domain.errors import NotFound
from contribnet.domain.policy import Policy
from contribnet.domain.roles import Principal
from contribnet.domain.settlement import InvalidRequest, PolicyRecord
from contribnet.services import policies as policy_service

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute, tags=["policies"])

_TOML_TYPES = ("application/toml", "text/plain", "text/x-toml", "application/x-toml")
_EXAMPLE_TOML = """name = "default"
effective_from = 2025-03-01
description = "Test drives weigh more from March."

[stage_weights]
test_drive = 30.0
"""


class PolicyVersion(PolicyRecord):
    """A recorded version and when it is in force: from ``effective_from`` until the day
    ``in_force_until`` (exclusive; null: still in force). ``in_force`` is false for a version that a
    later-recorded version with the same ``effective_from`` replaced before it took effect."""

    in_force: bool
    in_force_until: date | None = Field(default=None)


def _version(records: list[PolicyRecord], record: PolicyRecord) -> PolicyVersion:
    ever, until = policy_service.in_force_until(records, record)
    return PolicyVersion(**dict(record), in_force=ever, in_force_until=until)


@router.post(
    "/policies",
    operation_id="createPolicy",
    response_model=PolicyVersion,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "The same version with identical values again: the recorded one."},
        409: {"description": "That name@version is recorded with other values."},
        422: {"description": "Not TOML/JSON, an unknown key or a bad value; each named."},
    },
    summary="Add a policy version (never an edit)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": Policy.model_json_schema(),
                    "example": {
                        "name": "default",
                        "effective_from": "2025-03-01",
                        "stage_weights": {"test_drive": 30.0},
                    },
                },
                "application/toml": {
                    "schema": {"type": "string"},
                    "example": _EXAMPLE_TOML,
                },
            },
        }
    },
)
async def post_policy(
    request: Request,
    store: StoreDep,
    principal: Annotated[Principal, Depends(require_roles())],
    response: Response,
) -> PolicyVersion:
    """The body is a policy in TOML (``Content-Type: application/toml``, as in
    ``policies/default.toml``) or the same keys as JSON. ``effective_from`` is required;
    ``name`` defaults to ``default``; without ``version`` the next whole number is assigned.
    Every key not given takes the documented default. The version in force at a deal's close
    is the one with the latest ``effective_from`` on or before its close day (China Standard
    Time); of versions with the same ``effective_from``, the one recorded last."""
    raw = await request.body()
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    data: dict[str, Any] | str
    if kind in _TOML_TYPES:
        try:
            data = raw.decode()
        except UnicodeDecodeError:
            raise InvalidRequest.one("policy", "TOML must be UTF-8") from None
    else:
        try:  # strictly, as every JSON body (api/limits.py): no repeated keys, bounded depth
            data = strict_json.loads(raw or b"null")
        except strict_json.JsonRefused as exc:
            field = "policy" if exc.field == "body" else exc.field
            raise InvalidRequest.one(field, exc.message) from None
    record, created = await run_in_threadpool(
        policy_service.add_policy, store, data, requested_by(principal)
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _version(store.ledger.policies(), record)


@router.get(
    "/policies",
    response_model=list[PolicyVersion],
    summary="Every policy version, in the order recorded",
)
def list_policies(
    store: StoreDep,
    _: Annotated[Principal, Depends(require_roles("analyst", "leader", "staff"))],
    at: Annotated[
        date | None,
        Query(description="only the version in force on this day (CST)", examples=["2025-03-01"]),
    ] = None,
) -> list[PolicyVersion]:
    records = store.ledger.policies()
    if at is not None:
        found = policy_service.in_force(records, at)
        return [_version(records, found)] if found else []
    return [_version(records, r) for r in records]


@router.get(
    "/policies/{policy_id}",
    response_model=PolicyVersion,
    responses={404: {"description": "No such policy version."}},
    summary="One policy version (`name@version`, or a name: its latest version)",
)
def get_policy(
    policy_id: str,
    store: StoreDep,
    _: Annotated[Principal, Depends(require_roles("analyst", "leader", "staff"))],
) -> PolicyVersion:
    records = store.ledger.policies()
    try:
        return _version(records, policy_service.find_policy(records, policy_id))
    except NotFound:
        raise NotFound("policy", policy_id) from None
