//! The workspace RPCs behind the MCP `fs_*` tools: open the caller's workspace (which fails while
//! the fleet has it disabled), call the domain, convert.

use codex_central_proto::memory::v1::*;
use codex_central_proto::{CallContext, ms_to_timestamp};
use codex_central_store::Store;
use tonic::{Request, Response, Status};

use crate::domain::workspace::{Entry, Match, SearchQuery, Workspace, WriteMode};

fn entry_proto(e: Entry) -> WorkspaceEntry {
    WorkspaceEntry {
        path: e.path,
        is_dir: e.is_dir,
        size_bytes: e.size_bytes,
        modified_at: Some(ms_to_timestamp(e.modified_at)),
    }
}

fn match_proto(m: Match) -> WorkspaceMatch {
    WorkspaceMatch {
        path: m.path,
        line_number: m.line_number,
        line: m.line,
    }
}

pub(crate) async fn read(
    store: &Store,
    request: Request<ReadWorkspaceFileRequest>,
) -> Result<Response<ReadWorkspaceFileResponse>, Status> {
    let ctx = CallContext::of(&request);
    let ws = Workspace::open(store, ctx.principal()?).await?;
    let (entry, content) = ws.read(&request.get_ref().path).await?;
    Ok(Response::new(ReadWorkspaceFileResponse {
        entry: Some(entry_proto(entry)),
        content,
    }))
}

pub(crate) async fn write(
    store: &Store,
    request: Request<WriteWorkspaceFileRequest>,
) -> Result<Response<WriteWorkspaceFileResponse>, Status> {
    let ctx = CallContext::of(&request);
    let ws = Workspace::open(store, ctx.principal()?).await?;
    let req = request.into_inner();
    let mode = WriteMode {
        create_if_missing: req.create_if_missing,
        overwrite: req.overwrite,
    };
    let (entry, used_bytes) = ws.write(&req.path, req.content, mode).await?;
    Ok(Response::new(WriteWorkspaceFileResponse {
        entry: Some(entry_proto(entry)),
        used_bytes,
    }))
}

pub(crate) async fn list_dir(
    store: &Store,
    request: Request<ListWorkspaceDirRequest>,
) -> Result<Response<ListWorkspaceDirResponse>, Status> {
    let ctx = CallContext::of(&request);
    let ws = Workspace::open(store, ctx.principal()?).await?;
    let req = request.get_ref();
    let entries = ws.list_dir(&req.path, &req.glob).await?;
    Ok(Response::new(ListWorkspaceDirResponse {
        entries: entries.into_iter().map(entry_proto).collect(),
    }))
}

pub(crate) async fn stat(
    store: &Store,
    request: Request<StatWorkspaceFileRequest>,
) -> Result<Response<StatWorkspaceFileResponse>, Status> {
    let ctx = CallContext::of(&request);
    let ws = Workspace::open(store, ctx.principal()?).await?;
    let entry = ws.stat(&request.get_ref().path).await?;
    Ok(Response::new(StatWorkspaceFileResponse {
        exists: entry.is_some(),
        entry: entry.map(entry_proto),
    }))
}

pub(crate) async fn search(
    store: &Store,
    request: Request<SearchWorkspaceFilesRequest>,
) -> Result<Response<SearchWorkspaceFilesResponse>, Status> {
    let ctx = CallContext::of(&request);
    let ws = Workspace::open(store, ctx.principal()?).await?;
    let req = request.into_inner();
    let (matches, truncated) = ws
        .search(&SearchQuery {
            root: req.root,
            pattern: req.pattern,
            file_globs: req.file_globs,
            max_results: req.max_results,
        })
        .await?;
    Ok(Response::new(SearchWorkspaceFilesResponse {
        matches: matches.into_iter().map(match_proto).collect(),
        truncated,
    }))
}
