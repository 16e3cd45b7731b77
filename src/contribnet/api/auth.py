"""Bearer API keys and the roles they carry; health and the docs stay open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from contribnet.api.deps import SettingsDep, StoreDep
from contribnet.domain.roles import Principal, Role
from contribnet.services.keys import KeyRefused, resolve_key

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer KEY`.")


def current_principal(
    store: StoreDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Authorization: an API key is required (Authorization: Bearer KEY)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        principal = resolve_key(
            store, credentials.credentials, settings.admin_secret(), pepper=settings.pepper()
        )
    except KeyRefused as exc:  # revoked or expired: refused at once, saying which
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"Authorization: {exc}",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Authorization: unknown API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def require_roles(*roles: Role | str) -> Callable[..., Principal]:
    """A dependency admitting admins and the given roles; anyone else gets 403."""
    allowed = {Role(r) for r in roles} | {Role.ADMIN}

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {principal.role.value!r} may not do this ({names} may)",
            )
        return principal

    return check


def require_own_staff(principal: Principal, staff_id: str) -> None:
    """A staff key sees only its own staff member's data."""
    if principal.role is Role.STAFF and principal.staff != staff_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a staff key sees only its own data")
