//! The sandboxed file tools (`fs_*`): each owner's workspace, kept by the memory service in
//! the database (ADR 0008), never the server's own files. The service checks every path and
//! quota; these only translate arguments and answers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use codex_central_proto::memory::v1::{
    ListWorkspaceDirRequest, ReadWorkspaceFileRequest, SearchWorkspaceFilesRequest,
    StatWorkspaceFileRequest, WorkspaceEntry, WriteWorkspaceFileRequest,
};
use rmcp::model::{JsonObject, Tool};
use serde::Deserialize;
use serde_json::{Value, json};

use super::server::Call;
use super::tools::{ToolError, ToolResult, args, tool};
use crate::plumbing::views::rfc3339;

pub fn list() -> Vec<Tool> {
    let path = json!({ "type": "string", "description": "Relative to your workspace, '/'-separated; no '..', no leading '/'." });
    vec![
        tool(
            "fs_read_file",
            "Read a file from your workspace (UTF-8 text, else base64).",
            true,
            json!({ "type": "object", "properties": { "path": path }, "required": ["path"] }),
        ),
        tool(
            "fs_write_file",
            "Write a file in your workspace, within the per-file and workspace size limits.",
            false,
            json!({ "type": "object", "properties": {
                "path": path,
                "content": { "type": "string" },
                "encoding": { "type": "string", "enum": ["utf-8", "base64"], "default": "utf-8" },
                "create_if_missing": { "type": "boolean", "default": true },
                "overwrite": { "type": "boolean", "default": true },
            }, "required": ["path", "content"] }),
        ),
        tool(
            "fs_list_dir",
            "List a directory of your workspace (the root when path is empty), optionally only names matching a glob (* and ?).",
            true,
            json!({ "type": "object", "properties": { "path": path, "glob": { "type": "string" } } }),
        ),
        tool(
            "fs_stat",
            "Whether a path exists in your workspace, and its size and modification time.",
            true,
            json!({ "type": "object", "properties": { "path": path }, "required": ["path"] }),
        ),
        tool(
            "fs_search_in_files",
            "Find lines containing a plain-text pattern in your workspace's files.",
            true,
            json!({ "type": "object", "properties": {
                "root": path,
                "pattern": { "type": "string" },
                "file_glob": { "type": "array", "items": { "type": "string" } },
                "max_results": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 },
            }, "required": ["pattern"] }),
        ),
    ]
}

/// `None` when `name` is not a workspace tool.
pub async fn call(call: &Call<'_>, name: &str, arguments: JsonObject) -> Option<ToolResult> {
    Some(match name {
        "fs_read_file" => read(call, arguments).await,
        "fs_write_file" => write(call, arguments).await,
        "fs_list_dir" => list_dir(call, arguments).await,
        // The peer's name for the same question.
        "fs_stat" | "fs_file_exists" => stat(call, arguments).await,
        "fs_search_in_files" => search(call, arguments).await,
        _ => return None,
    })
}

fn entry_json(e: &WorkspaceEntry) -> Value {
    json!({
        "path": e.path,
        "type": if e.is_dir { "directory" } else { "file" },
        "size_bytes": e.size_bytes,
        "modified_at": rfc3339(e.modified_at.as_ref()),
    })
}

#[derive(Deserialize)]
struct PathArgs {
    #[serde(default)]
    path: String,
}

async fn read(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: PathArgs = args(arguments)?;
    let res = call
        .state
        .clients()
        .memory()
        .read_workspace_file(
            call.who
                .caller
                .request(call.state, ReadWorkspaceFileRequest { path: a.path }),
        )
        .await?
        .into_inner();
    let entry = res.entry.unwrap_or_default();
    let (content, encoding) = match String::from_utf8(res.content) {
        Ok(text) => (text, "utf-8"),
        Err(e) => (STANDARD.encode(e.into_bytes()), "base64"),
    };
    Ok(json!({
        "path": entry.path,
        "size_bytes": entry.size_bytes,
        "modified_at": rfc3339(entry.modified_at.as_ref()),
        "encoding": encoding,
        "content": content,
    }))
}

#[derive(Deserialize)]
struct WriteArgs {
    path: String,
    content: String,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default = "yes")]
    create_if_missing: bool,
    #[serde(default = "yes")]
    overwrite: bool,
}

fn yes() -> bool {
    true
}

async fn write(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: WriteArgs = args(arguments)?;
    let content = match a.encoding.as_deref() {
        None | Some("utf-8") | Some("utf8") => a.content.into_bytes(),
        Some("base64") => STANDARD.decode(a.content.trim()).map_err(|_| {
            ToolError::new("invalid_argument", "arguments.content: not valid base64")
        })?,
        Some(_) => {
            return Err(ToolError::new(
                "invalid_argument",
                "arguments.encoding: must be utf-8 or base64",
            ));
        }
    };
    let res = call
        .state
        .clients()
        .memory()
        .write_workspace_file(call.who.caller.request(
            call.state,
            WriteWorkspaceFileRequest {
                path: a.path,
                content,
                create_if_missing: a.create_if_missing,
                overwrite: a.overwrite,
            },
        ))
        .await?
        .into_inner();
    Ok(json!({
        "status": "written",
        "entry": res.entry.as_ref().map(entry_json),
        "workspace_used_bytes": res.used_bytes,
    }))
}

#[derive(Deserialize)]
struct ListArgs {
    #[serde(default)]
    path: String,
    #[serde(default)]
    glob: String,
}

async fn list_dir(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: ListArgs = args(arguments)?;
    let res = call
        .state
        .clients()
        .memory()
        .list_workspace_dir(call.who.caller.request(
            call.state,
            ListWorkspaceDirRequest {
                path: a.path.clone(),
                glob: a.glob,
            },
        ))
        .await?
        .into_inner();
    let entries: Vec<Value> = res.entries.iter().map(entry_json).collect();
    Ok(json!({ "path": a.path, "count": entries.len(), "entries": entries }))
}

async fn stat(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: PathArgs = args(arguments)?;
    let res = call
        .state
        .clients()
        .memory()
        .stat_workspace_file(call.who.caller.request(
            call.state,
            StatWorkspaceFileRequest {
                path: a.path.clone(),
            },
        ))
        .await?
        .into_inner();
    Ok(json!({
        "path": a.path,
        "exists": res.exists,
        "entry": res.entry.as_ref().map(entry_json),
    }))
}

#[derive(Deserialize)]
struct SearchArgs {
    #[serde(default)]
    root: String,
    pattern: String,
    #[serde(default, alias = "file_globs")]
    file_glob: Vec<String>,
    #[serde(default)]
    max_results: Option<u32>,
}

async fn search(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: SearchArgs = args(arguments)?;
    let res = call
        .state
        .clients()
        .memory()
        .search_workspace_files(call.who.caller.request(
            call.state,
            SearchWorkspaceFilesRequest {
                root: a.root,
                pattern: a.pattern.clone(),
                file_globs: a.file_glob,
                max_results: a.max_results.unwrap_or(100).clamp(1, 1000),
            },
        ))
        .await?
        .into_inner();
    let matches: Vec<Value> = res
        .matches
        .iter()
        .map(|m| json!({ "path": m.path, "line_number": m.line_number, "line": m.line }))
        .collect();
    Ok(json!({
        "pattern": a.pattern,
        "count": matches.len(),
        "matches": matches,
        "truncated": res.truncated,
    }))
}
