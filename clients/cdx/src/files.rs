//! Atomic file writes: a temp file in the same directory, flushed, then renamed over the target,
//! so Codex never reads a half-written file.

use std::io::Write;
use std::path::Path;

use crate::error::CdxError;

/// Mode for files holding secrets (auth.json, config.toml with the MCP bearer, state).
pub const SECRET: u32 = 0o600;

fn io_err(what: &str, path: &Path, e: std::io::Error) -> CdxError {
    CdxError::Other(format!("cannot {what} {}: {e}", path.display()))
}

/// Writes `bytes` to `path` atomically with `mode` (on unix), creating the parent directory.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CdxError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_err("create", dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.cdx-{}.tmp", std::process::id()));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = opts.open(&tmp)?;
        // The mode given to open is filtered by the umask; set it exactly.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err("write", path, e));
    }
    Ok(())
}

/// Removes a file; a file already gone is fine.
pub fn remove(path: &Path) -> Result<(), CdxError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("remove", path, e)),
    }
}

/// The file's text, or None when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<String>, CdxError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("read", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_and_set_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/auth.json");
        write_atomic(&p, b"one", SECRET).unwrap();
        write_atomic(&p, b"two", SECRET).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
        remove(&p).unwrap();
        remove(&p).unwrap();
        assert_eq!(read_optional(&p).unwrap(), None);
    }
}
