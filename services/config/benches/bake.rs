//! Baking a host's config.toml from a 200-line template (issue 13: under 1 ms): rendering the
//! structured fields, splicing the free blocks in and checking the result as Codex would load
//! it. Also the base render alone and a profile file, for scale.

use std::collections::BTreeMap;

use codex_central_config::domain::codex_toml::model::{
    FreeBlock, McpServer, ModelProvider, Profile, ProjectTrust, Template,
};
use codex_central_config::domain::codex_toml::render::ManagedMcp;
use codex_central_config::domain::codex_toml::{render_config, render_profile};
use criterion::{Criterion, criterion_group, criterion_main};

/// About `lines` lines once rendered.
fn template(lines: usize) -> Template {
    let mut free = String::from("# Fleet choices kept as typed\n");
    for i in 0..lines.saturating_sub(40) {
        free.push_str(&format!("# note {i}: keep the default\n"));
    }
    free.push_str("hide_agent_reasoning = true\n\n[tui]\nnotifications = true\n");
    Template {
        model: "gpt-5.1-codex".into(),
        model_provider: "central".into(),
        model_reasoning_effort: "medium".into(),
        approval_policy: "on-request".into(),
        sandbox_mode: "workspace-write".into(),
        sandbox_network_access: Some(true),
        model_providers: ["central", "backup"]
            .iter()
            .map(|id| ModelProvider {
                id: (*id).into(),
                base_url: format!("https://{id}.example/v1"),
                env_key: format!("{}_KEY", id.to_uppercase()),
                http_headers: BTreeMap::from([("X-Fleet".to_string(), "bench".to_string())]),
                ..Default::default()
            })
            .collect(),
        mcp_servers: vec![
            McpServer {
                name: "docs".into(),
                url: "https://docs.example/mcp".into(),
                bearer_token_env_var: "DOCS_TOKEN".into(),
                ..Default::default()
            },
            McpServer {
                name: "files".into(),
                command: "files-mcp".into(),
                args: vec!["--root".into(), "/srv".into()],
                ..Default::default()
            },
        ],
        projects: (0..4)
            .map(|i| ProjectTrust {
                path: format!("/srv/project-{i}"),
                trust_level: "trusted".into(),
            })
            .collect(),
        free_blocks: vec![FreeBlock {
            name: "more".into(),
            toml: free,
        }],
        ..Default::default()
    }
}

fn bake(c: &mut Criterion) {
    let t = template(200);
    let managed = ManagedMcp {
        url: "https://central.example/mcp",
        bearer: "cch_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    let host_block = "[tools]\nweb_search = true\n";
    let baked = render_config(&t, Some(("extra", host_block)), Some(&managed)).expect("bakes");
    eprintln!(
        "baked file: {} lines, {} bytes",
        baked.lines().count(),
        baked.len()
    );
    c.bench_function("bake_200_line_template", |b| {
        b.iter(|| render_config(&t, Some(("extra", host_block)), Some(&managed)))
    });
    c.bench_function("render_base_200_lines", |b| {
        b.iter(|| render_config(&t, None, None))
    });
    let p = Profile {
        name: "fast".into(),
        model: "gpt-5.1-codex-mini".into(),
        model_reasoning_effort: "low".into(),
        extra_toml: "# quick\n[tools]\nweb_search = false\n".into(),
        ..Default::default()
    };
    c.bench_function("render_profile", |b| b.iter(|| render_profile(&p)));
}

criterion_group!(benches, bake);
criterion_main!(benches);
