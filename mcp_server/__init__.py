"""Mesa's MCP server: the agent API as MCP tools (stdio with ``manage.py mcp``, streamable HTTP at ``/mcp``)."""
