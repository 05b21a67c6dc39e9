"""``vm-system template ...``: templates, their settings, modules, libraries, capabilities
and startup files."""

from __future__ import annotations

from typing import Annotated, Any, cast

import typer

from vmsystem.client.types import Limits

from .catalogs import library_catalog, module_catalog
from .failures import CliError, parse_json_object
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
from .state import client_of

__all__ = ["app"]

app = typer.Typer(
    name="template",
    help="Manage templates: runtime profiles with settings, modules, libraries, capabilities "
    "and startup files.",
    no_args_is_help=True,
)

TemplateId = Annotated[
    str, typer.Argument(help="Template ID.", metavar="TEMPLATE_ID", show_default=False)
]


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
    output: OutputOption = OutputFormat.text,
) -> None:
    """Create a template. Prints `Created template: NAME (ID: ID)`."""
    template = client_of(ctx).create_template(name, engine)
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
    detail = client_of(ctx).get_template(template_id)

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
    answer = client_of(ctx).delete_template(template_id)
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
    output: OutputOption = OutputFormat.text,
) -> None:
    """Rename a template or change its engine. Prints `Updated template: NAME (ID: ID)`."""
    if name is None and engine is None:
        raise CliError("nothing to update: give --name and/or --engine")
    template = client_of(ctx).update_template(template_id, name=name, engine=engine)
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
    template = client_of(ctx).update_template(template_id, settings={"limits": limits})

    def text() -> None:
        echo(f"Updated template: {template['name']} (ID: {template['id']})")
        echo(f"Limits: {compact(template.get('settings', {}).get('limits', limits))}")

    render(output, template, text)


# -- modules and libraries -------------------------------------------------------------------
ModuleName = Annotated[str, typer.Option("--name", help="Native module: fs, exec or database.")]
LibraryName = Annotated[
    str, typer.Option("--name", help="Library: lodash, lodash@4.17.21 or lodash-4.17.21.")
]


@app.command("add-module")
def add_module(
    ctx: typer.Context,
    template_id: TemplateId,
    name: ModuleName,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Allow `require()` of a native module in the template's sessions."""
    answer = client_of(ctx).add_module(template_id, name)
    render(output, answer, lambda: echo(f"Added module: {name} to template {template_id}"))


@app.command("remove-module")
def remove_module(
    ctx: typer.Context,
    template_id: TemplateId,
    name: ModuleName,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Stop allowing a native module."""
    answer = client_of(ctx).remove_module(template_id, name)
    render(output, answer, lambda: echo(f"Removed module: {name} from template {template_id}"))


@app.command("list-modules")
def list_modules(
    ctx: typer.Context, template_id: TemplateId, output: OutputOption = OutputFormat.text
) -> None:
    """List the native modules of a template, one per line."""
    modules = client_of(ctx).list_modules(template_id)
    render(output, modules, lambda: _lines(modules, "No modules configured"))


@app.command("add-library")
def add_library(
    ctx: typer.Context,
    template_id: TemplateId,
    name: LibraryName,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Load a catalog library into the template's sessions (download it with `libs download`)."""
    answer = client_of(ctx).add_library(template_id, name)
    render(output, answer, lambda: echo(f"Added library: {name} to template {template_id}"))


@app.command("remove-library")
def remove_library(
    ctx: typer.Context,
    template_id: TemplateId,
    name: LibraryName,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Stop loading a library."""
    answer = client_of(ctx).remove_library(template_id, name)
    render(output, answer, lambda: echo(f"Removed library: {name} from template {template_id}"))


@app.command("list-libraries")
def list_libraries(
    ctx: typer.Context, template_id: TemplateId, output: OutputOption = OutputFormat.text
) -> None:
    """List the libraries of a template in load order, one per line."""
    libraries = client_of(ctx).list_libraries(template_id)
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
    name: Annotated[
        str, typer.Option("--name", help="Capability name (for example `write`, `run`).")
    ],
    kind: Annotated[
        str, typer.Option("--kind", help="Capability kind (for example `fs`, `exec`).")
    ] = "module",
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
    config_object = parse_json_object(config, "config")
    capability = client_of(ctx).add_capability(
        template_id, kind, name, enabled=enabled, config=config_object
    )
    render(
        output,
        capability,
        lambda: echo(f"Added capability: {kind}:{name} to template {template_id}"),
    )


@app.command("list-capabilities")
def list_capabilities(
    ctx: typer.Context, template_id: TemplateId, output: OutputOption = OutputFormat.text
) -> None:
    """List a template's capabilities (the last column is the ID `remove-capability` takes)."""
    capabilities = client_of(ctx).list_capabilities(template_id)

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
        ),
    ],
    output: OutputOption = OutputFormat.text,
) -> None:
    """Remove a capability from a template."""
    answer = client_of(ctx).remove_capability(template_id, capability_id)
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
    output: OutputOption = OutputFormat.text,
) -> None:
    """Add a startup file, run in every new session before it becomes ready."""
    if mode != "eval":
        raise CliError(f'unsupported startup mode "{mode}": only eval is currently supported')
    startup = client_of(ctx).add_startup_file(template_id, path, order_index=order, mode=mode)
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
    files = client_of(ctx).list_startup_files(template_id)

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
            help="Startup file ID (see list-startup).", metavar="STARTUP_ID", show_default=False
        ),
    ],
    output: OutputOption = OutputFormat.text,
) -> None:
    """Remove a startup file from a template."""
    answer = client_of(ctx).remove_startup_file(template_id, startup_id)
    render(
        output,
        answer,
        lambda: echo(f"Removed startup file: {startup_id} from template {template_id}"),
    )
