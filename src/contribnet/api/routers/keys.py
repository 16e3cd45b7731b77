"""API keys, for admins: create (the secret shown once), list, revoke."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, ConfigDict, Field

from contribnet.api.auth import require_roles
from contribnet.api.deps import SettingsDep, StoreDep
from contribnet.api.limits import StrictJsonRoute
from contribnet.api.routers.credit import requested_by
from contribnet.domain.roles import Principal, Role
from contribnet.services import keys as key_service

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute, tags=["keys"])

Admins = Annotated[Principal, Depends(require_roles())]
KeyId = Annotated[
    str, Path(description="the key's public id, as printed", examples=["key-97a74635e1f9"])
]


class KeyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"role": "leader"},
                {"role": "staff", "staff": "sf-sh-nio-1-01", "expires": "2025-12-31"},
            ]
        },
    )

    role: Role
    staff: str | None = Field(default=None, description="a staff key's staff member (existing)")
    expires: datetime | date | None = Field(
        default=None,
        description="last day the key works (China Standard Time), or the instant it stops",
    )


class CreatedKey(key_service.ApiKey):
    secret: str = Field(description="the key itself: shown this once, never stored")


@router.get(
    "/keys",
    response_model=list[key_service.ApiKey],
    summary="Every API key (never a secret), oldest first",
    operation_id="listKeys",
)
def list_keys(store: StoreDep, settings: SettingsDep, _: Admins) -> list[key_service.ApiKey]:
    return key_service.list_keys(store, pepper=settings.pepper())


@router.post(
    "/keys",
    response_model=CreatedKey,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "A bad role, staff member or expiry, named."}},
    summary="Create an API key; its secret is in this response only",
    operation_id="createKey",
)
def create_key(
    body: KeyRequest, store: StoreDep, settings: SettingsDep, principal: Admins
) -> CreatedKey:
    pepper = settings.pepper()
    secret = key_service.create_key(
        store,
        body.role.value,
        body.staff,
        body.expires,
        pepper=pepper,
        requested_by=requested_by(principal),
    )
    wanted = key_service.key_id(key_service.hash_key(secret))
    listed = next(k for k in key_service.list_keys(store, pepper=pepper) if k.id == wanted)
    return CreatedKey(**dict(listed), secret=secret)


@router.delete(
    "/keys/{key_id}",
    response_model=key_service.ApiKey,
    responses={404: {"description": "No key with that id."}},
    summary="Revoke an API key: refused from the next request on",
    operation_id="revokeKey",
)
def revoke_key(
    key_id: KeyId, store: StoreDep, settings: SettingsDep, principal: Admins
) -> key_service.ApiKey:
    return key_service.revoke_key(
        store, key_id, pepper=settings.pepper(), requested_by=requested_by(principal)
    )
