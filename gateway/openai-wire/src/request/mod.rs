//! Request bodies: a Responses request as a Chat Completions request and back.
//!
//! The gateway keeps no conversation state, so only what the body itself carries can be
//! translated; what the other API cannot express (hosted tools, storage options) is dropped and
//! what would change the meaning of the call (`previous_response_id`, `n` > 1) is refused.

mod to_chat;
mod to_responses;

pub use to_chat::responses_to_chat;
pub use to_responses::chat_to_responses;

use serde_json::Value;

use super::json::count;
use super::{Target, TranslateError};

/// The max tokens to send upstream: the client's ask clamped to the route's cap, or the cap
/// alone when the client asked for nothing.
fn max_tokens(
    asked: Option<&Value>,
    field: &str,
    target: &Target,
) -> Result<Option<u64>, TranslateError> {
    let asked =
        match asked {
            None | Some(Value::Null) => None,
            Some(v) => Some(count(v).ok_or_else(|| {
                TranslateError(format!("`{field}` must be a non-negative integer"))
            })?),
        };
    let cap = target.max_output_tokens_cap.map(u64::from);
    Ok(match (asked, cap) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn max_tokens_is_clamped_or_defaulted_to_the_cap() {
        let capped = Target {
            max_output_tokens_cap: Some(100),
            ..Target::default()
        };
        let open = Target::default();
        assert_eq!(max_tokens(Some(&json!(500)), "f", &capped), Ok(Some(100)));
        assert_eq!(max_tokens(Some(&json!(50)), "f", &capped), Ok(Some(50)));
        assert_eq!(max_tokens(None, "f", &capped), Ok(Some(100)));
        assert_eq!(max_tokens(Some(&Value::Null), "f", &open), Ok(None));
        assert_eq!(max_tokens(Some(&json!(7)), "f", &open), Ok(Some(7)));
        assert_eq!(
            max_tokens(Some(&json!("lots")), "max_tokens", &open),
            Err(TranslateError(
                "`max_tokens` must be a non-negative integer".into()
            ))
        );
    }
}
