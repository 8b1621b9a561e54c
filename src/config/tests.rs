use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn defaults_parse() {
    let c = Config::resolve(Layer::default()).unwrap();
    assert_eq!(c.bind.to_string(), "127.0.0.1:8488");
    assert!(!c.auth_mode_on);
    assert_eq!(c.role, ProcessRole::All);
    assert!(c.database_url.expose().starts_with("sqlite://"));
    assert_eq!(c.public_url, "http://127.0.0.1:8488");
}

#[test]
fn every_key_is_documented_and_real() {
    let fields = serde_json::to_value(Layer::default()).unwrap();
    let fields: Vec<&String> = fields.as_object().unwrap().keys().collect();
    let documented: Vec<&str> = KEYS.iter().map(|k| k.key).collect();
    for f in &fields {
        assert!(documented.contains(&f.as_str()), "{f} is not in KEYS");
    }
    assert_eq!(fields.len(), KEYS.len());
}

#[test]
fn precedence_and_unknown_keys() {
    let file: Layer = toml::from_str("bind = \"127.0.0.1:1\"\nlog_level = \"debug\"").unwrap();
    let env = Layer::from_env(env(&[("CODEX_CENTRAL_BIND", "127.0.0.1:2")])).unwrap();
    let flags = Layer {
        bind: Some("127.0.0.1:3".into()),
        ..Default::default()
    };
    let c = Config::resolve(flags.clone().over(env.clone().over(file.clone()))).unwrap();
    assert_eq!(c.bind.port(), 3);
    assert_eq!(c.log_level, "debug");
    let c = Config::resolve(env.over(file)).unwrap();
    assert_eq!(c.bind.port(), 2);
    let err = toml::from_str::<Layer>("bnid = \"x\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("bnid"), "{err}");
}

#[test]
fn auth_mode_rules() {
    let open = Layer {
        bind: Some("0.0.0.0:8488".into()),
        ..Default::default()
    };
    assert!(Config::resolve(open.clone()).unwrap().auth_mode_on);
    let off = Layer {
        auth_mode: Some(AuthMode::Off),
        ..open.clone()
    };
    let err = Config::resolve(off.clone()).unwrap_err().to_string();
    assert!(err.contains("auth_mode"), "{err}");
    let allowed = Layer {
        allow_open_network: Some(true),
        ..off
    };
    assert!(!Config::resolve(allowed).unwrap().auth_mode_on);
}

#[test]
fn admin_client_certs_need_something_to_verify_them() {
    let wanted = Layer {
        admin_requires_client_cert: Some(true),
        ..Default::default()
    };
    let err = Config::resolve(wanted.clone()).unwrap_err().to_string();
    assert!(err.contains("admin_requires_client_cert"), "{err}");
    let behind_proxy = Layer {
        trusted_proxies: Some(vec!["10.0.0.0/8".into()]),
        ..wanted
    };
    assert!(
        Config::resolve(behind_proxy)
            .unwrap()
            .admin_requires_client_cert
    );
}

#[test]
fn errors_name_the_key() {
    let cases = [
        Layer {
            bind: Some("nope".into()),
            ..Default::default()
        },
        Layer {
            trusted_proxies: Some(vec!["10.0.0.0/99".into()]),
            ..Default::default()
        },
        Layer {
            role: Some(ProcessRole::Gateway),
            ..Default::default()
        },
        Layer {
            tls_cert: Some("a.pem".into()),
            ..Default::default()
        },
        Layer {
            database_url: Some("redis://x".into()),
            ..Default::default()
        },
    ];
    let keys = [
        "bind",
        "trusted_proxies",
        "services_url",
        "tls_key",
        "database_url",
    ];
    for (layer, key) in cases.into_iter().zip(keys) {
        let err = Config::resolve(layer).unwrap_err().to_string();
        assert!(err.contains(&format!("`{key}`")), "{err}");
    }
    let err = Layer::from_env(env(&[("CODEX_CENTRAL_ALLOW_OPEN_NETWORK", "maybe")])).unwrap_err();
    assert!(err.to_string().contains("allow_open_network"));
}

#[test]
fn readme_reference_matches_the_code() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("<!-- config-reference:start -->\n")
        .expect("start marker");
    let end = readme
        .find("<!-- config-reference:end -->")
        .expect("end marker");
    let table = &readme[start + "<!-- config-reference:start -->\n".len()..end];
    if table != reference_markdown() && std::env::var_os("CODEX_CENTRAL_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let head = &readme[..start + "<!-- config-reference:start -->\n".len()];
        std::fs::write(
            path,
            format!("{head}{}{}", reference_markdown(), &readme[end..]),
        )
        .unwrap();
        return;
    }
    assert_eq!(
        table,
        reference_markdown(),
        "the README's configuration table is stale: run CODEX_CENTRAL_BLESS=1 cargo test -p codex-central readme"
    );
}

