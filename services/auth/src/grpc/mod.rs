//! The `codexcentral.auth.v1` services, one thin adapter per capability: take the call
//! context, authorize, call the domain, convert to proto. The adapters share one state.

use std::sync::Arc;

use codex_central_common::PrincipalKind;
use codex_central_proto::CallContext;
use tonic::Status;

use crate::domain::accounts::Client;
use crate::domain::authenticator::Authenticator;
use crate::domain::byok::Byok;
use crate::domain::canonical::Vault;
use crate::domain::chatgpt_usage::ChatGptUsage;
use crate::domain::oauth::OAuth;
use crate::domain::refresh::Refresher;
use crate::domain::service_tokens::Actor;
use crate::domain::validation::Validator;

mod byok;
mod codex_auth;
mod codex_auth_view;
mod convert;
mod identity;
mod sessions;
mod sign_in_providers;
mod tokens;
mod users;

/// What every auth adapter reaches: the domain objects over one store.
pub struct Shared {
    authenticator: Authenticator,
    byok: Byok,
    oauth: OAuth,
    auth_mode_on: bool,
    vault: Vault,
    refresher: Refresher,
    validator: Validator,
    chatgpt_usage: ChatGptUsage,
    store: codex_central_store::Store,
}

macro_rules! adapters {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Arc<Shared>);

        impl std::ops::Deref for $name {
            type Target = Shared;

            fn deref(&self) -> &Shared {
                &self.0
            }
        }
    )+};
}

adapters! {
    /// `IdentityService`: who is calling.
    IdentityGrpc;
    /// `UserService`: setup, users, passwords, registration.
    UserGrpc;
    /// `SessionService`: password sign-in and sessions.
    SessionGrpc;
    /// `TokenService`: personal and service tokens.
    TokenGrpc;
    /// `SignInProviderService`: OAuth/OIDC providers, login and linking.
    SignInProviderGrpc;
    /// `ByokService`: people's upstream keys.
    ByokGrpc;
    /// `CodexAuthService`: the canonical Codex auth.json vault.
    CodexAuthGrpc;
}

/// The auth services of one process, over one shared state.
#[derive(Clone)]
pub struct AuthServices {
    pub identity: IdentityGrpc,
    pub users: UserGrpc,
    pub sessions: SessionGrpc,
    pub tokens: TokenGrpc,
    pub sign_in_providers: SignInProviderGrpc,
    pub byok: ByokGrpc,
    pub codex_auth: CodexAuthGrpc,
}

impl AuthServices {
    // One argument per domain object the adapters share; a builder would only restate them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        authenticator: Authenticator,
        auth_mode_on: bool,
        vault: Vault,
        refresher: Refresher,
        validator: Validator,
        chatgpt_usage: ChatGptUsage,
        store: codex_central_store::Store,
        oauth: OAuth,
    ) -> Self {
        let shared = Arc::new(Shared {
            byok: Byok::new(store.clone(), vault.keyring()),
            oauth,
            authenticator,
            auth_mode_on,
            vault,
            refresher,
            validator,
            chatgpt_usage,
            store,
        });
        AuthServices {
            identity: IdentityGrpc(shared.clone()),
            users: UserGrpc(shared.clone()),
            sessions: SessionGrpc(shared.clone()),
            tokens: TokenGrpc(shared.clone()),
            sign_in_providers: SignInProviderGrpc(shared.clone()),
            byok: ByokGrpc(shared.clone()),
            codex_auth: CodexAuthGrpc(shared),
        }
    }
}

/// The caller as the audited actor of an admin-only change.
fn admin(ctx: &CallContext) -> Result<Actor, Status> {
    Ok(Actor {
        principal: ctx.require_admin()?.clone(),
        client_ip: ctx.client_ip_text(),
    })
}

/// The signed-in person behind a call. In local mode (auth mode off) there is no person.
fn person(ctx: &CallContext) -> Result<Actor, Status> {
    let p = ctx.principal()?;
    if p.kind != PrincipalKind::User {
        return Err(Status::from(crate::Error::failed_precondition(
            match p.kind {
                PrincipalKind::LocalAdmin => {
                    "the server runs in local mode (auth mode off): there are no personal accounts"
                }
                _ => "only a signed-in user has personal tokens and keys",
            },
        )));
    }
    Ok(Actor {
        principal: p.clone(),
        client_ip: ctx.client_ip_text(),
    })
}

/// The caller as the audited actor of a change to user `id`: an admin, or that user.
fn admin_or_self(ctx: &CallContext, id: &str) -> Result<Actor, Status> {
    let p = ctx.principal()?;
    if p.kind == PrincipalKind::User && p.id == id.trim() {
        return Ok(Actor {
            principal: p.clone(),
            client_ip: ctx.client_ip_text(),
        });
    }
    admin(ctx)
}

/// Whose data to read: the caller, or (admins only) the named user.
fn subject(ctx: &CallContext, user_id: &str) -> Result<String, Status> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Ok(person(ctx)?.principal.id);
    }
    let p = ctx.principal()?;
    if p.kind == PrincipalKind::User && p.id == user_id {
        return Ok(user_id.into());
    }
    ctx.require_admin_read()?;
    Ok(user_id.into())
}

/// Where a sign-in or account change comes from, for sessions and the audit log.
fn client(ctx: &CallContext, user_agent: &str) -> Client {
    Client {
        ip: ctx.client_ip_text(),
        user_agent: user_agent.to_string(),
    }
}
