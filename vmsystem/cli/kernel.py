"""``vm-system kernel``: install the Jupyter kernelspec that runs notebooks in vm-system sessions.

The kernel itself is :mod:`vmsystem.cli.jupyter` (needs ``ipykernel``: the ``jupyter`` extra).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from vmsystem.cli.failures import CliError
from vmsystem.cli.output import OutputFormat, OutputOption, echo, render
from vmsystem.cli.state import state_of
from vmsystem.client import ENV_SERVER_URL

__all__ = ["app", "kernel_spec"]

app = typer.Typer(
    help="The Jupyter kernel: notebooks whose cells run in a vm-system session.",
    no_args_is_help=True,
)

_MISSING = (
    "the Jupyter kernel needs ipykernel and jupyter_client: "
    "pip install 'vm-system[jupyter]' (or pip install ipykernel)"
)


def kernel_spec(
    *,
    display_name: str,
    language: str,
    server_url: str | None,
    template: str | None,
    worktree: str | None,
    python: str = sys.executable,
) -> dict[str, Any]:
    """The ``kernel.json`` of a vm-system kernel (see :mod:`vmsystem.cli.jupyter`)."""
    env: dict[str, str] = {"VMSYSTEM_KERNEL_LANGUAGE": language}
    if server_url:
        env[ENV_SERVER_URL] = server_url
    if template:
        env["VMSYSTEM_KERNEL_TEMPLATE"] = template
    if worktree:
        env["VMSYSTEM_KERNEL_WORKTREE"] = worktree
    return {
        "argv": [python, "-m", "vmsystem.cli.jupyter", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": language,
        "interrupt_mode": "signal",
        "env": env,
        "metadata": {"debugger": False},
    }


@app.command("install")
def install(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Kernel name (a folder name).")] = "",
    display_name: Annotated[
        str, typer.Option("--display-name", help="Name shown by Jupyter front ends.")
    ] = "",
    template: Annotated[
        str,
        typer.Option(
            "--template",
            help="Template (ID or name) of the kernel's sessions; default: one named "
            "`jupyter`, created when missing.",
        ),
    ] = "",
    language: Annotated[
        str, typer.Option("--language", help="javascript or typescript.")
    ] = "javascript",
    worktree: Annotated[
        str,
        typer.Option(
            "--worktree-path",
            help="Worktree of the kernel's sessions, a directory on the daemon's machine "
            "(default: a managed worktree the daemon creates for each session).",
        ),
    ] = "",
    notebook_dir: Annotated[
        bool,
        typer.Option(
            "--notebook-dir",
            help="Use the notebook's folder as the worktree (a daemon on this machine).",
        ),
    ] = False,
    user: Annotated[
        bool, typer.Option("--user", help="Install for the current user (~/.local/share).")
    ] = False,
    sys_prefix: Annotated[
        bool, typer.Option("--sys-prefix", help="Install into this Python environment.")
    ] = False,
    prefix: Annotated[
        str, typer.Option("--prefix", help="Install under this prefix (PREFIX/share/jupyter).")
    ] = "",
    output: OutputOption = OutputFormat.text,
) -> None:
    """Write a kernelspec so that Jupyter (Lab, Notebook, VS Code, nbclient) can use vm-system.

    The kernel talks to the daemon at --server-url (recorded in the spec) with the token in
    VMSYSTEM_AUTH_TOKEN of the Jupyter server's environment.
    """
    language = language.strip().lower()
    if language not in ("javascript", "typescript"):
        raise CliError(f"--language must be javascript or typescript, not {language!r}")
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError as exc:
        raise CliError(_MISSING) from exc
    if worktree and notebook_dir:
        raise CliError("give either --worktree-path or --notebook-dir")
    if sum((user, sys_prefix, bool(prefix))) > 1:
        raise CliError("give at most one of --user, --sys-prefix and --prefix")
    kernel_name = name or ("vm-system" if language == "javascript" else "vm-system-ts")
    shown = display_name or (
        "JavaScript (vm-system)" if language == "javascript" else "TypeScript (vm-system)"
    )
    spec = kernel_spec(
        display_name=shown,
        language=language,
        server_url=state_of(ctx).server_url,
        template=template or None,
        worktree=str(Path(worktree).resolve())
        if worktree
        else ("@notebook" if notebook_dir else None),
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kernel.json").write_text(json.dumps(spec, indent=1))
        destination = KernelSpecManager().install_kernel_spec(
            tmp,
            kernel_name,
            user=user,
            prefix=sys.prefix if sys_prefix else (prefix or None),
        )
    answer = {"name": kernel_name, "path": destination, "spec": spec}
    render(output, answer, lambda: echo(f"Installed kernelspec {kernel_name} in {destination}"))
