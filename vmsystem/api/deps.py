"""Access to the core from request handlers."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import Request

from vmsystem.core import VmSystem

__all__ = ["EXECUTOR", "run_blocking", "vm"]

T = TypeVar("T")

#: Threads for blocking core calls of the execution routes. A plain executor is lighter than
#: AnyIO's thread-pool hop, and it is sized so that every session can run at once.
EXECUTOR = ThreadPoolExecutor(max_workers=256, thread_name_prefix="vm-exec")


def vm(request: Request) -> VmSystem:
    """The VmSystem this app serves."""
    system: VmSystem = request.app.state.system
    return system


async def run_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking core call (an execution) off the event loop."""
    call = functools.partial(fn, *args, **kwargs) if kwargs else functools.partial(fn, *args)
    return await asyncio.get_running_loop().run_in_executor(EXECUTOR, call)
