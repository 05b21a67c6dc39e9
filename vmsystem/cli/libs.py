"""``vm-system libs ...``: the local library cache (works without a daemon).

The daemon reads the same cache directory (``--cache-dir`` / ``$VMSYSTEM_CACHE_DIR``, default
``~/.cache/vm-system/libraries``) when a session starts, so a library downloaded or added here
is usable at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from vmsystem.libraries.cache import CACHE_DIR_ENV, LibraryCache
from vmsystem.libraries.catalog import CATALOG
from vmsystem.libraries.errors import DownloadError
from vmsystem.libraries.manifest import ManifestEntry

from .output import OutputFormat, OutputOption, echo, render

__all__ = ["CacheDir", "app", "catalog_entries", "fetch_libraries"]

app = typer.Typer(
    name="libs",
    help="Manage the local library cache: download catalog libraries with npm, add local "
    "files, list them (works without a daemon).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        envvar=CACHE_DIR_ENV,
        help="Library cache directory (default ~/.cache/vm-system/libraries); the daemon must "
        "use the same one.",
        show_default=False,
        file_okay=False,
    ),
]


def catalog_entries() -> list[dict[str, Any]]:
    """The library catalog as JSON-ready dicts."""
    return [dict(entry.as_dict()) for entry in CATALOG]


def _entry_json(cache: LibraryCache, entry: ManifestEntry) -> dict[str, Any]:
    return {**entry.to_json(), "path": str(cache.file_path(entry))}


def _cache_line(cache: LibraryCache, entry: ManifestEntry) -> str:
    return f"  {entry.spec}: {entry.size} bytes ({cache.file_path(entry)})"


def _terminal() -> bool:
    return sys.stdout.isatty()


@app.command("download")
def download(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Libraries to fetch (lodash, lodash@4.17.21 or lodash-4.17.21); the whole "
            "catalog when omitted.",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    cache_dir: CacheDir = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Fetch catalog libraries with `npm pack` (npm's registry settings apply), verify their
    sha256 and store them in the cache. Cached libraries are not fetched again."""
    cache = LibraryCache(cache_dir)
    text = output is OutputFormat.text
    if text:
        echo(f"Downloading libraries to: {cache.path}")
    total = len(set(names)) if names else len(cache.catalog)
    failed: DownloadError | None = None
    with _progress(total, enabled=text) as report:
        try:
            entries = cache.download(names or None, report)
        except DownloadError as exc:
            failed = exc
            entries = exc.completed

    def lines() -> None:
        echo()
        echo("Cache info:")
        for entry in entries:
            echo(_cache_line(cache, entry))

    render(output, [_entry_json(cache, e) for e in entries], lines)
    if failed is not None:
        raise failed


def fetch_libraries(names: list[str], cache_dir: Path | None, *, progress: bool) -> None:
    """Download ``names`` into the cache (cached ones are kept), reporting progress on stderr
    so that the calling command's stdout stays its own. Raises the download's error."""
    cache = LibraryCache(cache_dir)

    def report(spec: str, event: str) -> None:
        if progress:
            typer.echo(f"  {spec}: {event}", err=True)

    cache.download(names, report)


class _Progress:
    """Reports download events: a Rich progress bar on a terminal, else one line each."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Callable[[str, str], None]:
        if self.enabled and _terminal():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()
            )
            self._bar.start()
            self._task = self._bar.add_task("libraries", total=self.total)
        return self.report

    def report(self, spec: str, event: str) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            if event == "downloading":
                self._bar.update(self._task, description=f"fetching {spec}")
            else:
                self._bar.console.print(f"  {spec}: {event}")
                self._bar.advance(self._task)
        else:
            echo(f"  {spec}: {event}")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.total, description="libraries")
            self._bar.stop()


def _progress(total: int, *, enabled: bool) -> _Progress:
    return _Progress(total, enabled)


@app.command("list")
def list_(cache_dir: CacheDir = None, output: OutputOption = OutputFormat.text) -> None:
    """List the libraries templates can use: the catalog and files added with `libs add`."""
    cache = LibraryCache(cache_dir)
    cached = {(e.name, e.version): e for e in cache.list()}
    rows: list[dict[str, Any]] = []
    for known in CATALOG:
        rows.append(
            {**known.as_dict(), "source": "npm", "cached": (known.name, known.version) in cached}
        )
    catalog_keys = {(k.name, k.version) for k in CATALOG}
    for entry in cache.list():
        if (entry.name, entry.version) not in catalog_keys:
            rows.append({**entry.to_json(), "description": "", "cached": True})

    def text() -> None:
        echo(f"Available libraries ({len(rows)}):")
        echo()
        for row in rows:
            echo(f"  {row['name']} - {row.get('package') or row['name']} v{row['version']}")
            if row.get("description"):
                echo(f"    {row['description']}")
            if row["source"] == "npm":
                echo(f"    Source: npm:{row['package']}@{row['version']}/{row['file']}")
            else:
                echo(f"    Source: local file {row.get('origin', '')}".rstrip())
            echo(f"    Global: {row['global']}")
            echo(f"    Cached: {'yes' if row['cached'] else 'no'}")
            echo()

    render(output, rows, text)


@app.command("cache-info")
def cache_info(cache_dir: CacheDir = None, output: OutputOption = OutputFormat.text) -> None:
    """Show what the cache holds: each library's size and file, and the total size."""
    cache = LibraryCache(cache_dir)
    entries = cache.list()

    def text() -> None:
        if not entries:
            echo("No libraries cached. Run 'vm-system libs download' first.")
            return
        echo(f"Cached libraries ({len(entries)}):")
        for entry in entries:
            echo(_cache_line(cache, entry))
        total = sum(e.size for e in entries)
        echo()
        echo(f"Total cache size: {total} bytes ({total / 1024:.2f} KB)")

    render(output, [_entry_json(cache, e) for e in entries], text)


@app.command("add")
def add(
    file: Annotated[
        Path,
        typer.Argument(
            help="A UMD/plain script file that defines a global when evaluated.",
            metavar="FILE",
            show_default=False,
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="Library name (a-z, 0-9, '.', '_', '-').")],
    version: Annotated[str, typer.Option("--version", help="Library version, e.g. 1.0.0.")],
    global_name: Annotated[
        str, typer.Option("--global", help="The global the script defines, e.g. `_`.")
    ],
    cache_dir: CacheDir = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Add a local file to the cache (offline use); templates then name it NAME or NAME@VERSION."""
    cache = LibraryCache(cache_dir)
    entry = cache.add_local(file, name, version, global_name)
    render(
        output,
        _entry_json(cache, entry),
        lambda: echo(
            f"Added library: {entry.spec} (global {entry.global_name}) to {cache.file_path(entry)}"
        ),
    )
