//! Owner names for answers: a host's fqdn, a person's username. Looked up per answer (one
//! query per kind for a whole page), so a rename shows at once; an owner that is gone keeps an
//! empty name.

use std::collections::HashMap;

use codex_central_store::{Store, hosts, users};

use crate::Result;

/// Names by `(kind, id)` for the owners given (duplicates and the fleet are fine).
pub async fn names<'a>(
    store: &Store,
    owners: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<HashMap<(String, String), String>> {
    let mut host_ids: Vec<i64> = Vec::new();
    let mut user_ids: Vec<String> = Vec::new();
    for (kind, id) in owners {
        match kind {
            "host" => host_ids.extend(id.parse::<i64>().ok()),
            "user" => user_ids.push(id.to_string()),
            _ => {}
        }
    }
    host_ids.sort_unstable();
    host_ids.dedup();
    user_ids.sort_unstable();
    user_ids.dedup();
    let mut out = HashMap::new();
    for (id, fqdn) in hosts::fqdns(store, host_ids).await? {
        out.insert(("host".to_string(), id.to_string()), fqdn);
    }
    for (id, name) in users::usernames(store, user_ids).await? {
        out.insert(("user".to_string(), id), name);
    }
    Ok(out)
}
