use super::model::{FreeBlock, McpServer, ModelProvider, Profile, ProjectTrust, Template};
use super::render::ManagedMcp;
use super::*;

fn template() -> Template {
    Template {
        model: "gpt-5.1-codex".into(),
        model_provider: "central".into(),
        model_reasoning_effort: "high".into(),
        approval_policy: "on-request".into(),
        sandbox_mode: "workspace-write".into(),
        sandbox_network_access: Some(true),
        model_providers: vec![ModelProvider {
            id: "central".into(),
            base_url: "https://central.example/v1".into(),
            env_key: "CENTRAL_KEY".into(),
            ..Default::default()
        }],
        mcp_servers: vec![McpServer {
            name: "docs".into(),
            command: "docs-mcp".into(),
            args: vec!["--stdio".into()],
            ..Default::default()
        }],
        projects: vec![ProjectTrust {
            path: "/srv/repo".into(),
            trust_level: "trusted".into(),
        }],
        free_blocks: vec![FreeBlock {
            name: "ui".into(),
            toml: "# keep this comment\nhide_agent_reasoning = true  # trailing\n\n# about the tui\n[tui]\nnotifications = true\n".into(),
        }],
        ..Default::default()
    }
}

#[test]
fn free_blocks_keep_their_text_and_their_top_level_keys_stay_top_level() {
    let out = render_config(&template(), None, None).unwrap();
    assert!(out.contains("# keep this comment\nhide_agent_reasoning = true  # trailing\n"));
    assert!(out.contains("# about the tui\n[tui]\nnotifications = true\n"));
    let doc: toml_edit::DocumentMut = out.parse().unwrap();
    assert_eq!(doc["hide_agent_reasoning"].as_bool(), Some(true));
    assert_eq!(doc["model"].as_str(), Some("gpt-5.1-codex"));
    assert_eq!(
        doc["projects"]["/srv/repo"]["trust_level"].as_str(),
        Some("trusted")
    );
    // The block's keys come after the structured ones, its tables after theirs.
    assert!(out.find("sandbox_mode").unwrap() < out.find("hide_agent_reasoning").unwrap());
    assert!(out.find("[projects.").unwrap() < out.find("[tui]").unwrap());
}

#[test]
fn rendering_is_deterministic() {
    let managed = ManagedMcp {
        url: "https://central.example/mcp",
        bearer: "key",
    };
    let a = render_config(
        &template(),
        Some(("x", "[tools]\nweb_search = true\n")),
        Some(&managed),
    )
    .unwrap();
    let b = render_config(
        &template(),
        Some(("x", "[tools]\nweb_search = true\n")),
        Some(&managed),
    )
    .unwrap();
    assert_eq!(a, b);
    assert!(a.contains("[mcp_servers.cdx]\nurl = \"https://central.example/mcp\"\nhttp_headers = { Authorization = \"Bearer key\" }\ndefault_tools_approval_mode = \"approve\"\n"));
}

#[test]
fn invalid_toml_is_refused_with_its_line_and_column() {
    let mut t = template();
    t.free_blocks.push(FreeBlock {
        name: "bad".into(),
        toml: "ok = 1\nbroken = \n".into(),
    });
    let err = render_base(&t).unwrap_err().0;
    assert_eq!(err.fields()[0].field, "template.free_blocks.1.toml");
    assert!(
        err.fields()[0].description.starts_with("line 2, column 10"),
        "{err:?}"
    );
}

#[test]
fn unknown_and_retired_keys_are_named() {
    let cases = [
        ("foo_bar = 1\n", "`foo_bar`"),
        ("profile = \"fast\"\n", "profile"),
        ("[profiles.fast]\nmodel = \"x\"\n", "profiles"),
        ("[features]\nrmcp_client = true\n", "features.rmcp_client"),
        ("[tools]\nview_image = true\n", "`tools.view_image`"),
        (
            "[model_providers.old]\nname = \"o\"\nbase_url = \"http://x\"\nwire_api = \"chat\"\n",
            "model_providers.old.wire_api",
        ),
        (
            "[mcp_servers.x]\nurl = \"http://x\"\nfoo = 1\n",
            "`mcp_servers.x.foo`",
        ),
    ];
    for (toml, named) in cases {
        let mut t = template();
        t.free_blocks = vec![FreeBlock {
            name: "b".into(),
            toml: toml.into(),
        }];
        let err = render_base(&t).unwrap_err().0;
        let text = err.fields()[0].description.clone();
        assert!(text.contains(named), "{toml:?}: {text}");
        assert_eq!(err.fields()[0].field, "template.free_blocks.0.toml");
        assert!(
            text.starts_with("line 1, column 1") || text.starts_with("line "),
            "{text}"
        );
    }
}

