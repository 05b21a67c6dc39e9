"""``vm-system template ...``: templates, their settings, modules, libraries, capabilities
and startup files."""

from __future__ import annotations

import posixpath
from typing import Annotated, Any, cast

import typer

from vmsystem.client import Client, Conflict
from vmsystem.client.types import Limits, Settings

from .catalogs import library_catalog, module_catalog
from .executions import Language
from .failures import CliError, parse_json_object
from .libs import CacheDir, fetch_libraries
from .output import (
    Column,
    OutputFormat,
    OutputOption,
    compact,
    echo,
    pretty,
    render,
    table,
    truncate,
)
from .refs import non_empty, template_id_of
from .state import client_of

__all__ = ["app"]

app = typer.Typer(
    name="template",
    help="Manage templates: runtime profiles with settings, modules, libraries, capabilities "
    "and startup files.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

TemplateId = Annotated[
    str,
    typer.Argument(
        help="Template ID or name.", metavar="TEMPLATE", show_default=False, callback=non_empty
    ),
]


def _template(ctx: typer.Context, ref: str) -> tuple[Client, str]:
    """The command's client and the ID of the template ``ref`` (an ID or a name) names."""
    client = client_of(ctx)
    return client, template_id_of(client, ref)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


# -- templates ---------------------------------------------------------------------------------
@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Template name (unique).")],
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="JS engine: v8 (the default) or goja (legacy alias of the default engine).",
            show_default=False,
        ),
    ] = None,
    if_not_exists: Annotated[
        bool,
        typer.Option(
            "--if-not-exists",
            help="When a template of this name exists, print it as `Template exists: NAME "
            "(ID: ID)` and succeed instead of failing with CONFLICT (re-runnable scripts).",
        ),
    ] = False,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Create a template. Prints `Created template: NAME (ID: ID)`."""
    client = client_of(ctx)
    try:
        template = client.create_template(name, engine)
    except Conflict:
        if not if_not_exists:
            raise
        found = [t for t in client.list_templates() if t["name"] == name.strip()]
        if not found:
            raise
        existing = found[0]
        render(
            output,
            existing,
            lambda: echo(f"Template exists: {existing['name']} (ID: {existing['id']})"),
        )
        return
    render(
        output,
        template,
        lambda: echo(f"Created template: {template['name']} (ID: {template['id']})"),
    )


@app.command("list")
def list_(ctx: typer.Context, output: OutputOption = OutputFormat.text) -> None:
    """List templates, newest first."""
    templates = client_of(ctx).list_templates()

    def text() -> None:
        if not templates:
            echo("No templates found")
            return
        table(
            [Column("ID", 36), Column("Name", 20), Column("Engine", 10), Column("Active", 10)],
            (
                [t["id"], t["name"], t["engine"], _yes_no(t.get("is_active", True))]
                for t in templates
            ),
            dash=84,
        )

    render(output, templates, text)


@app.command("get")
def get(
    ctx: typer.Context, template_id: TemplateId, output: OutputOption = OutputFormat.text
) -> None:
    """Show a template with its settings, capabilities, startup files, modules and libraries."""
    client, tid = _template(ctx, template_id)
    detail = client.get_template(tid)

    def text() -> None:
        t = detail["template"]
        echo(f"Template: {t['name']}")
        echo(f"ID: {t['id']}")
        echo(f"Engine: {t['engine']}")
        echo(f"Active: {str(t.get('is_active', True)).lower()}")
        echo(f"Created: {t['created_at']}")
        echo(f"Updated: {t['updated_at']}")
        settings: dict[str, Any] = dict(detail.get("settings") or t.get("settings") or {})
        if settings:
            echo()
            echo("Settings:")
            for key, label in (
                ("limits", "Limits"),
                ("resolver", "Resolver"),
                ("runtime", "Runtime"),
                ("deterministic", "Deterministic"),
                ("worktree", "Worktree"),
                ("recovery", "Recovery"),
                ("session", "Session"),
            ):
                if key in settings:
                    echo(f"  {label}: {compact(settings[key])}")
        if detail.get("capabilities"):
            echo()
            echo("Capabilities:")
            for cap in detail["capabilities"]:
                state = "enabled" if cap["enabled"] else "disabled"
                echo(f"  [{state}] {cap['kind']}:{cap['name']} (config: {compact(cap['config'])})")
        if detail.get("startup_files"):
            echo()
            echo("Startup Files:")
            for sf in detail["startup_files"]:
                echo(f"  [{sf['order_index']}] {sf['path']} (mode: {sf['mode']})")
        if t.get("exposed_modules"):
            echo()
            echo("Exposed Modules:")
            for module in t["exposed_modules"]:
                echo(f"  - {module}")
        if t.get("libraries"):
            echo()
            echo("Loaded Libraries:")
            for library in t["libraries"]:
                echo(f"  - {library}")

    render(output, detail, text)


@app.command("delete")
def delete(
    ctx: typer.Context, template_id: TemplateId, output: OutputOption = OutputFormat.text
) -> None:
    """Delete a template (refused with TEMPLATE_IN_USE while it has live sessions)."""
    client, tid = _template(ctx, template_id)
    answer = client.delete_template(tid)
    render(
        output, answer, lambda: echo(f"Deleted template: {answer.get('template_id', template_id)}")
    )


@app.command("update")
def update(
    ctx: typer.Context,
    template_id: TemplateId,
    name: Annotated[
        str | None, typer.Option("--name", help="New name.", show_default=False)
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="New engine (v8, or goja as its alias).", show_default=False),
    ] = None,
    language: Annotated[
        Language | None,
        typer.Option(
            "--language",
            help="Default language of REPL input in its sessions (settings.runtime.language).",
            show_default=False,
        ),
    ] = None,
    idle_timeout: Annotated[
        float | None,
        typer.Option(
            "--idle-timeout",
            help="Close its sessions after this many seconds without activity, 0: never "
            "(settings.session.idle_timeout_s).",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Rename a template, change its engine, its REPL language or its sessions' idle timeout.
    Prints `Updated template: NAME (ID: ID)`."""
    if name is None and engine is None and language is None and idle_timeout is None:
        raise CliError("nothing to update: give --name, --engine, --language and/or --idle-timeout")
    client, tid = _template(ctx, template_id)
    settings: Settings = {}
    if language is not None:
        settings["runtime"] = {"language": language.value}
    if idle_timeout is not None:
        settings["session"] = {"idle_timeout_s": idle_timeout}
    template = client.update_template(tid, name=name, engine=engine, settings=settings or None)
    render(
        output,
        template,
        lambda: echo(f"Updated template: {template['name']} (ID: {template['id']})"),
    )


