//! `/api/v1/account/codex-config…`: the caller's own Codex client config (seed 000): its
//! current state, an export bundle (JSON with the four files, the zip, or one file), imports
//! (archived, `auth.json` encrypted) and the history. An export can mint a personal token and
//! write it into `auth.json`, so nothing has to be pasted by hand.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use codex_central_proto::auth::v1::CreatePersonalTokenRequest;
use codex_central_proto::config::v1::{
    ClientConfigEntryKind, ClientConfigHistoryEntry, ExportClientConfigRequest,
    GetClientConfigRequest, ImportClientConfigRequest, ListClientConfigHistoryRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::account::token_json;
use crate::plumbing::caller::Caller;
use crate::plumbing::error::{ok, ok_with};
use crate::plumbing::extract::{Json, Q};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

fn kind_text(k: ClientConfigEntryKind) -> &'static str {
    match k {
        ClientConfigEntryKind::Initial => "initial",
        ClientConfigEntryKind::Apply => "apply",
        ClientConfigEntryKind::Restore => "restore",
        ClientConfigEntryKind::Import | ClientConfigEntryKind::Unspecified => "import",
    }
}

fn entry_json(e: &ClientConfigHistoryEntry) -> Value {
    json!({
        "id": e.id,
        "user_id": e.user_id,
        "kind": kind_text(e.kind()),
        "provider_id": e.provider_id,
        "model": e.model,
        "note": e.note,
        "has_auth_json": e.has_auth_json,
        "created_at": rfc3339(e.created_at.as_ref()),
    })
}

/// No cache may keep an answer that can carry a token.
fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /api/v1/account/codex-config`: what an export writes now, and the latest entry.
pub async fn get(State(state): State<GatewayState>, caller: Caller) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_client_config(caller.request(&state, GetClientConfigRequest {}))
        .await?
        .into_inner();
    let s = res.state.unwrap_or_default();
    Ok(ok(json!({
        "provider_id": s.provider_id,
        "model": s.model,
        "base_url": s.base_url,
        "config_toml": s.config_toml,
        "latest_entry": s.latest_entry.as_ref().map(entry_json),
        "auth_mode": if state.auth_mode_on() { "on" } else { "off" },
    })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ExportBody {
    /// Mint a personal token for `auth.json` (auth mode on); else a placeholder.
    mint_token: bool,
    /// The minted token's name; blank: "codex-config <date>".
    token_name: String,
    /// Bundle this history entry again.
    history_entry_id: String,
    provider_id: String,
    model: String,
    /// `json` (the four files), `zip`, or one of `auth.json`, `config.toml`, `apply.sh`,
    /// `apply.ps1` to download that file alone.
    format: String,
}

/// `POST /api/v1/account/codex-config/export`.
pub async fn export(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<ExportBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let format = match b.format.trim() {
        "" => "json",
        f @ ("json" | "zip" | "auth.json" | "config.toml" | "apply.sh" | "apply.ps1") => f,
        _ => {
            return Err(ApiError::invalid_field(
                "format",
                "format is json, zip, auth.json, config.toml, apply.sh or apply.ps1",
            ));
        }
    };
    let mut minted = None;
    let mut api_key = String::new();
    if b.mint_token && state.auth_mode_on() {
        let name = if b.token_name.trim().is_empty() {
            format!(
                "codex-config {}",
                chrono::Utc::now().format("%Y-%m-%d %H:%M")
            )
        } else {
            b.token_name.trim().to_string()
        };
        let res = state
            .clients()
            .tokens()
            .create_personal_token(caller.request(
                &state,
                CreatePersonalTokenRequest {
                    name,
                    expires_in_seconds: None,
                    policy: None,
                },
            ))
            .await?
            .into_inner();
        api_key = res.secret;
        minted = res.token;
    }
    let res = state
        .clients()
        .config()
        .export_client_config(caller.request(
            &state,
            ExportClientConfigRequest {
                history_entry_id: b.history_entry_id,
                api_key,
                zip: format == "zip",
                provider_id: b.provider_id,
                model: b.model,
            },
        ))
        .await?
        .into_inner();
    let bundle = res.bundle.unwrap_or_default();
    let file = |name: &'static str, content_type: &'static str, body: Vec<u8>| {
        let mut r = (StatusCode::OK, body).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        no_store(r)
    };
    Ok(match format {
        "zip" => file("codex-central-config.zip", "application/zip", bundle.zip),
        "auth.json" => file(
            "auth.json",
            "application/json",
            bundle.auth_json.into_bytes(),
        ),
        "config.toml" => file(
            "config.toml",
            "application/toml; charset=utf-8",
            bundle.config_toml.into_bytes(),
        ),
        "apply.sh" => file(
            "apply.sh",
            "text/x-shellscript; charset=utf-8",
            bundle.apply_sh.into_bytes(),
        ),
        "apply.ps1" => file(
            "apply.ps1",
            "text/plain; charset=utf-8",
            bundle.apply_ps1.into_bytes(),
        ),
        _ => no_store(ok_with(
            StatusCode::CREATED,
            json!({
                "files": {
                    "auth.json": bundle.auth_json,
                    "config.toml": bundle.config_toml,
                    "apply.sh": bundle.apply_sh,
                    "apply.ps1": bundle.apply_ps1,
                },
                "entry": res.entry.as_ref().map(entry_json),
                "token": minted.as_ref().map(token_json),
                "placeholder": minted.is_none(),
            }),
        )),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// The file's text, or the JSON object itself.
    #[serde(default)]
    auth_json: Value,
    #[serde(default)]
    config_toml: String,
    #[serde(default)]
    provider_id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/account/codex-config/import`: archived (never written anywhere); the first
/// import is the `initial` entry, kept forever.
pub async fn import(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<ImportBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let auth_json = match b.auth_json {
        Value::Null => String::new(),
        Value::String(s) => s,
        v @ Value::Object(_) => v.to_string(),
        _ => {
            return Err(ApiError::invalid_field(
                "auth_json",
                "auth_json is the file's text or its JSON object",
            ));
        }
    };
    let res = state
        .clients()
        .config()
        .import_client_config(caller.request(
            &state,
            ImportClientConfigRequest {
                auth_json,
                config_toml: b.config_toml,
                provider_id: b.provider_id,
                model: b.model,
                note: b.note,
            },
        ))
        .await?
        .into_inner();
    Ok(ok_with(
        StatusCode::CREATED,
        res.entry.as_ref().map_or(Value::Null, entry_json),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryQuery {
    /// Another user's history (admins).
    user_id: String,
}

/// `GET /api/v1/account/codex-config/history`: newest first; `initial` is never evicted.
pub async fn history(
    State(state): State<GatewayState>,
    caller: Caller,
    Q(q): Q<HistoryQuery>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .list_client_config_history(caller.request(
            &state,
            ListClientConfigHistoryRequest { user_id: q.user_id },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "entries": res.entries.iter().map(entry_json).collect::<Vec<_>>(),
    })))
}
