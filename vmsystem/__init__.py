"""vm-system: a daemon-first JavaScript runtime service."""

__version__ = "0.1.0"
__all__ = ["__version__"]
