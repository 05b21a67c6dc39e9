"""vm-system: a daemon-first JavaScript runtime service."""

from __future__ import annotations

from pathlib import Path

__all__ = ["__version__"]

DISTRIBUTION = "vm-system"


def _version() -> str:
    """The installed distribution's version; pyproject.toml's in a source tree without metadata.

    The version is written once, in pyproject.toml; an installed package (wheel or editable)
    carries it in its metadata.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        pass
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        import tomllib

        with pyproject.open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, ValueError):
        return "0+unknown"


def __getattr__(name: str) -> str:
    # Computed on first use: reading the distribution's metadata costs a CLI command a tenth
    # of a second at start-up, and most commands never show the version.
    if name == "__version__":
        value = _version()
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
