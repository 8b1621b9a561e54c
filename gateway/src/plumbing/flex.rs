//! Lenient input types the peer's clients rely on: booleans as `true`/`false`, `1`/`0`,
//! `"yes"`/`"on"`/`"no"`/`"off"`; anything else is a 422 naming the field.

use serde::{Deserialize, Deserializer, de};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlexBool(pub bool);

impl<'de> Deserialize<'de> for FlexBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Int(i64),
            Text(String),
        }
        let parsed = match Raw::deserialize(deserializer)
            .map_err(|_| de::Error::custom("expected a boolean"))?
        {
            Raw::Bool(b) => Some(b),
            Raw::Int(1) => Some(true),
            Raw::Int(0) => Some(false),
            Raw::Int(_) => None,
            Raw::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                _ => None,
            },
        };
        parsed.map(FlexBool).ok_or_else(|| {
            de::Error::custom("expected a boolean (true/false, 1/0, yes/no, on/off)")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_peer_forms() {
        for (text, want) in [
            ("true", true),
            ("0", false),
            ("\"yes\"", true),
            ("\"off\"", false),
            ("1", true),
        ] {
            assert_eq!(
                serde_json::from_str::<FlexBool>(text).unwrap(),
                FlexBool(want),
                "{text}"
            );
        }
        for bad in ["2", "\"maybe\"", "null", "[]"] {
            assert!(serde_json::from_str::<FlexBool>(bad).is_err(), "{bad}");
        }
    }
}
