//! Where the master keys come from: env, or `<data_dir>/master.key` (created on first start).
//!
//! File format: one standard-base64 key per line; the first key is current, later ones are
//! previous keys kept for reading old values. Blank lines and `#` comments are ignored.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::key::MasterKey;
use super::keyring::Keyring;
use super::rng;
use crate::{Error, Result};

/// Env var holding the current master key (standard base64 of 32 bytes).
pub const ENV_MASTER_KEY: &str = "CODEX_CENTRAL_MASTER_KEY";
/// Env var holding previous master keys, comma-separated, for reading values not yet rotated.
pub const ENV_MASTER_KEY_PREVIOUS: &str = "CODEX_CENTRAL_MASTER_KEY_PREVIOUS";
/// Name of the key file inside the data dir.
pub const MASTER_KEY_FILE_NAME: &str = "master.key";

/// Owner read/write only. Anything wider exposes every secret at rest to other local users.
const KEY_FILE_MODE: u32 = 0o600;

const FILE_HEADER: &str = "\
# codex-central master keys. Keep this file secret (mode 0600) and backed up:
# without it, encrypted secrets in the database cannot be read.
# First key: current (encrypts). Following keys: previous (decrypt only, until `keys rotate`).
";

/// Where [`load_keyring`] found the keys; the caller logs it (the `Created` case with a warning
/// that names the file, per SPEC §13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
    Created(PathBuf),
}

/// Loads the keyring: env first (`env_current`, plus the comma-separated `env_previous`), else
/// `<data_dir>/master.key`, else a new key written to that file with mode 0600.
///
/// A blank `env_current` is an error rather than "unset", so a mis-templated deployment does not
/// silently create a fresh file key that cannot read the existing data.
pub fn load_keyring(
    data_dir: &Path,
    env_current: Option<&str>,
    env_previous: Option<&str>,
) -> Result<(Keyring, KeySource)> {
    if let Some(current) = env_current {
        let current = MasterKey::from_base64(current).map_err(|e| context(ENV_MASTER_KEY, e))?;
        let previous = parse_env_previous(env_previous.unwrap_or(""))?;
        return Ok((Keyring::new(current, previous), KeySource::Env));
    }

    let path = data_dir.join(MASTER_KEY_FILE_NAME);
    match read_keyring_file(&path) {
        Ok(keyring) => Ok((keyring, KeySource::File(path))),
        Err(ReadError::Missing) => match create_key_file(data_dir, &path) {
            Ok(keyring) => Ok((keyring, KeySource::Created(path))),
            // Another process created it between our read and our create: use theirs.
            Err(ReadError::Missing) => read_keyring_file(&path)
                .map(|k| (k, KeySource::File(path.clone())))
                .map_err(ReadError::into_error),
            Err(ReadError::Other(e)) => Err(e),
        },
        Err(ReadError::Other(e)) => Err(e),
    }
}

/// Reads a key file at an explicit path (`master_key_file`), which must exist: only the default
/// file in the data dir is ever created automatically.
pub fn load_keyring_file(path: &Path) -> Result<Keyring> {
    read_keyring_file(path).map_err(|e| match e {
        ReadError::Missing => {
            Error::master_key(format!("master key file {} does not exist", path.display()))
        }
        ReadError::Other(e) => e,
    })
}

/// Writes the keyring to `path` atomically: a 0600 temp file in the same directory, fsync,
/// rename over `path`, fsync the directory. A crash leaves either the old or the new file.
pub fn write_keyring_file(path: &Path, keyring: &Keyring) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| MASTER_KEY_FILE_NAME.to_string());
    let suffix: [u8; 6] = rng::array()?;
    let tmp = dir.join(format!(".{file_name}.tmp-{}", hex::encode(suffix)));

    let result = (|| {
        let mut file = create_private(&tmp)
            .map_err(|e| io_error("cannot create temporary key file", &tmp, &e))?;
        file.write_all(render(keyring).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error("cannot write temporary key file", &tmp, &e))?;
        fs::rename(&tmp, path).map_err(|e| io_error("cannot replace key file", path, &e))?;
        sync_dir(dir);
        Ok(())
    })();
    if result.is_err() {
        // Best effort: the temp file holds key material and must not linger.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Key file text: header, then current and previous keys one per line.
fn render(keyring: &Keyring) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::from(FILE_HEADER));
    for key in std::iter::once(keyring.current()).chain(keyring.previous()) {
        out.push_str(key.to_base64().expose());
        out.push('\n');
    }
    out
}

fn parse_env_previous(list: &str) -> Result<Vec<MasterKey>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| {
            MasterKey::from_base64(s)
                .map_err(|e| context(&format!("{ENV_MASTER_KEY_PREVIOUS} entry {}", i + 1), e))
        })
        .collect()
}

enum ReadError {
    Missing,
    Other(Error),
}

