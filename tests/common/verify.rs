//! "What you review is what merges": the plan a promotion shows (its JSON
//! `resources`) must be exactly the semantic difference between the target branch
//! and the promotion commit it pushed, as the library computes it from the two
//! trees.

use std::path::Path;

use serde_json::{json, Value};

use super::{Run, TestEnv};
use gitops::config::Config;
use gitops::model::manifest::{parse_documents, Document};
use gitops::model::semdiff::{self, FileDiff};

/// The semantic diff of one file between the target's version (`to`, the state
/// before) and the promotion's (`from`, the state after), with the repository's
/// config. The one call of the library's diff in the tests: when its signature
/// changes, change it here (a `plain` argument: [`holds_plain_values`]).
pub fn semantic_diff(
    config: &Config,
    path: &str,
    to: Option<&[Document]>,
    from: Option<&[Document]>,
) -> FileDiff {
    semdiff::diff_file(
        path,
        to,
        from,
        &config.pinned_rules,
        holds_plain_values(config, path),
    )
}

/// Whether the file at `path` holds plain values whose documents count as
/// resources though they are not Kubernetes objects: a Helm values file
/// (`values*.yaml`) or a file of one of the config's `pinned` rules.
pub fn holds_plain_values(config: &Config, path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let values = name.starts_with("values") && (name.ends_with(".yaml") || name.ends_with(".yml"));
    values
        || config
            .pinned_rules
            .rules
            .iter()
            .any(|r| r.files.is_match(path))
}

/// The repository's config where gitops reads it, `.gitops.yaml` on
/// `origin/HEAD` (else on `origin/dev`), parsed by the library; the defaults
/// without one.
fn config(env: &TestEnv, repo: &Path) -> Config {
    for rev in ["origin/HEAD", "origin/dev"] {
        let spec = format!("{rev}:.gitops.yaml");
        if env.try_git(repo, &["cat-file", "-e", &spec]).code == 0 {
            let text = env.git(repo, &["show", &spec]);
            return Config::parse(&text, &spec)
                .unwrap_or_else(|e| panic!("{spec} does not parse: {e:?}"));
        }
    }
    Config::default()
}

/// Runs `gitops promote ARGS --json` in `repo`. When it pushed (or found pushed)
/// a promotion commit, checks that the plan's `resources` are what merging that
/// commit into `origin/<target>` changes: for every manifest (the `manifests:` of
/// the repository's `.gitops.yaml`, as the library reads it) that differs between the
/// two trees, [`semantic_diff`] of the two versions. A difference the
/// library counts as kept (a pinned value) is one the promotion does make, so it
/// belongs among the changes. Returns the run; the caller checks its exit code.
pub fn promote_and_verify(env: &TestEnv, repo: &Path, target: &str, args: &[&str]) -> Run {
    let mut full = vec!["promote"];
    full.extend_from_slice(args);
    full.push("--json");
    let run = env.gitops(repo, &full);
    if run.code != 0 {
        return run;
    }
    let out = run.json();
    let shown = format!(
        "gitops {}\n--- stdout\n{}\n--- stderr\n{}",
        full.join(" "),
        run.stdout,
        run.stderr
    );
    if out["action"] == "nothing" {
        let empty = out.get("resources").is_none_or(|r| r == &json!([]));
        assert!(empty, "nothing to promote, yet a plan:\n{shown}");
        return run;
    }
    let plan = out
        .get("resources")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("the promotion's JSON has no `resources` plan:\n{shown}"));
    let commit = out["commit"]
        .as_str()
        .unwrap_or_else(|| panic!("the promotion's JSON has no `commit`:\n{shown}"));
    env.git(repo, &["fetch", "--quiet", "origin"]);
    let base = format!("origin/{target}");
    let changed = env.git(
        repo,
        &[
            "diff-tree",
            "-r",
            "--no-renames",
            "--name-only",
            &base,
            commit,
        ],
    );
    let mut merges = Vec::new();
    let config = config(env, repo);
    for path in changed.lines().filter(|p| config.is_manifest(p)) {
        let before = documents(env, repo, &base, path);
        let after = documents(env, repo, commit, path);
        let (Ok(before), Ok(after)) = (before, after) else {
            continue; // unparseable: listed apart, not among resources
        };
        merges.extend(changes(&config, path, before.as_deref(), after.as_deref()));
    }
    let want = canonical(merges);
    let got = canonical(plan.clone());
    assert!(
        got == want,
        "what you review is not what merges.\nthe plan's resources:\n{:#}\nwhat merging {commit} into {base} changes:\n{:#}\n{shown}",
        Value::Array(got),
        Value::Array(want),
    );
    run
}

