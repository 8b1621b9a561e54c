//! `Secret<T>`: keeps secrets out of logs, error messages and `Debug` prints, and wipes them on drop.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroize;

/// What `Debug` and `Display` print instead of the value.
const REDACTED: &str = "<redacted>";

/// A secret value. Reading it takes an explicit [`Secret::expose`], so every use is greppable.
///
/// The bound `T: Zeroize` is on the type (not only on `Drop`) because Rust requires a `Drop` impl
/// to have exactly the type's bounds; `String`, `Vec<u8>` and `[u8; N]` all qualify.
/// There is deliberately no `Serialize`, `PartialEq` or `Hash`: writing a secret out or comparing
/// it must be a visible decision at the call site (see `constant_time_eq`).
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Borrows the secret. Keep the borrow short and never log it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Takes the value out; the caller becomes responsible for wiping it.
    ///
    /// `Default` is needed because `Drop` still runs on `self`: the value is swapped for an empty
    /// one (which is what gets zeroized) instead of using `unsafe` to skip the destructor.
    pub fn into_inner(mut self) -> T
    where
        T: Default,
    {
        std::mem::take(&mut self.0)
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize + Clone> Clone for Secret<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// Lets typed config and request structs hold `Secret<String>` fields directly.
impl<'de, T: Zeroize + Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = Secret::new("hunter2-super-secret".to_string());
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{s:#?}"), "<redacted>");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            password: Secret<String>,
        }
        let h = Holder {
            password: s.clone(),
        };
        assert!(!format!("{h:?}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2-super-secret");
    }

    #[test]
    fn into_inner_and_clone() {
        let s: Secret<String> = String::from("abc").into();
        let c = s.clone();
        assert_eq!(s.into_inner(), "abc");
        assert_eq!(c.expose(), "abc");

        let bytes = Secret::new([7u8; 32]);
        assert_eq!(bytes.into_inner(), [7u8; 32]);
        let v = Secret::new(vec![1u8, 2, 3]);
        assert_eq!(v.expose().len(), 3);
    }

    #[test]
    fn deserializes_transparently() {
        #[derive(Deserialize)]
        struct Cfg {
            key: Secret<String>,
        }
        let cfg: Cfg = serde_json::from_str(r#"{"key":"s3cret"}"#).unwrap();
        assert_eq!(cfg.key.expose(), "s3cret");
    }
}