#[test]
fn a_block_redefining_a_structured_key_is_refused() {
    let mut t = template();
    t.free_blocks = vec![FreeBlock {
        name: "dup".into(),
        toml: "model = \"other\"\n".into(),
    }];
    let err = render_base(&t).unwrap_err().0;
    assert_eq!(err.fields()[0].field, "template.free_blocks.0.toml");
    assert!(err.fields()[0].description.contains("duplicate"), "{err:?}");
}

#[test]
fn the_managed_name_and_bad_values_are_refused_by_field() {
    let mut t = template();
    t.mcp_servers[0].name = "cdx".into();
    assert_eq!(
        render_base(&t).unwrap_err().0.fields()[0].field,
        "template.mcp_servers.0.name"
    );
    let mut t = template();
    t.approval_policy = "untrusted".into();
    assert_eq!(
        render_base(&t).unwrap_err().0.fields()[0].field,
        "template.approval_policy"
    );
    let mut t = template();
    t.projects[0].path = "relative".into();
    assert_eq!(
        render_base(&t).unwrap_err().0.fields()[0].field,
        "template.projects.0.path"
    );
}

#[test]
fn profiles_render_their_overrides_alone() {
    let p = Profile {
        name: "fast".into(),
        model: "gpt-5.1-codex-mini".into(),
        model_reasoning_effort: "low".into(),
        extra_toml: "# quick\n[tools]\nweb_search = false\n".into(),
        ..Default::default()
    };
    let out = render_profile(&p).unwrap();
    assert_eq!(
        out,
        "model = \"gpt-5.1-codex-mini\"\nmodel_reasoning_effort = \"low\"\n\n# quick\n[tools]\nweb_search = false\n"
    );
    let bad = Profile {
        name: "config".into(),
        ..Default::default()
    };
    assert_eq!(
        render_profile(&bad).unwrap_err().0.fields()[0].field,
        "profile.name"
    );
}

fn with_block(toml: &str) -> Template {
    Template {
        model: "m".into(),
        free_blocks: vec![FreeBlock {
            name: "b".into(),
            toml: toml.into(),
        }],
        ..Default::default()
    }
}

#[test]
fn block_shapes_split_where_their_tables_start() {
    // A root array whose lines start with "[" is not a table header.
    let t = with_block(
        "project_doc_fallback_filenames = [\n  \"NOTES.md\",\n]\n[tui]\nnotifications = true\n",
    );
    let out = render_config(&t, None, None).unwrap();
    let doc: toml_edit::DocumentMut = out.parse().unwrap();
    assert_eq!(
        doc["project_doc_fallback_filenames"][0].as_str(),
        Some("NOTES.md")
    );
    assert_eq!(doc["tui"]["notifications"].as_bool(), Some(true));
    // Dotted keys stay with the top-level keys; arrays of tables and nested headers are tables.
    let t =
        with_block("tui.animations = false\n\n[[skills.config]]\npath = \"/x\"\nenabled = true\n");
    let out = render_config(&t, None, None).unwrap();
    assert!(
        out.starts_with("model = \"m\"\n\ntui.animations = false\n"),
        "{out}"
    );
    // CRLF line endings are kept and still parse.
    let t = with_block("hide_agent_reasoning = true\r\n[tui]\r\nnotifications = true\r\n");
    let out = render_config(&t, None, None).unwrap();
    assert!(out.contains("[tui]\r\nnotifications = true\r\n"), "{out:?}");
    // A block of comments only, and an empty one.
    let t = with_block("# only a comment\n");
    assert!(
        render_config(&t, None, None)
            .unwrap()
            .ends_with("# only a comment\n")
    );
    assert_eq!(
        render_config(&with_block(""), None, None).unwrap(),
        "model = \"m\"\n"
    );
    // A header without a newline at the end of the block.
    let t = with_block("[tui]\nnotifications = true");
    assert!(
        render_config(&t, None, None)
            .unwrap()
            .ends_with("notifications = true\n")
    );
}

#[test]
fn an_error_in_a_blocks_table_part_names_its_own_line() {
    let t = with_block(
        "hide_agent_reasoning = true\n\n[tui]\nnotifications = true\nbogus_key = 1\n[mcp_servers.x]\nurl = \"http://x\"\nnope = 2\n",
    );
    let err = render_base(&t).unwrap_err().0;
    let f = &err.fields()[0];
    assert_eq!(f.field, "template.free_blocks.0.toml");
    assert!(f.description.starts_with("line 8, column 1:"), "{f:?}");
    assert!(f.description.contains("mcp_servers.x.nope"), "{f:?}");
    // Multi-byte text before the error: the column counts characters.
    let t = with_block("# café ☕\nhide_agent_reasoning = ☕\n");
    let err = render_base(&t).unwrap_err().0;
    assert!(
        err.fields()[0].description.starts_with("line 2, column 24"),
        "{:?}",
        err.fields()
    );
}
