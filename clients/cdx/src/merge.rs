//! Merging the fleet's config.toml into a person's own `~/.codex/config.toml` with `toml_edit`:
//! their sections, keys and comments stay; the fleet's keys are set; keys the fleet wrote
//! before and no longer sends are removed (and only those).
//!
//! A key path is the list of table names down to a leaf: a value, an inline table or an array
//! of tables, each replaced whole. On a conflict the fleet's value wins (and is removed again
//! when the fleet drops it).

use toml_edit::{DocumentMut, Item, Table};

pub type KeyPath = Vec<String>;

/// The leaf key paths of a document, in document order.
pub fn leaf_paths(doc: &DocumentMut) -> Vec<KeyPath> {
    let mut out = Vec::new();
    walk(doc.as_table(), &mut Vec::new(), &mut out);
    out
}

fn walk(table: &Table, at: &mut Vec<String>, out: &mut Vec<KeyPath>) {
    for (k, item) in table.iter() {
        at.push(k.to_string());
        match item {
            Item::Table(t) => walk(t, at, out),
            Item::None => {}
            _ => out.push(at.clone()),
        }
        at.pop();
    }
}

fn get<'a>(table: &'a Table, path: &[String]) -> Option<&'a Item> {
    let (last, parents) = path.split_last()?;
    let mut t = table;
    for p in parents {
        t = t.get(p)?.as_table()?;
    }
    t.get(last)
}

/// Sets `path` to `item`, creating (implicit) tables on the way; a non-table in the way is
/// replaced by a table.
fn set(table: &mut Table, path: &[String], item: Item) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let slot = t.entry(p).or_insert_with(|| {
            let mut new = Table::new();
            new.set_implicit(true);
            Item::Table(new)
        });
        if !slot.is_table() {
            let mut new = Table::new();
            new.set_implicit(true);
            *slot = Item::Table(new);
        }
        let Some(next) = slot.as_table_mut() else {
            return;
        };
        t = next;
    }
    t.insert(last, item);
}

/// Removes `path`, then the tables on the way that it left empty.
fn remove(table: &mut Table, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        table.remove(first);
        return;
    }
    if let Some(child) = table.get_mut(first).and_then(Item::as_table_mut) {
        remove(child, rest);
        if child.is_empty() {
            table.remove(first);
        }
    }
}

/// The merged text and the fleet's key paths to remember. `fleet` empty means the fleet has
/// no config (every key it wrote before goes). Errors say which side is not valid TOML.
pub fn merge(
    user: &str,
    fleet: &str,
    previous: &[KeyPath],
) -> Result<(String, Vec<KeyPath>), String> {
    let mut doc: DocumentMut = user.parse().map_err(|e: toml_edit::TomlError| {
        format!("your config.toml is not valid TOML ({})", e.message())
    })?;
    let fleet_doc: DocumentMut = fleet.parse().map_err(|e: toml_edit::TomlError| {
        format!(
            "the fleet's config.toml is not valid TOML ({})",
            e.message()
        )
    })?;
    let paths = leaf_paths(&fleet_doc);
    for old in previous {
        if !paths.contains(old) {
            remove(doc.as_table_mut(), old);
        }
    }
    for p in &paths {
        if let Some(item) = get(fleet_doc.as_table(), p) {
            set(doc.as_table_mut(), p, item.clone());
        }
    }
    Ok((doc.to_string(), paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = r#"# my settings
model = "o3"  # I like it

[mcp_servers.mine]
command = "my-server"   # keep me

[projects."/home/me/repo"]
trust_level = "trusted"
"#;

    const FLEET: &str = r#"approval_policy = "on-request"
sandbox_mode = "workspace-write"

[mcp_servers.cdx]
url = "https://fleet.example.com/mcp"
http_headers = { Authorization = "Bearer k" }
default_tools_approval_mode = "approve"
"#;

    fn p(s: &str) -> KeyPath {
        s.split('.').map(str::to_string).collect()
    }

    #[test]
    fn keeps_the_persons_sections_and_comments() {
        let (merged, keys) = merge(USER, FLEET, &[]).unwrap();
        for kept in [
            "# my settings",
            "model = \"o3\"  # I like it",
            "command = \"my-server\"   # keep me",
            "[projects.\"/home/me/repo\"]",
            "trust_level = \"trusted\"",
        ] {
            assert!(merged.contains(kept), "{kept:?} lost:\n{merged}");
        }
        let v: toml::Table = toml::from_str(&merged).unwrap();
        assert_eq!(v["approval_policy"].as_str(), Some("on-request"));
        assert_eq!(
            v["mcp_servers"]["cdx"]["url"].as_str(),
            Some("https://fleet.example.com/mcp")
        );
        assert_eq!(
            v["mcp_servers"]["mine"]["command"].as_str(),
            Some("my-server")
        );
        assert_eq!(
            keys,
            vec![
                p("approval_policy"),
                p("sandbox_mode"),
                p("mcp_servers.cdx.url"),
                p("mcp_servers.cdx.http_headers"),
                p("mcp_servers.cdx.default_tools_approval_mode"),
            ]
        );
        // Merging the same fleet file again changes nothing.
        let (again, _) = merge(&merged, FLEET, &keys).unwrap();
        assert_eq!(again, merged);
    }

    #[test]
    fn removes_only_keys_the_fleet_wrote_before() {
        let (merged, keys) = merge(USER, FLEET, &[]).unwrap();
        let smaller = "approval_policy = \"never\"\n";
        let (merged, keys2) = merge(&merged, smaller, &keys).unwrap();
        assert_eq!(keys2, vec![p("approval_policy")]);
        let v: toml::Table = toml::from_str(&merged).unwrap();
        assert_eq!(v["approval_policy"].as_str(), Some("never"));
        assert!(v.get("sandbox_mode").is_none());
        assert!(v["mcp_servers"].get("cdx").is_none(), "{merged}");
        assert_eq!(
            v["mcp_servers"]["mine"]["command"].as_str(),
            Some("my-server")
        );
        assert_eq!(v["model"].as_str(), Some("o3"));
        // The fleet config is gone: only the person's file remains, comments and all.
        let (merged, keys3) = merge(&merged, "", &keys2).unwrap();
        assert!(keys3.is_empty());
        assert_eq!(merged, USER);
    }

    #[test]
    fn a_key_the_person_never_had_is_not_invented_and_bad_toml_is_named() {
        let (merged, _) = merge("", FLEET, &[]).unwrap();
        let v: toml::Table = toml::from_str(&merged).unwrap();
        assert_eq!(v["sandbox_mode"].as_str(), Some("workspace-write"));
        let e = merge("model = ", FLEET, &[]).unwrap_err();
        assert!(e.contains("your config.toml"), "{e}");
        let e = merge(USER, "[x", &[]).unwrap_err();
        assert!(e.contains("fleet"), "{e}");
        // A person's scalar where the fleet needs a table is replaced.
        let (merged, _) = merge("mcp_servers = 1\n", FLEET, &[]).unwrap();
        let v: toml::Table = toml::from_str(&merged).unwrap();
        assert!(v["mcp_servers"]["cdx"].is_table());
    }
}
