"""Access to the core from request handlers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import Request

from vmsystem.core import VmSystem

__all__ = ["run_blocking", "run_in", "size_thread_limiter", "vm"]

T = TypeVar("T")


def vm(request: Request) -> VmSystem:
    """The VmSystem this app serves."""
    system: VmSystem = request.app.state.system
    return system


async def run_blocking(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking core call off the event loop, through AnyIO's default thread limiter
    (the one limiter of the daemon's blocking work, synchronous routes included: the app
    sizes it by ``--executor-threads``)."""
    return await run_in(vm(request), fn, *args, **kwargs)


async def run_in(system: VmSystem, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """:func:`run_blocking` for code that holds the system rather than a request."""
    call = functools.partial(fn, *args, **kwargs) if kwargs else functools.partial(fn, *args)
    return await anyio.to_thread.run_sync(call)


def size_thread_limiter(system: VmSystem) -> None:
    """Size AnyIO's default thread limiter (of the running loop) by ``--executor-threads``:
    FastAPI runs synchronous routes through it, and :func:`run_blocking` everything else."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = system.executor_threads
