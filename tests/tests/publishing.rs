//! The library crates are ready to publish: each has the metadata crates.io and docs.rs need,
//! its `//!` guide lists exactly the features of its Cargo.toml, and `scripts/test.sh` packages
//! exactly the crates that are published.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use toml::{Table, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The workspace members: their directory and manifest.
fn members() -> Vec<(String, Table)> {
    let workspace: Table = read(&root().join("Cargo.toml"))
        .parse()
        .expect("the workspace manifest");
    workspace["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .map(|dir| {
            let dir = dir.as_str().expect("a member directory").to_owned();
            let manifest = read(&root().join(&dir).join("Cargo.toml"))
                .parse()
                .unwrap_or_else(|e| panic!("{dir}/Cargo.toml: {e}"));
            (dir, manifest)
        })
        .collect()
}

fn package(manifest: &Table) -> &Table {
    manifest["package"].as_table().expect("[package]")
}

fn is_published(manifest: &Table) -> bool {
    package(manifest).get("publish").and_then(Value::as_bool) != Some(false)
}

fn library_crates() -> Vec<(String, Table)> {
    let crates: Vec<_> = members()
        .into_iter()
        .filter(|(_, manifest)| is_published(manifest))
        .collect();
    assert!(crates.len() >= 3, "the library crates: {crates:?}");
    crates
}

/// The `# Features` table of a crate's `//!` guide: each feature, and whether it is a default.
fn documented_features(lib_rs: &str) -> BTreeMap<String, bool> {
    let guide: Vec<&str> = lib_rs
        .lines()
        .map_while(|line| line.strip_prefix("//!"))
        .map(str::trim)
        .collect();
    let Some(start) = guide.iter().position(|line| *line == "# Features") else {
        return BTreeMap::new();
    };
    guide[start + 1..]
        .iter()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let name = cells[1].strip_prefix('`')?.strip_suffix('`')?;
            let default = match cells[2] {
                "yes" => true,
                "no" => false,
                other => panic!("the Default column says {other:?} for `{name}`: yes or no"),
            };
            Some((name.to_owned(), default))
        })
        .collect()
}

#[test]
fn each_library_crate_documents_exactly_the_features_of_its_manifest() {
    for (dir, manifest) in library_crates() {
        let features = manifest
            .get("features")
            .and_then(Value::as_table)
            .cloned()
            .unwrap_or_default();
        let defaults: BTreeSet<&str> = features
            .get("default")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let expected: BTreeMap<String, bool> = features
            .keys()
            .filter(|name| *name != "default")
            .map(|name| (name.clone(), defaults.contains(name.as_str())))
            .collect();
        let documented = documented_features(&read(&root().join(&dir).join("src/lib.rs")));
        assert_eq!(
            documented, expected,
            "the `# Features` table of {dir}/src/lib.rs (left) and [features] of \
             {dir}/Cargo.toml (right)"
        );
    }
}

#[test]
fn each_library_crate_has_what_crates_io_and_docs_rs_need() {
    for (dir, manifest) in library_crates() {
        let package = package(&manifest);
        for key in ["description", "license", "repository", "readme"] {
            assert!(package.contains_key(key), "{dir}/Cargo.toml has no {key}");
        }
        let readme = package["readme"].as_str().expect("readme is a path");
        assert!(
            root().join(&dir).join(readme).is_file(),
            "{dir}/{readme} is missing"
        );
        let docs_rs = &package["metadata"]["docs"]["rs"];
        assert_eq!(
            docs_rs["all-features"].as_bool(),
            Some(true),
            "{dir}: docs.rs all-features"
        );
        assert_eq!(
            docs_rs["rustdoc-args"],
            Value::Array(vec!["--cfg".into(), "docsrs".into()]),
            "{dir}: docs.rs rustdoc-args"
        );
        let lib_rs = read(&root().join(&dir).join("src/lib.rs"));
        assert!(
            lib_rs.contains("#![cfg_attr(docsrs, feature(doc_cfg))]"),
            "{dir}/src/lib.rs: feature labels on docs.rs need doc_cfg"
        );
    }
}

#[test]
fn the_test_command_packages_exactly_the_library_crates() {
    let script = read(&root().join("scripts/test.sh")).replace("\\\n", " ");
    let command = script
        .lines()
        .find(|line| line.contains("cargo package --workspace"))
        .expect("scripts/test.sh runs `cargo package --workspace`");
    let words: Vec<&str> = command.split_whitespace().collect();
    let excluded: BTreeSet<&str> = words
        .windows(2)
        .filter(|pair| pair[0] == "--exclude")
        .map(|pair| pair[1])
        .collect();
    let members = members();
    let unpublished: BTreeSet<&str> = members
        .iter()
        .filter(|(_, manifest)| !is_published(manifest))
        .map(|(_, manifest)| package(manifest)["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(
        excluded, unpublished,
        "`cargo package --exclude` in scripts/test.sh (left) and the crates with \
         `publish = false` (right)"
    );
}
