"""The HTTP layer: FastAPI routes over the core."""

from vmsystem.api.app import create_app

__all__ = ["create_app"]
