"""vm-system as an MCP server: the tools, resources and progress reporting, defined once.

This package knows nothing of the core, the HTTP API or the SDK: the tools call a
:class:`~vmsystem.mcp.backend.Backend`. The daemon serves them at ``/mcp`` over the core
(``vmsystem.api.mcp``); ``vm-system mcp`` serves them over stdio through the SDK
(``vmsystem.cli.mcp``). :func:`vmsystem.mcp.server.build_server` builds the server; this
module imports nothing, so that the CLI loads the MCP SDK only when it serves.
"""
