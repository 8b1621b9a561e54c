//! What the peer's content routes (prompts, `AGENTS.md`) share: the contract's status words.

use codex_central_proto::config::v1::{ContentSyncStatus, ContentWriteStatus};

pub fn sync_status_text(s: ContentSyncStatus) -> &'static str {
    match s {
        ContentSyncStatus::Missing | ContentSyncStatus::Unspecified => "missing",
        ContentSyncStatus::Deleted => "deleted",
        ContentSyncStatus::Unchanged => "unchanged",
        ContentSyncStatus::Updated => "updated",
    }
}

pub fn write_status_text(s: ContentWriteStatus) -> &'static str {
    match s {
        ContentWriteStatus::Created => "created",
        ContentWriteStatus::Updated | ContentWriteStatus::Unspecified => "updated",
        ContentWriteStatus::Unchanged => "unchanged",
        ContentWriteStatus::Proposed => "pending_review",
    }
}
