"""`python -m vmsystem` runs the CLI."""

from vmsystem.cli.main import main

main()
