//! The sandboxed MCP file workspace (SPEC §8, ADR 0008): every host and person has one, kept in
//! the database. A path is a validated key, never a filesystem path: it is relative,
//! `/`-separated, has no `.` or `..` segment, no backslash, no drive, no control character, and
//! nothing ever resolves it against a real directory, so there is nothing to escape into and no
//! symlink to follow. Directories are implicit (a file `a/b/c.txt` makes `a` and `a/b` exist).
//! The whole surface is off until an admin enables it in the memory settings.

use codex_central_common::error::Kind;
use codex_central_common::{Principal, PrincipalKind};
use codex_central_store::entities::workspace_files::Model;
use codex_central_store::workspace_files::{
    self as files, NewFile, Put, ScanLimits, path_of, size_of,
};
use codex_central_store::{Store, now_ms};
use sha2::{Digest, Sha256};

use super::memories::Owner;
use super::settings::{self, MemorySettings};
use crate::{Error, Result};

pub const MAX_PATH_BYTES: usize = 1024;
pub const MAX_SEGMENT_BYTES: usize = 255;
/// Files one owner may keep: bounds every listing and search, whatever the byte quota.
pub const MAX_FILES: u64 = 10_000;
pub const DEFAULT_MAX_RESULTS: u32 = 100;
pub const MAX_RESULTS: u32 = 1000;
/// What one search reads at most, all files together.
pub const SEARCH_MAX_BYTES: u64 = 32 * 1024 * 1024;
const MAX_PATTERN_BYTES: usize = 1000;
const MAX_GLOBS: usize = 32;
/// A matching line longer than this is cut (in characters).
const MAX_LINE_CHARS: usize = 1000;

pub const DISABLED: &str =
    "the MCP file workspace is disabled; an admin can enable it in the memory settings";

/// A file, or an implicit directory (its size is the sum of the files below it, its time the
/// latest change below it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub is_dir: bool,
    pub size_bytes: u64,
    pub modified_at: i64,
}

/// One line containing the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub path: String,
    /// 1-based.
    pub line_number: u32,
    pub line: String,
}

/// What a write may do: create a missing file, replace an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteMode {
    pub create_if_missing: bool,
    pub overwrite: bool,
}

/// A search: `pattern` as plain text, below `root`, in files whose name (or, for a glob with
/// a `/`, path below `root`) matches one of `file_globs` (all files when empty).
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub root: String,
    pub pattern: String,
    pub file_globs: Vec<String>,
    /// 0: [`DEFAULT_MAX_RESULTS`]; at most [`MAX_RESULTS`].
    pub max_results: u32,
}

/// Checks and returns a file path: relative, `/`-separated, no empty, `.` or `..` segment, no
/// backslash, drive, NUL or other control character, at most 1024 bytes and 255 per segment.
pub fn check_path(field: &str, path: &str) -> Result<String> {
    if path.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    check_relative(field, path)?;
    Ok(path.to_string())
}

/// Checks a directory path: as [`check_path`], but empty is the workspace root and one
/// trailing `/` is allowed. Returns it without the trailing `/`.
pub fn check_dir(field: &str, path: &str) -> Result<String> {
    if path.is_empty() {
        return Ok(String::new());
    }
    let trimmed = match path.strip_suffix('/') {
        Some(rest) if !rest.is_empty() => rest,
        _ => path,
    };
    check_relative(field, trimmed)?;
    Ok(trimmed.to_string())
}

fn check_relative(field: &str, path: &str) -> Result<()> {
    let refuse = |why: &str| Err(Error::invalid(field, why));
    if path.chars().any(char::is_control) {
        return refuse("must not contain NUL or other control characters");
    }
    if path.len() > MAX_PATH_BYTES {
        return refuse("must be at most 1024 bytes");
    }
    if path.starts_with('/') {
        return refuse("must be relative to the workspace (no leading '/')");
    }
    if path.contains('\\') {
        return refuse("must separate directories with '/', not '\\'");
    }
    let bytes = path.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return refuse("must be relative to the workspace (no drive such as 'C:')");
    }
    for segment in path.split('/') {
        match segment {
            "" => return refuse("must not contain empty segments ('//', or a trailing '/')"),
            "." | ".." => return refuse("must not contain '.' or '..' segments"),
            s if s.len() > MAX_SEGMENT_BYTES => {
                return refuse("must not have a segment longer than 255 bytes");
            }
            _ => {}
        }
    }
    Ok(())
}

