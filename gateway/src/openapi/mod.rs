//! `GET /api/openapi.json`: an OpenAPI 3.1 description of the JSON APIs (`/api/v1`, `/v1`) and
//! the host API, built from one table so the document and the routes are checked together
//! (a test calls every operation listed here and expects a route behind it).

mod api;
mod peer;

use axum::Json;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

/// Who may call an operation. The gateway enforces it before any body is read (see
/// `access.rs`); the services authorize every call again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No credential (the token in the path or the form is the credential, if any).
    Open,
    /// A host key (`X-API-Key` or `Authorization: Bearer`).
    Host,
    /// Any signed-in principal (person, token).
    Member,
    /// Admins and read-only service tokens.
    AdminRead,
    Admin,
}

impl Access {
    pub fn name(self) -> &'static str {
        match self {
            Access::Open => "open",
            Access::Host => "host",
            Access::Member => "member",
            Access::AdminRead => "admin-read",
            Access::Admin => "admin",
        }
    }
}

/// The access of the operation at a route pattern (`/admin/hosts/{id}`), if it is listed.
pub fn access_of(method: &str, path: &str) -> Option<Access> {
    operations()
        .find(|o| o.path == path && o.method.eq_ignore_ascii_case(method))
        .map(|o| o.access)
}

pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
}

const fn op(method: &'static str, path: &'static str, access: Access, summary: &'static str) -> Op {
    Op {
        method,
        path,
        summary,
        access,
    }
}

/// Every operation: the JSON APIs', then the peer-compatible surface's.
pub fn operations() -> impl Iterator<Item = &'static Op> {
    api::OPERATIONS.iter().chain(peer::OPERATIONS)
}

fn security(access: Access) -> Value {
    match access {
        Access::Open => json!([]),
        Access::Host => json!([{"hostKey": []}, {"bearer": []}]),
        Access::Member | Access::AdminRead | Access::Admin => json!([{"bearer": []}]),
    }
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for o in operations() {
        let params: Vec<Value> = o
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut operation = json!({
            "summary": o.summary,
            "security": security(o.access),
            "responses": {
                "200": {"description": "Success: {\"status\":\"ok\",\"data\":…} (the /v1 routes answer in OpenAI's shapes)."},
                "4XX": {"description": "Error: {\"status\":\"error\",\"message\",\"code\"} with `errors` on 422 (/v1: {\"error\":{\"message\",\"type\",\"code\"}})."}
            },
        });
        if let Some(obj) = operation.as_object_mut() {
            obj.insert("x-access".into(), json!(o.access.name()));
        }
        if !params.is_empty()
            && let Some(obj) = operation.as_object_mut()
        {
            obj.insert("parameters".into(), Value::Array(params));
        }
        if matches!(o.method, "post" | "put" | "patch")
            && let Some(obj) = operation.as_object_mut()
        {
            obj.insert(
                "requestBody".into(),
                json!({"content": {"application/json": {"schema": {"type": "object"}}}}),
            );
        }
        let entry = paths
            .entry(o.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(obj) = entry.as_object_mut() {
            obj.insert(o.method.to_string(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "codex-central", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "A service token (cct_…), personal token (m2c_…) or, on host routes, a host key."},
            "hostKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
        }},
    })
}

pub async fn get() -> impl IntoResponse {
    Json(document())
}
