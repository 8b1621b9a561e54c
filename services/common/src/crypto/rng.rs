//! The one place that talks to the OS random number generator.

use crate::{Error, Result};

/// Fills `buf` from the OS RNG. A failure here is an OS problem the caller cannot fix, so it maps
/// to `Error::Internal`; the message names the RNG only (the buffer is never shown).
pub(crate) fn fill(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf)
        .map_err(|e| Error::internal(format!("OS random number generator failed: {e}")))
}

/// A fresh array of OS-random bytes.
pub(crate) fn array<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}
