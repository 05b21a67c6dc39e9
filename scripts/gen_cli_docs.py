"""Write docs/cli.md from the CLI's help texts (``python scripts/gen_cli_docs.py``).

With ``--check``, write nothing and exit 1 when docs/cli.md is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vmsystem.cli.reference import render_markdown

TARGET = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def main(argv: list[str]) -> int:
    text = render_markdown()
    if "--check" in argv:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
