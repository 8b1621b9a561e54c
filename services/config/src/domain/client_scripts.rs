//! The scripts of a client config bundle: they install the bundle's `auth.json` and
//! `config.toml` into the user's Codex home, backing up what is there as
//! `<file>.bak.<timestamp>`, writing the new files readable by the user only, and saying what
//! they did. They read the two files from their own folder, so the four files travel together.

/// For macOS and Linux (`bash apply.sh`).
pub fn apply_sh(base_url: &str) -> String {
    format!(
        r#"#!/usr/bin/env bash
# codex-central client config: installs auth.json and config.toml (next to this script) into
# your Codex home (CODEX_HOME, default ~/.codex). Existing files are kept as *.bak.<timestamp>.
set -euo pipefail
here="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
dest="${{CODEX_HOME:-$HOME/.codex}}"
stamp="$(date +%Y%m%d%H%M%S)"
for f in auth.json config.toml; do
    if [ ! -f "$here/$f" ]; then
        echo "apply.sh: $here/$f is missing; keep the bundle's four files together" >&2
        exit 1
    fi
done
umask 077
mkdir -p "$dest"
for f in auth.json config.toml; do
    if [ -e "$dest/$f" ]; then
        cp -p "$dest/$f" "$dest/$f.bak.$stamp"
        echo "backed up $dest/$f -> $dest/$f.bak.$stamp"
    fi
    tmp="$dest/.$f.tmp.$$"
    cp "$here/$f" "$tmp"
    chmod 600 "$tmp"
    mv -f "$tmp" "$dest/$f"
    echo "wrote $dest/$f (mode 600)"
done
echo "Codex now sends its requests to {base_url}; restart Codex to use it."
"#
    )
}

/// For Windows (`powershell -ExecutionPolicy Bypass -File apply.ps1`; pwsh elsewhere).
pub fn apply_ps1(base_url: &str) -> String {
    format!(
        r#"# codex-central client config: installs auth.json and config.toml (next to this script) into
# your Codex home (CODEX_HOME, default ~\.codex). Existing files are kept as *.bak.<timestamp>.
$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$dest = if ($env:CODEX_HOME) {{ $env:CODEX_HOME }} else {{ Join-Path $HOME '.codex' }}
$stamp = Get-Date -Format 'yyyyMMddHHmmss'
$files = @('auth.json', 'config.toml')
foreach ($f in $files) {{
    if (-not (Test-Path -LiteralPath (Join-Path $here $f))) {{
        throw "apply.ps1: $(Join-Path $here $f) is missing; keep the bundle's four files together"
    }}
}}
New-Item -ItemType Directory -Force -Path $dest | Out-Null
foreach ($f in $files) {{
    $target = Join-Path $dest $f
    if (Test-Path -LiteralPath $target) {{
        Copy-Item -LiteralPath $target -Destination "$target.bak.$stamp"
        Write-Host "backed up $target -> $target.bak.$stamp"
    }}
    Copy-Item -LiteralPath (Join-Path $here $f) -Destination $target -Force
    if ($IsWindows -or $env:OS -eq 'Windows_NT') {{
        # The equivalent of mode 600: only the current user may read or write it.
        icacls $target /inheritance:r /grant:r "$($env:USERNAME):(R,W)" | Out-Null
    }} else {{
        chmod 600 $target
    }}
    Write-Host "wrote $target (current user only)"
}}
Write-Host "Codex now sends its requests to {base_url}; restart Codex to use it."
"#
    )
}
