//! Sign-in through GitHub, Gitee and OpenID Connect issuers, and linking those identities to
//! accounts. The `oauth2` and `openidconnect` crates do the protocol; they reach the network
//! only through [`http::Http`].

pub mod flow;
pub mod http;
pub mod providers;

pub use flow::{BAD_STATE, OAuth};
pub use providers::{Input, Kind, Providers};