def _limit_option(flag: str, what: str) -> Any:
    return typer.Option(flag, help=what, show_default=False, min=1)


@app.command("set-limits")
def set_limits(
    ctx: typer.Context,
    template_id: TemplateId,
    wall_ms: Annotated[
        int | None, _limit_option("--wall-ms", "Wall-clock limit per execution (ms).")
    ] = None,
    cpu_ms: Annotated[
        int | None, _limit_option("--cpu-ms", "CPU-time limit per execution (ms).")
    ] = None,
    mem_mb: Annotated[
        int | None, _limit_option("--mem-mb", "JS heap limit of a session (MiB).")
    ] = None,
    max_events: Annotated[
        int | None, _limit_option("--max-events", "Most events one execution may produce.")
    ] = None,
    max_output_kb: Annotated[
        int | None,
        _limit_option("--max-output-kb", "Most console output one execution may produce (KiB)."),
    ] = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Change limits of a template; limits not given keep their values (settings merge).

    New sessions use the new limits; running sessions keep the snapshot they started with.
    """
    given = {
        "wall_ms": wall_ms,
        "cpu_ms": cpu_ms,
        "mem_mb": mem_mb,
        "max_events": max_events,
        "max_output_kb": max_output_kb,
    }
    limits = cast(Limits, {k: v for k, v in given.items() if v is not None})
    if not limits:
        raise CliError(
            "no limit given: use --wall-ms, --cpu-ms, --mem-mb, --max-events or --max-output-kb"
        )
    client, tid = _template(ctx, template_id)
    template = client.update_template(tid, settings={"limits": limits})

    def text() -> None:
        echo(f"Updated template: {template['name']} (ID: {template['id']})")
        echo(f"Limits: {compact(template.get('settings', {}).get('limits', limits))}")

    render(output, template, text)


# -- modules and libraries -------------------------------------------------------------------
ModuleArg = Annotated[
    str | None,
    typer.Argument(help="Native module: fs, exec or database.", metavar="NAME", show_default=False),
]
LibraryArg = Annotated[
    str | None,
    typer.Argument(
        help="Library: lodash, lodash@4.17.21 or lodash-4.17.21.",
        metavar="NAME",
        show_default=False,
    ),
]
NameOption = Annotated[
    str | None,
    typer.Option("--name", help="The same as NAME (the original's flag).", show_default=False),
]


def _name(positional: str | None, option: str | None) -> str:
    """The name given as the NAME argument or as ``--name`` (exactly one of them)."""
    if positional is not None and option is not None and positional != option:
        raise typer.BadParameter("give the name once: NAME or --name", param_hint="NAME")
    name = positional if positional is not None else option
    if name is None or not name.strip():
        raise typer.BadParameter("missing name: give NAME (or --name NAME)", param_hint="NAME")
    return name


@app.command("add-module")
def add_module(
    ctx: typer.Context,
    template_id: TemplateId,
    module: ModuleArg = None,
    name_option: NameOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Allow `require()` of a native module in the template's sessions."""
    name = _name(module, name_option)
    client, tid = _template(ctx, template_id)
    answer = client.add_module(tid, name)
    render(output, answer, lambda: echo(f"Added module: {name} to template {template_id}"))


@app.command("remove-module")
def remove_module(
    ctx: typer.Context,
    template_id: TemplateId,
    module: ModuleArg = None,
    name_option: NameOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Stop allowing a native module."""
    name = _name(module, name_option)
    client, tid = _template(ctx, template_id)
    answer = client.remove_module(tid, name)
    render(output, answer, lambda: echo(f"Removed module: {name} from template {template_id}"))


@app.command("list-modules")
def list_modules(
    ctx: typer.Context, template_id: TemplateId, output: OutputOption = OutputFormat.text
) -> None:
    """List the native modules of a template, one per line."""
    client, tid = _template(ctx, template_id)
    modules = client.list_modules(tid)
    render(output, modules, lambda: _lines(modules, "No modules configured"))


@app.command("add-library")
def add_library(
    ctx: typer.Context,
    template_id: TemplateId,
    library: LibraryArg = None,
    name_option: NameOption = None,
    download: Annotated[
        bool,
        typer.Option(
            "--download",
            help="First fetch the library into the local cache, as `vm-system libs download "
            "NAME` does (the daemon must use the same cache directory).",
        ),
    ] = False,
    cache_dir: CacheDir = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Load a catalog library into the template's sessions.

    When the daemon's cache lacks the library, a warning on stderr names the command that
    fetches it (sessions fail with LIBRARY_NOT_CACHED until then); --download fetches it first.
    """
    name = _name(library, name_option)
    client, tid = _template(ctx, template_id)
    if download:
        fetch_libraries([name], cache_dir, progress=output is OutputFormat.text)
    answer = client.add_library(tid, name)
    render(output, answer, lambda: echo(f"Added library: {name} to template {template_id}"))
    if answer.get("warning"):
        typer.echo(f"Warning: {answer['warning']}", err=True)


@app.command("remove-library")
def remove_library(
    ctx: typer.Context,
    template_id: TemplateId,
    library: LibraryArg = None,
    name_option: NameOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Stop loading a library."""
    name = _name(library, name_option)
    client, tid = _template(ctx, template_id)
    answer = client.remove_library(tid, name)
    render(output, answer, lambda: echo(f"Removed library: {name} from template {template_id}"))


@app.command("list-libraries")
def list_libraries(
    ctx: typer.Context, template_id: TemplateId, output: OutputOption = OutputFormat.text
) -> None:
    """List the libraries of a template in load order, one per line."""
    client, tid = _template(ctx, template_id)
    libraries = client.list_libraries(tid)
    render(output, libraries, lambda: _lines(libraries, "No libraries configured"))


def _lines(items: list[str], empty: str) -> None:
    if not items:
        echo(empty)
    for item in items:
        echo(item)


@app.command("list-available-modules")
def list_available_modules(output: OutputOption = OutputFormat.text) -> None:
    """Print the native module catalog as JSON (local; needs no daemon)."""
    catalog = module_catalog()
    render(output, catalog, lambda: echo(pretty(catalog)))


@app.command("list-available-libraries")
def list_available_libraries(output: OutputOption = OutputFormat.text) -> None:
    """Print the library catalog as JSON (local; needs no daemon)."""
    catalog = library_catalog()
    render(output, catalog, lambda: echo(pretty(catalog)))


# -- capabilities ---------------------------------------------------------------------------


@app.command("add-capability")
def add_capability(
    ctx: typer.Context,
    template_id: TemplateId,
    capability: Annotated[
        str | None,
        typer.Argument(
            help="KIND:NAME (for example `exec:run`), or NAME with --kind.",
            metavar="KIND:NAME",
            show_default=False,
        ),
    ] = None,
    name_option: Annotated[
        str | None,
        typer.Option(
            "--name", help="Capability name (for example `write`, `run`).", show_default=False
        ),
    ] = None,
    kind_option: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Capability kind (for example `fs`, `exec`; default module).",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        str,
        typer.Option(
            "--config", help='Configuration as a JSON object, e.g. \'{"allow": ["ls"]}\'.'
        ),
    ] = "{}",
    enabled: Annotated[
        bool,
        typer.Option(
            "--enabled/--disabled",
            help="Whether the capability is in force (`--enabled=false` is accepted too).",
        ),
    ] = True,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Add a capability KIND:NAME to a template.

    Prints `Added capability: KIND:NAME to template ID`.
    """
    kind, name = _capability(capability, kind_option, name_option)
    config_object = parse_json_object(config, "config")
    client, tid = _template(ctx, template_id)
    added = client.add_capability(tid, kind, name, enabled=enabled, config=config_object)
    render(
        output,
        added,
        lambda: echo(f"Added capability: {kind}:{name} to template {template_id}"),
    )


def _capability(
    positional: str | None, kind_option: str | None, name_option: str | None
) -> tuple[str, str]:
    """``(kind, name)`` from ``KIND:NAME`` (or ``NAME``) and the ``--kind``/``--name`` flags."""
    kind_given: str | None = None
    name_given = positional
    if positional is not None and ":" in positional:
        kind_given, name_given = positional.split(":", 1)
    if kind_given is not None and kind_option is not None and kind_given != kind_option:
        raise typer.BadParameter("give the kind once: KIND:NAME or --kind", param_hint="--kind")
    name = _name(name_given, name_option)
    kind = kind_given or kind_option or "module"
    if not kind.strip():
        raise typer.BadParameter("the kind of KIND:NAME must not be empty", param_hint="KIND")
    return kind, name


@app.command("list-capabilities")
def list_capabilities(
    ctx: typer.Context, template_id: TemplateId, output: OutputOption = OutputFormat.text
) -> None:
    """List a template's capabilities (the last column is the ID `remove-capability` takes)."""
    client, tid = _template(ctx, template_id)
    capabilities = client.list_capabilities(tid)

    def text() -> None:
        if not capabilities:
            echo("No capabilities found")
            return
        table(
            [
                Column("Kind", 10),
                Column("Name", 20),
                Column("Enabled", 10),
                Column("Config", 30),
                Column("ID"),
            ],
            (
                [
                    c["kind"],
                    c["name"],
                    _yes_no(c["enabled"]),
                    truncate(compact(c["config"]), 30),
                    c["id"],
                ]
                for c in capabilities
            ),
            dash=117,
        )

    render(output, capabilities, text)


@app.command("remove-capability")
def remove_capability(
    ctx: typer.Context,
    template_id: TemplateId,
    capability_id: Annotated[
        str,
        typer.Argument(
            help="Capability ID (see list-capabilities).",
            metavar="CAPABILITY_ID",
            show_default=False,
            callback=non_empty,
        ),
    ],
    output: OutputOption = OutputFormat.text,
) -> None:
    """Remove a capability from a template."""
    client, tid = _template(ctx, template_id)
    answer = client.remove_capability(tid, capability_id)
    render(
        output,
        answer,
        lambda: echo(f"Removed capability: {capability_id} from template {template_id}"),
    )


# -- startup files ----------------------------------------------------------------------------
@app.command("add-startup")
def add_startup(
    ctx: typer.Context,
    template_id: TemplateId,
    path: Annotated[
        str, typer.Option("--path", help="File path relative to the session worktree.")
    ],
    order: Annotated[int, typer.Option("--order", help="Run order (ascending).")] = 10,
    mode: Annotated[
        str, typer.Option("--mode", help="Startup mode; only `eval` is supported.")
    ] = "eval",
    if_not_exists: Annotated[
        bool,
        typer.Option(
            "--if-not-exists",
            help="When the template already runs this path, print `Startup file exists: PATH "
            "(order: N)` and succeed instead of failing with CONFLICT.",
        ),
    ] = False,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Add a startup file, run in every new session before it becomes ready."""
    if mode != "eval":
        raise CliError(f'unsupported startup mode "{mode}": only eval is currently supported')
    client, tid = _template(ctx, template_id)
    try:
        startup = client.add_startup_file(tid, path, order_index=order, mode=mode)
    except Conflict:
        if not if_not_exists:
            raise
        wanted = posixpath.normpath(path.strip())
        found = [f for f in client.list_startup_files(tid) if f["path"] == wanted]
        if not found:
            raise
        existing = found[0]
        render(
            output,
            existing,
            lambda: echo(
                f"Startup file exists: {existing['path']} (order: {existing['order_index']})"
                f" in template {template_id}"
            ),
        )
        return
    render(
        output,
        startup,
        lambda: echo(f"Added startup file: {path} (order: {order}) to template {template_id}"),
    )


@app.command("list-startup")
def list_startup(
    ctx: typer.Context, template_id: TemplateId, output: OutputOption = OutputFormat.text
) -> None:
    """List a template's startup files in run order (the last column is the ID)."""
    client, tid = _template(ctx, template_id)
    files = client.list_startup_files(tid)

    def text() -> None:
        if not files:
            echo("No startup files found")
            return
        table(
            [Column("Order", 5), Column("Mode", 10), Column("Path", 50), Column("ID")],
            ([str(f["order_index"]), f["mode"], f["path"], f["id"]] for f in files),
            dash=107,
        )

    render(output, files, text)


@app.command("remove-startup")
def remove_startup(
    ctx: typer.Context,
    template_id: TemplateId,
    startup_id: Annotated[
        str,
        typer.Argument(
            help="Startup file ID (see list-startup).",
            metavar="STARTUP_ID",
            show_default=False,
            callback=non_empty,
        ),
    ],
    output: OutputOption = OutputFormat.text,
) -> None:
    """Remove a startup file from a template."""
    client, tid = _template(ctx, template_id)
    answer = client.remove_startup_file(tid, startup_id)
    render(
        output,
        answer,
        lambda: echo(f"Removed startup file: {startup_id} from template {template_id}"),
    )