/// `*` matches any run of characters, `?` one character; everything else itself.
pub fn glob_matches(glob: &str, text: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut gi, mut ti) = (0, 0);
    // Where the last `*` was, and how much of the text it has taken so far.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match g.get(gi) {
            Some('*') => {
                star = Some((gi, ti));
                gi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                gi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sg, st)) => {
                    gi = sg + 1;
                    ti = st + 1;
                    star = Some((sg, st + 1));
                }
                None => return false,
            },
        }
    }
    g[gi..].iter().all(|&c| c == '*')
}

fn file_entry(m: &Model) -> Result<Entry> {
    Ok(Entry {
        path: path_of(m)?.to_string(),
        is_dir: false,
        size_bytes: size_of(m),
        modified_at: m.updated_at,
    })
}

/// The directory `dir` summed from the files below it (`None` when there are none).
fn dir_entry(dir: &str, below: &[Model]) -> Option<Entry> {
    if below.is_empty() {
        return None;
    }
    Some(Entry {
        path: dir.to_string(),
        is_dir: true,
        size_bytes: below.iter().map(size_of).sum(),
        modified_at: below.iter().map(|m| m.updated_at).max().unwrap_or(0),
    })
}

/// The caller's workspace, once the fleet has it enabled.
pub struct Workspace<'a> {
    store: &'a Store,
    owner: Owner,
    limits: MemorySettings,
}