#[test]
fn secret_files() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("db");
    std::fs::write(&f, "postgres://u:p@h/db\n").unwrap();
    let c = Config::resolve(Layer {
        database_url_file: Some(f),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.database_url.expose(), "postgres://u:p@h/db");
    assert!(!format!("{c:?}").contains("u:p@"));
}

#[test]
fn codex_refresh_keys_default_to_codex_and_keep_the_server_first() {
    let c = Config::resolve(Layer::default()).unwrap();
    assert_eq!(
        c.codex_refresh.token_url,
        "https://auth.openai.com/oauth/token"
    );
    assert_eq!(c.codex_refresh.client_id, "app_EMoamEEZ73f0CkXaXp7hrann");
    assert_eq!(c.codex_refresh.margin.as_secs(), 1800);
    assert_eq!(c.codex_refresh.interval.as_secs(), 8 * 86_400);
    assert_eq!(c.codex_refresh.check_every.as_secs(), 60);
    assert!(c.codex_probe.command.is_empty());

    let env = Layer::from_env(env(&[
        (
            "CODEX_CENTRAL_CODEX_TOKEN_URL",
            "http://127.0.0.1:1/oauth/token",
        ),
        ("CODEX_CENTRAL_CODEX_REFRESH_MARGIN_SECS", "600"),
        ("CODEX_CENTRAL_CODEX_REFRESH_CHECK_SECS", "5"),
    ]))
    .unwrap();
    let c = Config::resolve(env).unwrap();
    assert_eq!(c.codex_refresh.token_url, "http://127.0.0.1:1/oauth/token");
    assert_eq!(c.codex_refresh.margin.as_secs(), 600);
    assert_eq!(c.codex_refresh.check_every.as_secs(), 5);

    // Below Codex's own threshold the hosts would refresh first and burn the token.
    let late = Layer {
        codex_refresh_margin_secs: Some(300),
        ..Layer::default()
    };
    let err = Config::resolve(late).unwrap_err().to_string();
    assert!(err.contains("codex_refresh_margin_secs"), "{err}");
    let bad_url = Layer {
        codex_token_url: Some("auth.openai.com/oauth/token".into()),
        ..Layer::default()
    };
    let err = Config::resolve(bad_url).unwrap_err().to_string();
    assert!(err.contains("codex_token_url"), "{err}");
}

#[test]
fn chatgpt_usage_poll() {
    let c = Config::resolve(Layer::default()).unwrap();
    assert_eq!(c.chatgpt_usage.base_url, "https://chatgpt.com/backend-api");
    assert_eq!(
        c.chatgpt_usage.poll_every, None,
        "no background poll by default"
    );
    let set = Layer {
        chatgpt_base_url: Some(" http://127.0.0.1:1/backend-api/ ".into()),
        chatgpt_usage_poll_secs: Some(600),
        ..Layer::default()
    };
    let c = Config::resolve(set).unwrap();
    assert_eq!(c.chatgpt_usage.base_url, "http://127.0.0.1:1/backend-api");
    assert_eq!(c.chatgpt_usage.poll_every.map(|d| d.as_secs()), Some(600));
    // A poll faster than the 5-minute cooldown would only ever find it running.
    for (layer, key) in [
        (
            Layer {
                chatgpt_usage_poll_secs: Some(60),
                ..Layer::default()
            },
            "chatgpt_usage_poll_secs",
        ),
        (
            Layer {
                chatgpt_base_url: Some("chatgpt.com/backend-api".into()),
                ..Layer::default()
            },
            "chatgpt_base_url",
        ),
        (
            Layer {
                chatgpt_base_url: Some("https:///backend-api".into()),
                ..Layer::default()
            },
            "chatgpt_base_url",
        ),
    ] {
        let err = Config::resolve(layer).unwrap_err().to_string();
        assert!(err.contains(key), "{err}");
    }
}