impl ReadError {
    fn into_error(self) -> Error {
        match self {
            // Only reachable if the file vanished right after another process created it.
            ReadError::Missing => Error::master_key("master key file disappeared during start-up"),
            ReadError::Other(e) => e,
        }
    }
}

impl From<Error> for ReadError {
    fn from(e: Error) -> Self {
        ReadError::Other(e)
    }
}

fn read_keyring_file(path: &Path) -> Result<Keyring, ReadError> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(ReadError::Missing),
        Err(e) => return Err(io_error("cannot open master key file", path, &e).into()),
    };
    let meta = file
        .metadata()
        .map_err(|e| io_error("cannot stat master key file", path, &e))?;
    if !meta.is_file() {
        return Err(Error::master_key(format!(
            "master key file {} is not a regular file",
            path.display()
        ))
        .into());
    }
    check_permissions(path, &meta)?;

    let mut text = Zeroizing::new(String::new());
    file.read_to_string(&mut text)
        .map_err(|e| io_error("cannot read master key file", path, &e))?;

    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = MasterKey::from_base64(line)
            .map_err(|e| context(&format!("{} line {}", path.display(), n + 1), e))?;
        keys.push(key);
    }
    let mut keys = keys.into_iter();
    let Some(current) = keys.next() else {
        return Err(Error::master_key(format!(
            "master key file {} contains no key; restore it from backup, or delete it to \
             generate a new one (existing encrypted data will then be unreadable)",
            path.display()
        ))
        .into());
    };
    Ok(Keyring::new(current, keys.collect()))
}

#[cfg(unix)]
fn check_permissions(path: &Path, meta: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & !KEY_FILE_MODE != 0 {
        return Err(Error::master_key(format!(
            "master key file {} has permissions {mode:04o}, wider than 0600; \
             run `chmod 600 {}` and restart",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path, _meta: &fs::Metadata) -> Result<()> {
    // No POSIX mode bits to check; protecting the file is up to the platform's ACLs.
    Ok(())
}

/// Writes a new single-key file. `Missing` means the file appeared meanwhile (lost a race).
fn create_key_file(data_dir: &Path, path: &Path) -> Result<Keyring, ReadError> {
    create_data_dir(data_dir)?;
    let keyring = Keyring::new(MasterKey::generate()?, Vec::new());
    let mut file = match create_private(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(ReadError::Missing),
        Err(e) => return Err(io_error("cannot create master key file", path, &e).into()),
    };
    if let Err(e) = file
        .write_all(render(&keyring).as_bytes())
        .and_then(|()| file.sync_all())
    {
        // A half-written key file would fail every later start; remove it so the next start
        // tries again. Nothing was encrypted under this key yet.
        let _ = fs::remove_file(path);
        return Err(io_error("cannot write master key file", path, &e).into());
    }
    sync_dir(data_dir);
    Ok(keyring)
}

/// `create_new` with mode 0600 from the start, so the key is never readable by others, not even
/// briefly (a chmod after creation would leave a window).
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(KEY_FILE_MODE);
    }
    opts.open(path)
}

fn create_data_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        // The data dir holds the key and the database: owner only when we create it.
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| io_error("cannot create data directory", dir, &e))
}

/// Makes a rename or creation durable. Best effort: some filesystems refuse to fsync a directory,
/// and the data itself is already synced.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

fn io_error(what: &str, path: &Path, err: &std::io::Error) -> Error {
    Error::master_key(format!("{what} {}: {err}", path.display()))
}

