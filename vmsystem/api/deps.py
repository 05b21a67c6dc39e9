"""Access to the core from request handlers."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from vmsystem.core import VmSystem

__all__ = ["run_blocking", "run_in", "vm"]

T = TypeVar("T")


def vm(request: Request) -> VmSystem:
    """The VmSystem this app serves."""
    system: VmSystem = request.app.state.system
    return system


async def run_blocking(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking core call (an execution) off the event loop, on the system's executor
    (a plain executor is lighter than AnyIO's thread-pool hop)."""
    return await run_in(vm(request), fn, *args, **kwargs)


async def run_in(system: VmSystem, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """:func:`run_blocking` for code that holds the system rather than a request."""
    call = functools.partial(fn, *args, **kwargs) if kwargs else functools.partial(fn, *args)
    return await asyncio.get_running_loop().run_in_executor(system.executor, call)