/// The documents of `rev:path`; `Ok(None)` when the file is absent.
fn documents(
    env: &TestEnv,
    repo: &Path,
    rev: &str,
    path: &str,
) -> Result<Option<Vec<Document>>, ()> {
    let spec = format!("{rev}:{path}");
    if env.try_git(repo, &["cat-file", "-e", &spec]).code != 0 {
        return Ok(None);
    }
    let out = env
        .command("git", repo)
        .args(["cat-file", "blob", &spec])
        .output()
        .expect("git cat-file");
    parse_documents(&out.stdout).map(Some).map_err(|_| ())
}

/// The resource changes of one file as JSON, with the kept values (differences
/// the promotion makes to pinned fields) folded in as field changes.
fn changes(
    config: &Config,
    path: &str,
    before: Option<&[Document]>,
    after: Option<&[Document]>,
) -> Vec<Value> {
    let diff = semantic_diff(config, path, before, after);
    let mut resources: Vec<Value> = diff
        .resources
        .iter()
        .map(|r| serde_json::to_value(r).expect("serialise a resource change"))
        .collect();
    for kept in &diff.kept {
        let mut field = json!({"path": kept.path});
        if !kept.value.is_null() {
            field["from"] = kept.value.clone();
        }
        if !kept.upstream.is_null() {
            field["to"] = kept.upstream.clone();
        }
        let kind = kept.kind.as_deref();
        let at = resources
            .iter()
            .position(|r| r["kind"].as_str() == kind && r["name"] == kept.name.as_str());
        match at {
            Some(i) => resources[i]["fields"]
                .as_array_mut()
                .expect("fields")
                .push(field),
            None => {
                let (api_version, namespace) =
                    identity(after.unwrap_or_default(), kind, &kept.name)
                        .unwrap_or_else(|| panic!("no resource for {kept:?} in {path}"));
                resources.push(json!({
                    "file": path,
                    "api_version": api_version,
                    "kind": kind,
                    "namespace": namespace,
                    "name": kept.name,
                    "change": "changed",
                    "fields": [field],
                }));
            }
        }
    }
    resources
}

/// The apiVersion and namespace of the resource `kind`/`name` among `docs` (and
/// the items of `List`s); a document that is not a Kubernetes object has neither.
fn identity(
    docs: &[Document],
    kind: Option<&str>,
    name: &str,
) -> Option<(Option<String>, Option<String>)> {
    let Some(kind) = kind else {
        return Some((None, None));
    };
    let text = |v: Option<&yaml_serde::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    let mut stack: Vec<&yaml_serde::Value> = docs.iter().map(|d| &*d.value).collect();
    while let Some(value) = stack.pop() {
        if let Some(items) = value.get("items").and_then(|i| i.as_sequence()) {
            stack.extend(items);
        }
        let metadata = value.get("metadata");
        if text(value.get("kind")).as_deref() == Some(kind)
            && text(metadata.and_then(|m| m.get("name"))).as_deref() == Some(name)
        {
            return Some((
                text(value.get("apiVersion")),
                text(metadata.and_then(|m| m.get("namespace"))),
            ));
        }
    }
    None
}

/// Resources sorted by file, kind, namespace and name; fields by path: the
/// comparison is of content, not of order.
fn canonical(mut resources: Vec<Value>) -> Vec<Value> {
    let key = |r: &Value| {
        ["file", "kind", "namespace", "name", "api_version", "change"]
            .map(|k| r[k].to_string())
            .join("\u{0}")
    };
    for r in &mut resources {
        if let Some(fields) = r.get_mut("fields").and_then(Value::as_array_mut) {
            fields.sort_by_key(|f| f["path"].to_string());
        }
    }
    resources.sort_by_key(key);
    resources
}
