"""Dependencies shared by the routers."""

from __future__ import annotations

import asyncio
import weakref
from typing import Annotated

from fastapi import Depends, Request

from contribnet.settings import Settings
from contribnet.store.base import Store


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def hot_read_slots() -> asyncio.Semaphore:
    """Four hot reads (previews, journeys) computed at a time per event loop, the rest waiting
    in line (first come, first served) rather than all contending for the interpreter at once
    in worker threads (a semaphore serves one loop only)."""
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(4)
    return _slots[loop]
