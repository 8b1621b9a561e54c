//! The sign-in flow: `begin` stores a single-use state (10 minutes, by digest, with the PKCE
//! verifier and nonce sealed) and gives the provider URL; `complete` takes the state once,
//! exchanges the code, learns who the person is (a verified ID token for OIDC, the profile API
//! for GitHub and Gitee) and signs them in, creating the user on first login, or links the
//! identity to the signed-in user who started the flow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_central_common::crypto::{Keyring, token_digest};
use codex_central_store::audit;
use codex_central_store::entities::oauth_providers::Model as ProviderRow;
use codex_central_store::entities::oauth_states::Model as StateRow;
use codex_central_store::entities::user_identities::Model as IdentityRow;
use codex_central_store::entities::users::Model as UserRow;
use codex_central_store::{Store, now_ms, oauth, users};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{IssuerUrl, Nonce};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http::{Http, bounded_body};
use super::providers::{Kind, Providers};
use crate::domain::accounts::{self, Client};
use crate::domain::sessions::Opened;
use crate::{Error, Result};

/// How long a started sign-in may take.
pub const STATE_TTL_MS: i64 = 10 * 60 * 1000;
/// Discovery documents (with their keys) are fetched again after this long.
const DISCOVERY_TTL: Duration = Duration::from_secs(300);
pub const BAD_STATE: &str = "invalid or expired OAuth state";

/// GitHub/Gitee: authorization and token endpoints set.
type PlainClient = oauth2::basic::BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// OIDC from discovery: the token and userinfo endpoints are whatever the issuer declares.
type OidcClient = CoreClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointMaybeSet,
    oauth2::EndpointMaybeSet,
>;

#[derive(Serialize, Deserialize)]
struct Secrets {
    pkce_verifier: String,
    nonce: String,
}

pub struct Begun {
    pub authorization_url: String,
    /// The raw state, for the browser-binding cookie.
    pub state: String,
    pub expires_at: i64,
}

pub struct Completed {
    pub user: UserRow,
    pub created: bool,
    pub linked: bool,
    pub opened: Option<Opened>,
    pub return_to: String,
}

/// Who the provider says the person is.
struct Person {
    subject: String,
    display: String,
    /// Login name for building a username (GitHub login, OIDC preferred_username).
    login: String,
}

#[derive(Clone)]
pub struct OAuth {
    store: Store,
    keyring: Arc<Keyring>,
    providers: Providers,
    http: Http,
    discovery: Arc<Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>>,
}

fn provider_error(provider: &str, what: impl std::fmt::Display) -> Error {
    Error::provider(format!("sign-in with {provider} failed: {what}"))
}

/// Only paths on this server are returned to (no open redirects).
pub fn safe_return_to(raw: &str) -> String {
    let raw = raw.trim();
    if raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\') && raw.len() <= 512 {
        raw.to_string()
    } else {
        "/admin/".into()
    }
}

/// Lowercase `a-z0-9._-` only, for usernames built from provider data.
fn slug(raw: &str) -> String {
    let s: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.trim_matches('-').to_string()
}

