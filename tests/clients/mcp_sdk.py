"""The official MCP Python SDK against codex-central's /mcp (streamable HTTP): initialize, list
the tools, call each memory tool (and the workspace tools when asked), list and read resources.

Usage: mcp_sdk.py URL TOKEN [--workspace]. Prints one JSON object describing what the client saw;
the Rust test asserts on it. Exits non-zero when the SDK raises.
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def tool_answer(result):
    """A tool result as (is_error, parsed JSON text)."""
    text = result.content[0].text if result.content else ""
    try:
        body = json.loads(text)
    except ValueError:
        body = text
    return {"is_error": result.is_error, "body": body}


async def main(url, token, workspace):
    seen = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                init = await session.initialize()
                seen["protocol_version"] = init.protocol_version
                seen["server"] = init.server_info.name
                tools = await session.list_tools()
                seen["tools"] = sorted(t.name for t in tools.tools)
                seen["schemas_are_objects"] = all(
                    t.input_schema.get("type") == "object" for t in tools.tools
                )
                calls = [
                    ("memory_store", {"id": "sdk:note-1", "content": "The Python SDK remembers the rollout plan", "tags": ["sdk"]}),
                    ("memory_retrieve", {"id": "sdk:note-1"}),
                    ("memory_search", {"query": "rollout plan"}),
                    ("memory_append", {"resource_id": "sdk-res", "text": "appended chunk about the rollback"}),
                    ("memory_query", {"resource_id": "sdk-res", "query": "rollback"}),
                    ("memory_list", {"limit": 10}),
                    ("memory_store", {"tags": ["no content"]}),
                ]
                if workspace:
                    calls += [
                        ("fs_write_file", {"path": "notes/plan.md", "content": "step one\nstep two: rollback\n"}),
                        ("fs_read_file", {"path": "notes/plan.md"}),
                        ("fs_list_dir", {"path": "notes"}),
                        ("fs_stat", {"path": "notes/plan.md"}),
                        ("fs_search_in_files", {"pattern": "rollback"}),
                        ("fs_read_file", {"path": "../../etc/passwd"}),
                    ]
                seen["calls"] = []
                for name, arguments in calls:
                    result = await session.call_tool(name, arguments)
                    seen["calls"].append({"tool": name, **tool_answer(result)})
                templates = await session.list_resource_templates()
                seen["templates"] = [t.uri_template for t in templates.resource_templates]
                resources = await session.list_resources()
                seen["resources"] = [str(r.uri) for r in resources.resources]
                read = await session.read_resource("memory://sdk%3Anote-1")
                seen["read"] = [
                    {"uri": str(c.uri), "mime_type": c.mime_type, "text": c.text} for c in read.contents
                ]
                deleted = await session.call_tool("memory_delete", {"id": "sdk:note-1"})
                seen["deleted"] = tool_answer(deleted)
    print(json.dumps(seen))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], "--workspace" in sys.argv[3:]))