impl<'a> Workspace<'a> {
    /// Fails with FAILED_PRECONDITION while the workspace is disabled; only hosts and people
    /// have one.
    pub async fn open(store: &'a Store, p: &Principal) -> Result<Workspace<'a>> {
        let limits = settings::get(store).await?;
        if !limits.workspace_enabled {
            return Err(Error::failed_precondition(DISABLED).with_reason("workspace_disabled"));
        }
        let owner = match p.kind {
            PrincipalKind::Host => Owner {
                kind: "host",
                id: p.id.clone(),
            },
            PrincipalKind::User => Owner {
                kind: "user",
                id: p.id.clone(),
            },
            PrincipalKind::ServiceToken | PrincipalKind::LocalAdmin => {
                return Err(Error::permission_denied(
                    "only hosts and signed-in people have a file workspace",
                ));
            }
        };
        Ok(Workspace {
            store,
            owner,
            limits,
        })
    }

    /// The files below `dir`, all of them (at most [`MAX_FILES`] exist).
    async fn below(&self, dir: &str) -> Result<Vec<Model>> {
        self.first_below(dir, MAX_FILES).await
    }

    async fn first_below(&self, dir: &str, limit: u64) -> Result<Vec<Model>> {
        Ok(files::list_under(self.store.db(), self.owner.kind, &self.owner.id, dir, limit).await?)
    }

    /// Whether `dir` is a directory (has files below it).
    async fn is_dir(&self, dir: &str) -> Result<bool> {
        Ok(!self.first_below(dir, 1).await?.is_empty())
    }

    /// A file's entry and content.
    pub async fn read(&self, path: &str) -> Result<(Entry, Vec<u8>)> {
        let path = check_path("path", path)?;
        match files::read(self.store, self.owner.kind, &self.owner.id, &path).await? {
            Some((m, content)) => Ok((file_entry(&m)?, content)),
            None if self.is_dir(&path).await? => Err(Error::failed_precondition(format!(
                "{path} is a directory; list it with fs_list_dir"
            ))),
            None => Err(Error::not_found(format!("no file {path} in the workspace"))),
        }
    }

    /// Writes a file; returns its entry and the workspace's usage after the write.
    pub async fn write(
        &self,
        path: &str,
        content: Vec<u8>,
        mode: WriteMode,
    ) -> Result<(Entry, u64)> {
        let path = check_path("path", path)?;
        let cap = self.limits.workspace_max_file_bytes;
        if content.len() as u64 > cap {
            return Err(Error::invalid(
                "content",
                format!("must be at most {cap} bytes (the workspace's per-file limit)"),
            ));
        }
        let new = NewFile {
            owner_kind: self.owner.kind.into(),
            owner_id: self.owner.id.clone(),
            path: path.clone(),
            content_sha: hex::encode(Sha256::digest(&content)),
            content,
            create_if_missing: mode.create_if_missing,
            overwrite: mode.overwrite,
            quota_bytes: self.limits.workspace_quota_bytes,
            max_files: MAX_FILES,
            now: now_ms(),
        };
        match files::put(self.store, new).await? {
            Put::Written {
                file, used_bytes, ..
            } => Ok((file_entry(&file)?, used_bytes)),
            Put::AlreadyExists => Err(Error::already_exists(format!(
                "{path} exists; set overwrite to replace it"
            ))),
            Put::NotFound => Err(Error::not_found(format!(
                "{path} does not exist; set create_if_missing to create it"
            ))),
            Put::OverQuota {
                used_bytes,
                quota_bytes,
            } => Err(quota_error(
                format!(
                    "the workspace quota is exhausted: {used_bytes} of {quota_bytes} bytes used, \
                     writing {path} would exceed it"
                ),
                used_bytes,
                quota_bytes,
            )),
            Put::TooManyFiles { max_files } => Err(Error(
                codex_central_common::Error::new(
                    Kind::RateLimited,
                    format!("the workspace holds its maximum of {max_files} files"),
                )
                .with_reason("workspace_file_limit"),
            )),
            Put::IsDirectory => Err(Error::failed_precondition(format!(
                "{path} is a directory in the workspace"
            ))),
            Put::BelowFile { file } => Err(Error::failed_precondition(format!(
                "{file} is a file in the workspace, not a directory"
            ))),
        }
    }

    /// The entries directly in `dir` (`""`: the root) whose name matches `glob` (all when
    /// empty), by name.
    pub async fn list_dir(&self, dir: &str, glob: &str) -> Result<Vec<Entry>> {
        let dir = check_dir("path", dir)?;
        if glob.len() > MAX_SEGMENT_BYTES {
            return Err(Error::invalid("glob", "must be at most 255 bytes"));
        }
        let below = self.below(&dir).await?;
        if below.is_empty() && !dir.is_empty() {
            return Err(
                match files::stat(self.store.db(), self.owner.kind, &self.owner.id, &dir).await? {
                    Some(_) => {
                        Error::failed_precondition(format!("{dir} is a file, not a directory"))
                    }
                    None => Error::not_found(format!("no directory {dir} in the workspace")),
                },
            );
        }
        let skip = if dir.is_empty() { 0 } else { dir.len() + 1 };
        // Files come sorted by path, so each child directory's files are consecutive.
        let mut entries: Vec<Entry> = Vec::new();
        let mut group: Vec<Model> = Vec::new();
        let mut group_name = String::new();
        let flush = |name: &str, group: &mut Vec<Model>, entries: &mut Vec<Entry>| {
            let path = if dir.is_empty() {
                name.to_string()
            } else {
                format!("{dir}/{name}")
            };
            entries.extend(dir_entry(&path, group));
            group.clear();
        };
        for m in below {
            let path = path_of(&m)?;
            let rel = path.get(skip..).unwrap_or_default();
            match rel.split_once('/') {
                Some((name, _)) => {
                    if name != group_name {
                        flush(&group_name, &mut group, &mut entries);
                        group_name = name.to_string();
                    }
                    group.push(m);
                }
                None => entries.push(file_entry(&m)?),
            }
        }
        flush(&group_name, &mut group, &mut entries);
        entries.retain(|e| {
            let name = e.path.rsplit('/').next().unwrap_or_default();
            glob.is_empty() || glob_matches(glob, name)
        });
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    /// The file or directory at `path`, `None` when nothing is there.
    pub async fn stat(&self, path: &str) -> Result<Option<Entry>> {
        let path = check_path("path", path)?;
        if let Some(m) =
            files::stat(self.store.db(), self.owner.kind, &self.owner.id, &path).await?
        {
            return Ok(Some(file_entry(&m)?));
        }
        Ok(dir_entry(&path, &self.below(&path).await?))
    }

    /// Lines containing `q.pattern`, file by file in path order; `true` when there were more
    /// than `max_results`, or files left unread by the bounds of one search
    /// ([`SEARCH_MAX_BYTES`]). Files that are not UTF-8 are skipped.
    pub async fn search(&self, q: &SearchQuery) -> Result<(Vec<Match>, bool)> {
        let root = check_dir("root", &q.root)?;
        if q.pattern.is_empty() {
            return Err(Error::invalid("pattern", "is required"));
        }
        if q.pattern.len() > MAX_PATTERN_BYTES {
            return Err(Error::invalid("pattern", "must be at most 1000 bytes"));
        }
        let globs: Vec<&str> = q
            .file_globs
            .iter()
            .map(|g| g.trim())
            .filter(|g| !g.is_empty())
            .collect();
        if globs.len() > MAX_GLOBS {
            return Err(Error::invalid("file_globs", "at most 32 globs"));
        }
        if let Some(i) = q
            .file_globs
            .iter()
            .position(|g| g.len() > MAX_SEGMENT_BYTES)
        {
            return Err(Error::invalid(
                format!("file_globs.{i}"),
                "must be at most 255 bytes",
            ));
        }
        let max = match q.max_results {
            0 => DEFAULT_MAX_RESULTS,
            n => n.min(MAX_RESULTS),
        } as usize;
        let skip = if root.is_empty() { 0 } else { root.len() + 1 };
        let keep = |path: &str| {
            let rel = path.get(skip..).unwrap_or_default();
            let name = rel.rsplit('/').next().unwrap_or_default();
            globs.is_empty()
                || globs.iter().any(|g| {
                    if g.contains('/') {
                        glob_matches(g, rel)
                    } else {
                        glob_matches(g, name)
                    }
                })
        };
        let limits = ScanLimits {
            list_limit: MAX_FILES,
            max_files: MAX_FILES as usize,
            max_bytes: SEARCH_MAX_BYTES,
        };
        let found = files::search_candidates(
            self.store,
            self.owner.kind,
            &self.owner.id,
            &root,
            keep,
            limits,
        )
        .await?;
        let mut matches = Vec::new();
        for (m, content) in &found.files {
            let Ok(text) = std::str::from_utf8(content) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                if !line.contains(q.pattern.as_str()) {
                    continue;
                }
                if matches.len() == max {
                    return Ok((matches, true));
                }
                matches.push(Match {
                    path: path_of(m)?.to_string(),
                    line_number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    line: line.chars().take(MAX_LINE_CHARS).collect(),
                });
            }
        }
        Ok((matches, found.truncated))
    }
}

/// RESOURCE_EXHAUSTED with the numbers, for clients that show them.
fn quota_error(message: String, used_bytes: u64, quota_bytes: u64) -> Error {
    Error(
        codex_central_common::Error::new(Kind::RateLimited, message)
            .with_reason("workspace_quota_exceeded")
            .with_metadata("used_bytes", used_bytes.to_string())
            .with_metadata("quota_bytes", quota_bytes.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_escape_or_confuse_are_refused() {
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "C:\\x",
            "c:x",
            "a\\..\\b",
            "a\u{0}b",
            "./x",
            "a//b",
            "a/",
            ".",
            "..",
            "a/.",
            "line\nbreak",
            "\\\\server\\share",
        ] {
            let err = check_path("path", bad).unwrap_err();
            assert_eq!(err.fields()[0].field, "path", "{bad:?}");
        }
        assert!(check_path("path", "").is_err());
        assert!(check_path("path", &"a".repeat(256)).is_err());
        assert!(check_path("path", &"a/".repeat(600)).is_err());
        for good in [
            "a",
            "a/b/c.txt",
            "notes/.hidden",
            "x..y",
            "...",
            "dir:name",
            "ü/ñ.md",
        ] {
            assert_eq!(check_path("path", good).unwrap(), good);
        }
        assert_eq!(check_dir("root", "").unwrap(), "");
        assert_eq!(check_dir("root", "docs/").unwrap(), "docs");
        assert!(check_dir("root", "/").is_err());
        assert!(check_dir("root", "docs//").is_err());
    }

    #[test]
    fn globs_match_names() {
        assert!(glob_matches("*.rs", "main.rs"));
        assert!(!glob_matches("*.rs", "main.rsx"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "ac"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("*a*b*", "xxaxxbxx"));
        assert!(!glob_matches("*a*b", "xxaxxbxx"));
        assert!(glob_matches("src/*.md", "src/deep/x.md"));
        assert!(glob_matches("exact", "exact"));
        assert!(!glob_matches("exact", "exactly"));
    }
}