impl OAuth {
    pub fn new(store: Store, keyring: Arc<Keyring>, public_url: &str) -> Result<Self> {
        Ok(OAuth {
            providers: Providers::new(store.clone(), keyring.clone(), public_url),
            store,
            keyring,
            http: Http::new().map_err(|e| Error::invalid_argument(e.0))?,
            discovery: Arc::default(),
        })
    }

    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    async fn metadata(&self, row: &ProviderRow) -> Result<CoreProviderMetadata> {
        if let Ok(cache) = self.discovery.lock()
            && let Some((at, meta)) = cache.get(&row.id)
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(meta.clone());
        }
        let issuer = IssuerUrl::new(row.issuer_url.clone())
            .map_err(|e| provider_error(&row.display_name, format!("issuer URL: {e}")))?;
        let meta = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| provider_error(&row.display_name, format!("discovery: {e}")))?;
        if let Ok(mut cache) = self.discovery.lock() {
            cache.insert(row.id.clone(), (Instant::now(), meta.clone()));
        }
        Ok(meta)
    }

    /// Forgets a provider's discovery document (after an admin edits it).
    pub fn forget(&self, id: &str) {
        if let Ok(mut cache) = self.discovery.lock() {
            cache.remove(id);
        }
    }

    fn redirect(&self, row: &ProviderRow) -> Result<RedirectUrl> {
        RedirectUrl::new(self.providers.callback_url(&row.id)).map_err(|e| {
            Error::invalid_argument(format!("public_url gives a bad callback URL: {e}"))
        })
    }

    /// GitHub's and Gitee's endpoints, on their public hosts or on a configured base URL
    /// (GitHub Enterprise, a self-hosted Gitee, a test server).
    fn plain_endpoints(kind: Kind, base: &str) -> (String, String, String) {
        match (kind, base.is_empty()) {
            (Kind::Github, true) => (
                "https://github.com/login/oauth/authorize".into(),
                "https://github.com/login/oauth/access_token".into(),
                "https://api.github.com/user".into(),
            ),
            (Kind::Github, false) => (
                format!("{base}/login/oauth/authorize"),
                format!("{base}/login/oauth/access_token"),
                format!("{base}/api/v3/user"),
            ),
            (_, true) => (
                "https://gitee.com/oauth/authorize".into(),
                "https://gitee.com/oauth/token".into(),
                "https://gitee.com/api/v5/user".into(),
            ),
            (_, false) => (
                format!("{base}/oauth/authorize"),
                format!("{base}/oauth/token"),
                format!("{base}/api/v5/user"),
            ),
        }
    }

    /// The OAuth 2 client and the profile API URL.
    fn plain_client(&self, row: &ProviderRow, kind: Kind) -> Result<(PlainClient, String)> {
        let (auth, token, api) = Self::plain_endpoints(kind, &row.issuer_url);
        let bad = |e: url::ParseError| Error::invalid_argument(format!("provider URL: {e}"));
        let mut client = oauth2::basic::BasicClient::new(ClientId::new(row.client_id.clone()))
            .set_auth_uri(AuthUrl::new(auth).map_err(bad)?)
            .set_token_uri(TokenUrl::new(token).map_err(bad)?)
            .set_redirect_uri(self.redirect(row)?)
            // Gitee only reads the secret from the body; GitHub accepts it there too.
            .set_auth_type(oauth2::AuthType::RequestBody);
        if let Some(secret) = self.providers.secret(row)? {
            client = client.set_client_secret(ClientSecret::new(secret.expose().clone()));
        }
        Ok((client, api))
    }

    fn oidc_client(&self, row: &ProviderRow, meta: CoreProviderMetadata) -> Result<OidcClient> {
        let secret = self
            .providers
            .secret(row)?
            .map(|s| ClientSecret::new(s.expose().clone()));
        Ok(
            CoreClient::from_provider_metadata(meta, ClientId::new(row.client_id.clone()), secret)
                .set_redirect_uri(self.redirect(row)?),
        )
    }

    pub async fn begin(
        &self,
        provider_id: &str,
        return_to: &str,
        link_user: Option<String>,
    ) -> Result<Begun> {
        let row = self.providers.get(provider_id).await?;
        if !row.enabled {
            return Err(Error::permission_denied(format!(
                "sign-in with {} is turned off",
                row.display_name
            )));
        }
        let kind = Providers::kind(&row)?;
        let scopes = Providers::scopes(&row);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = CsrfToken::new_random();
        let nonce = Nonce::new_random();
        let url = match kind {
            Kind::Oidc => {
                let client = self.oidc_client(&row, self.metadata(&row).await?)?;
                let (state, nonce) = (state.clone(), nonce.clone());
                let mut req = client.authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    move || state,
                    move || nonce,
                );
                for s in scopes.iter().filter(|s| s.as_str() != "openid") {
                    req = req.add_scope(Scope::new(s.clone()));
                }
                req.set_pkce_challenge(challenge).url().0
            }
            Kind::Github | Kind::Gitee => {
                let (client, _) = self.plain_client(&row, kind)?;
                let state = state.clone();
                let mut req = client.authorize_url(move || state);
                for s in &scopes {
                    req = req.add_scope(Scope::new(s.clone()));
                }
                req.set_pkce_challenge(challenge).url().0
            }
        };
        let secrets = serde_json::to_string(&Secrets {
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
        })
        .map_err(|e| Error::invalid_argument(e.to_string()))?;
        let now = now_ms();
        oauth::insert_state(
            &self.store,
            StateRow {
                state_digest: token_digest(state.secret()),
                provider_id: row.id.clone(),
                secrets: self.keyring.encrypt_str(&secrets)?,
                return_to: safe_return_to(return_to),
                link_user_id: link_user,
                created_at: now,
                expires_at: now + STATE_TTL_MS,
            },
        )
        .await?;
        Ok(Begun {
            authorization_url: url.to_string(),
            state: state.secret().clone(),
            expires_at: now + STATE_TTL_MS,
        })
    }

    async fn who(&self, row: &ProviderRow, code: &str, secrets: &Secrets) -> Result<Person> {
        let kind = Providers::kind(row)?;
        let name = &row.display_name;
        let code = AuthorizationCode::new(code.to_string());
        let verifier = PkceCodeVerifier::new(secrets.pkce_verifier.clone());
        match kind {
            Kind::Oidc => {
                let client = self.oidc_client(row, self.metadata(row).await?)?;
                let token = client
                    .exchange_code(code)
                    .map_err(|e| provider_error(name, e))?
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(|e| provider_error(name, format!("token exchange: {e}")))?;
                let id_token = token
                    .extra_fields()
                    .id_token()
                    .ok_or_else(|| provider_error(name, "no ID token in the answer"))?;
                let claims = id_token
                    .claims(
                        &client.id_token_verifier(),
                        &Nonce::new(secrets.nonce.clone()),
                    )
                    .map_err(|e| provider_error(name, format!("ID token: {e}")))?;
                let subject = claims.subject().as_str().to_string();
                let login = claims
                    .preferred_username()
                    .map(|u| u.as_str().to_string())
                    .unwrap_or_default();
                let email = claims.email().map(|e| e.as_str().to_string());
                Ok(Person {
                    display: email
                        .or_else(|| (!login.is_empty()).then(|| login.clone()))
                        .unwrap_or_else(|| subject.clone()),
                    subject,
                    login,
                })
            }
            Kind::Github | Kind::Gitee => {
                let (client, api) = self.plain_client(row, kind)?;
                let token = client
                    .exchange_code(code)
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(|e| provider_error(name, format!("token exchange: {e}")))?;
                let access = token.access_token().secret();
                let mut api = url::Url::parse(&api)
                    .map_err(|e| Error::invalid_argument(format!("provider URL: {e}")))?;
                if kind == Kind::Gitee {
                    // Gitee's v5 API reads the token from the query.
                    api.query_pairs_mut().append_pair("access_token", access);
                }
                let res = self
                    .http
                    .client()
                    .get(api)
                    .bearer_auth(access)
                    .header("accept", "application/json")
                    .send()
                    .await
                    .map_err(|e| provider_error(name, format!("profile: {e}")))?;
                if !res.status().is_success() {
                    return Err(provider_error(
                        name,
                        format!("profile answered {}", res.status()),
                    ));
                }
                let body = bounded_body(res)
                    .await
                    .map_err(|e| provider_error(name, e))?;
                let profile: Value = serde_json::from_slice(&body)
                    .map_err(|_| provider_error(name, "profile is not JSON"))?;
                let subject = match &profile["id"] {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) if !s.is_empty() => s.clone(),
                    _ => return Err(provider_error(name, "profile has no id")),
                };
                let login = profile["login"].as_str().unwrap_or_default().to_string();
                Ok(Person {
                    display: if login.is_empty() {
                        subject.clone()
                    } else {
                        login.clone()
                    },
                    subject,
                    login,
                })
            }
        }
    }

    fn username_base(row: &ProviderRow, kind: Kind, person: &Person) -> String {
        let base = match kind {
            Kind::Github => format!(
                "github_{}",
                slug(if person.login.is_empty() {
                    &person.subject
                } else {
                    &person.login
                })
            ),
            Kind::Gitee => format!("gitee_{}", slug(&person.subject)),
            Kind::Oidc => {
                let issuer = url::Url::parse(&row.issuer_url)
                    .ok()
                    .map(|u| {
                        let host = u.host_str().unwrap_or("").to_string();
                        match u.port() {
                            Some(p) => format!("{host}-{p}"),
                            None => host,
                        }
                    })
                    .unwrap_or_else(|| row.id.clone());
                format!("oidc_{}_{}", slug(&issuer), slug(&person.subject))
            }
        };
        base.chars()
            .take(60)
            .collect::<String>()
            .trim_end_matches(['-', '.', '_'])
            .to_string()
    }

    /// Finishes a callback. Unknown, used and expired states all answer [`BAD_STATE`].
    pub async fn complete(
        &self,
        provider_id: &str,
        code: &str,
        state: &str,
        client: &Client,
    ) -> Result<Completed> {
        let bad_state = || Error::invalid_argument(BAD_STATE);
        if state.is_empty() || state.len() > 512 {
            return Err(bad_state());
        }
        let now = now_ms();
        let taken = oauth::take_state(&self.store, &token_digest(state), now)
            .await?
            .filter(|s| s.provider_id == provider_id)
            .ok_or_else(bad_state)?;
        if code.is_empty() || code.len() > 2048 {
            return Err(Error::invalid_argument(
                "the provider sent no authorization code",
            ));
        }
        let secrets: Secrets = serde_json::from_str(&self.keyring.decrypt_string(&taken.secrets)?)
            .map_err(|_| bad_state())?;
        let row = self.providers.get(provider_id).await?;
        let kind = Providers::kind(&row)?;
        let person = self.who(&row, code, &secrets).await?;
        let return_to = taken.return_to.clone();
        if let Some(user_id) = taken.link_user_id {
            let user = users::get(self.store.db(), &user_id).await?;
            let txn = self.store.begin().await?;
            oauth::insert_identity(
                &txn,
                IdentityRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    user_id: user.id.clone(),
                    provider_id: row.id.clone(),
                    subject: person.subject.clone(),
                    display: person.display.chars().take(255).collect(),
                    created_at: now,
                    last_login_at: None,
                },
            )
            .await?;
            let event = accounts::own_event(&user.id, client, "identity.link")
                .details(json!({"provider": row.id, "display": person.display}));
            audit::commit(txn, event).await?;
            return Ok(Completed {
                user,
                created: false,
                linked: true,
                opened: None,
                return_to,
            });
        }
        let (user, created) =
            match oauth::find_identity(&self.store, &row.id, &person.subject).await? {
                Some(identity) => {
                    oauth::touch_identity(&self.store, &identity.id, now).await?;
                    (users::get(self.store.db(), &identity.user_id).await?, false)
                }
                None => (self.create_user(&row, kind, &person, client).await?, true),
            };
        if !user.enabled {
            // A refusal changes nothing: the row is all there is to write.
            let event = accounts::own_event(&user.id, client, "login.refused")
                .details(json!({"reason": "disabled", "method": format!("oauth:{}", row.id)}));
            audit::append(self.store.db(), event).await?;
            return Err(Error::permission_denied("this account is disabled"));
        }
        let (user, opened) =
            accounts::signed_in(&self.store, user, client, &format!("oauth:{}", row.id)).await?;
        Ok(Completed {
            user,
            created,
            linked: false,
            opened: Some(opened),
            return_to,
        })
    }

    /// First login: a member named after the provider's account, without a password.
    async fn create_user(
        &self,
        row: &ProviderRow,
        kind: Kind,
        person: &Person,
        client: &Client,
    ) -> Result<UserRow> {
        let base = Self::username_base(row, kind, person);
        let now = now_ms();
        for attempt in 0..20 {
            let username = if attempt == 0 {
                base.clone()
            } else {
                format!("{base}-{}", attempt + 1)
            };
            let user = UserRow {
                id: uuid::Uuid::new_v4().to_string(),
                username: username.clone(),
                display_name: person.display.chars().take(191).collect(),
                role: "member".into(),
                enabled: true,
                password_hash: None,
                created_at: now,
                updated_at: now,
                last_login_at: None,
            };
            let txn = self.store.begin().await?;
            match users::insert(&txn, user).await {
                Ok(user) => {
                    oauth::insert_identity(
                        &txn,
                        IdentityRow {
                            id: uuid::Uuid::now_v7().to_string(),
                            user_id: user.id.clone(),
                            provider_id: row.id.clone(),
                            subject: person.subject.clone(),
                            display: person.display.chars().take(255).collect(),
                            created_at: now,
                            last_login_at: Some(now),
                        },
                    )
                    .await?;
                    let event = accounts::own_event(&user.id, client, "user.create_oauth")
                        .details(json!({"provider": row.id, "username": user.username}));
                    audit::commit(txn, event).await?;
                    return Ok(user);
                }
                Err(codex_central_store::Error::Conflict(_)) => {
                    let _ = txn.rollback().await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::invalid_argument(
            "could not find a free username for this account",
        ))
    }

    pub async fn identities(&self, user_id: &str) -> Result<Vec<IdentityRow>> {
        Ok(oauth::identities_of(&self.store, user_id).await?)
    }

    /// Unlinks an identity, unless it is the user's last way to sign in.
    pub async fn unlink(&self, user_id: &str, id: &str, client: &Client) -> Result<()> {
        let user = users::get(self.store.db(), user_id).await?;
        let identities = oauth::identities_of(&self.store, user_id).await?;
        let Some(identity) = identities
            .iter()
            .find(|i| i.id == id || i.provider_id == id)
        else {
            return Err(Error::from(codex_central_store::Error::NotFound(
                "no such linked account".into(),
            )));
        };
        if user.password_hash.is_none() && identities.len() <= 1 {
            return Err(Error::failed_precondition(
                "this is your only way to sign in: set a password or link another provider first",
            ));
        }
        let txn = self.store.begin().await?;
        oauth::delete_identity(&txn, &user.id, &identity.id).await?;
        let event = accounts::own_event(&user.id, client, "identity.unlink")
            .details(json!({"provider": identity.provider_id}));
        audit::commit(txn, event).await?;
        Ok(())
    }

    /// Deletes expired states (the pruner calls it).
    pub async fn prune(&self) -> Result<u64> {
        Ok(oauth::prune_states(&self.store, now_ms()).await?)
    }
}
