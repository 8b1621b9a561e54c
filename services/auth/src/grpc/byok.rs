//! `codexcentral.auth.v1.ByokService`: people's own upstream API keys, stored encrypted and
//! resolved for the `/v1` proxy.

use codex_central_common::crypto::Secret;
use codex_central_proto::CallContext;
use codex_central_proto::auth::v1::byok_service_server::ByokService;
use codex_central_proto::auth::v1::*;
use codex_central_proto::ms_to_timestamp;
use tonic::{Request, Response, Status};

use super::{ByokGrpc, person};
use crate::domain::byok::{KeyStatus, Listed};

fn byok_to_proto(k: Listed) -> ByokKey {
    ByokKey {
        provider_id: k.row.provider_id,
        masked_suffix: k.row.suffix,
        status: match k.status {
            KeyStatus::Ok => ByokKeyStatus::Ok,
            KeyStatus::NeedsReentry => ByokKeyStatus::NeedsReentry,
        } as i32,
        created_at: Some(ms_to_timestamp(k.row.created_at)),
        updated_at: Some(ms_to_timestamp(k.row.updated_at)),
    }
}

#[tonic::async_trait]
impl ByokService for ByokGrpc {
    async fn list_byok_keys(
        &self,
        request: Request<ListByokKeysRequest>,
    ) -> Result<Response<ListByokKeysResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let keys = self.byok.list(&me.principal.id).await?;
        Ok(Response::new(ListByokKeysResponse {
            keys: keys.into_iter().map(byok_to_proto).collect(),
        }))
    }

    async fn set_byok_key(
        &self,
        request: Request<SetByokKeyRequest>,
    ) -> Result<Response<SetByokKeyResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let req = request.into_inner();
        let key = Secret::new(req.key);
        let listed = self.byok.set(&me, &req.provider_id, &key).await?;
        Ok(Response::new(SetByokKeyResponse {
            key: Some(byok_to_proto(listed)),
        }))
    }

    async fn delete_byok_key(
        &self,
        request: Request<DeleteByokKeyRequest>,
    ) -> Result<Response<DeleteByokKeyResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        self.byok
            .delete(&me, &request.into_inner().provider_id)
            .await?;
        Ok(Response::new(DeleteByokKeyResponse {}))
    }

    async fn resolve_byok_key(
        &self,
        request: Request<ResolveByokKeyRequest>,
    ) -> Result<Response<ResolveByokKeyResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let req = request.into_inner();
        let found = self.byok.resolve(&req.user_id, &req.provider_id).await?;
        Ok(Response::new(match found {
            Some(key) => ResolveByokKeyResponse {
                found: true,
                key: key.expose().clone(),
                status: ByokKeyStatus::Ok as i32,
            },
            None => ResolveByokKeyResponse {
                found: false,
                key: String::new(),
                status: ByokKeyStatus::Unspecified as i32,
            },
        }))
    }
}