/// Prefixes where a bad key came from; the inner message already avoids the key itself.
fn context(source: &str, err: Error) -> Error {
    if err.reason() == "master_key" {
        Error::master_key(format!("{source}: {}", err.message()))
    } else {
        err
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_file_0600_and_rereads_same_key() {
        let tmp = tempfile::tempdir().unwrap();
        let data_dir = tmp.path().join("nested/data");
        let (kr, src) = load_keyring(&data_dir, None, None).unwrap();
        let path = data_dir.join("master.key");
        assert_eq!(src, KeySource::Created(path.clone()));
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);

        let (again, src) = load_keyring(&data_dir, None, None).unwrap();
        assert_eq!(src, KeySource::File(path.clone()));
        assert_eq!(again.current_key_id(), kr.current_key_id());
        assert!(again.previous().is_empty());

        let stored = kr.encrypt_str("x").unwrap();
        assert_eq!(again.decrypt_string(&stored).unwrap(), "x");
    }

    #[cfg(unix)]
    #[test]
    fn wide_permissions_are_rejected() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, _) = load_keyring(tmp.path(), None, None).unwrap();
        let path = tmp.path().join("master.key");
        for wide in [0o644, 0o640, 0o604, 0o700, 0o666] {
            fs::set_permissions(&path, fs::Permissions::from_mode(wide)).unwrap();
            let err = load_keyring(tmp.path(), None, None).unwrap_err();
            assert!(err.reason() == "master_key");
            let msg = err.to_string();
            assert!(msg.contains("chmod 600"), "{msg}");
            assert!(msg.contains(&path.display().to_string()), "{msg}");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(load_keyring(tmp.path(), None, None).is_ok());
    }

    #[test]
    fn env_takes_precedence_over_file() {
        let tmp = tempfile::tempdir().unwrap();
        let (file_kr, _) = load_keyring(tmp.path(), None, None).unwrap();

        let env_key = MasterKey::generate().unwrap();
        let prev1 = MasterKey::generate().unwrap();
        let prev2 = MasterKey::generate().unwrap();
        let prev_list = format!(
            " {}, ,{} ,",
            prev1.to_base64().expose(),
            prev2.to_base64().expose()
        );
        let (kr, src) = load_keyring(
            tmp.path(),
            Some(env_key.to_base64().expose()),
            Some(&prev_list),
        )
        .unwrap();
        assert_eq!(src, KeySource::Env);
        assert_eq!(kr.current_key_id(), env_key.key_id());
        assert_ne!(kr.current_key_id(), file_kr.current_key_id());
        assert_eq!(
            kr.key_ids(),
            vec![env_key.key_id(), prev1.key_id(), prev2.key_id()]
        );

        // Empty previous list.
        let (kr, _) =
            load_keyring(tmp.path(), Some(env_key.to_base64().expose()), Some("")).unwrap();
        assert!(kr.previous().is_empty());
    }

    #[test]
    fn env_does_not_create_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        let data_dir = tmp.path().join("data");
        let key = MasterKey::generate().unwrap();
        let (_, src) = load_keyring(&data_dir, Some(key.to_base64().expose()), None).unwrap();
        assert_eq!(src, KeySource::Env);
        assert!(!data_dir.exists());
    }

    #[test]
    fn bad_env_keys_name_the_variable_not_the_value() {
        let tmp = tempfile::tempdir().unwrap();
        let err = load_keyring(tmp.path(), Some("c2hvcnQ="), None).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(ENV_MASTER_KEY) && msg.contains("5 bytes"),
            "{msg}"
        );
        assert!(!msg.contains("c2hvcnQ"));

        let err = load_keyring(tmp.path(), Some("  "), None).unwrap_err();
        assert!(err.to_string().contains("empty"));

        let good = MasterKey::generate().unwrap();
        let list = format!("{},bogus!", good.to_base64().expose());
        let err =
            load_keyring(tmp.path(), Some(good.to_base64().expose()), Some(&list)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("{ENV_MASTER_KEY_PREVIOUS} entry 2")),
            "{msg}"
        );
        assert!(!tmp.path().join("master.key").exists());
    }

    #[test]
    fn file_with_comments_and_previous_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("master.key");
        let cur = MasterKey::generate().unwrap();
        let prev = MasterKey::generate().unwrap();
        let text = format!(
            "# comment\n\n  {}  \n# old key\n{}\n\n",
            cur.to_base64().expose(),
            prev.to_base64().expose()
        );
        create_private(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let (kr, src) = load_keyring(tmp.path(), None, None).unwrap();
        assert_eq!(src, KeySource::File(path.clone()));
        assert_eq!(kr.key_ids(), vec![cur.key_id(), prev.key_id()]);
    }

    #[test]
    fn bad_file_contents_are_reported_with_line_numbers() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("master.key");
        create_private(&path)
            .unwrap()
            .write_all(b"# only a comment\n\n")
            .unwrap();
        let err = load_keyring(tmp.path(), None, None).unwrap_err();
        assert!(err.to_string().contains("contains no key"), "{err}");

        fs::remove_file(&path).unwrap();
        create_private(&path)
            .unwrap()
            .write_all(b"# header\nnot-a-key-at-all\n")
            .unwrap();
        let err = load_keyring(tmp.path(), None, None).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 2"), "{msg}");
        assert!(!msg.contains("not-a-key"), "{msg}");
    }

    #[test]
    fn write_keyring_file_is_atomic_and_private() {
        let tmp = tempfile::tempdir().unwrap();
        let (kr, _) = load_keyring(tmp.path(), None, None).unwrap();
        let path = tmp.path().join("master.key");
        let rotated = kr.rotated(MasterKey::generate().unwrap());
        write_keyring_file(&path, &rotated).unwrap();
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);

        let (reread, src) = load_keyring(tmp.path(), None, None).unwrap();
        assert_eq!(src, KeySource::File(path.clone()));
        assert_eq!(reread.key_ids(), rotated.key_ids());
        assert_eq!(reread.previous()[0].key_id(), kr.current_key_id());

        // No temp files left behind.
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("master.key")]);
    }

    #[test]
    fn write_to_missing_dir_fails_cleanly() {
        let tmp = tempfile::tempdir().unwrap();
        let kr = Keyring::new(MasterKey::generate().unwrap(), vec![]);
        let err = write_keyring_file(&tmp.path().join("no/such/dir/master.key"), &kr).unwrap_err();
        assert!(err.reason() == "master_key");
    }
}
