"""Access to the core from request handlers."""

from __future__ import annotations

from fastapi import Request

from vmsystem.core import VmSystem

__all__ = ["vm"]


def vm(request: Request) -> VmSystem:
    """The VmSystem this app serves."""
    system: VmSystem = request.app.state.system
    return system
