//! A file of many documents and the same documents as separate files give the
//! same answers: `status`, `diff` and `promote --dry-run` see the same resources,
//! images, changes, kept values and drift, whatever file each document is in.

mod common;

use common::shapes::{container, deployment, service, shop_image, Shape, DEV_TAG, NEW_DEV_TAG};
use common::TestEnv;
use serde_json::Value;

/// The documents, in order: (file name in the separate layout, text).
fn documents(tags: &[(&str, &str)], replicas: &[(&str, u32)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for app in ["web", "cart", "search", "auth"] {
        let tag = tags
            .iter()
            .find(|(a, _)| *a == app)
            .map_or(DEV_TAG, |(_, t)| t);
        let mut deploy = deployment("apps/v1", app, &container(app, &shop_image(app, tag)));
        if let Some((_, n)) = replicas.iter().find(|(a, _)| *a == app) {
            deploy = deploy.replace("replicas: 2", &format!("replicas: {n}"));
        }
        out.push((format!("apps/{app}/deployment.yaml"), deploy));
        out.push((format!("apps/{app}/service.yaml"), service(app)));
        // A block scalar holding a `---` line of its own: not a document marker.
        out.push((
            format!("apps/{app}/configmap.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}\n  namespace: shop\n\
                 data:\n  settings.yaml: |\n    ---\n    level: info\n  owner: {app}-team\n"
            ),
        ));
    }
    out
}

/// The two layouts of `docs`: the separate files, and `apps/all.yaml`.
fn layouts(docs: &[(String, String)]) -> [Vec<(String, String)>; 2] {
    let all = docs
        .iter()
        .map(|(_, text)| text.as_str())
        .collect::<Vec<_>>()
        .join("---\n");
    [
        docs.to_vec(),
        vec![(
            "apps/all.yaml".to_owned(),
            format!("# every app\n---\n{all}"),
        )],
    ]
}

fn files(layout: &[(String, String)]) -> Vec<(&str, &str)> {
    layout
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect()
}

/// The shop's documents in both layouts (separate files, one file) and a
/// repository of each, pinned as a team pins after its first promotion.
fn both_layouts(t: &TestEnv) -> ([Vec<(String, String)>; 2], [Shape<'_>; 2]) {
    let layouts = layouts(&documents(&[], &[]));
    let shapes = [
        Shape::pinned(t, "separate", &files(&layouts[0])),
        Shape::pinned(t, "single", &files(&layouts[1])),
    ];
    (layouts, shapes)
}

/// Commits on `branch` of `shape` the first file of `layout` holding `from`,
/// with its first `from` replaced by `to`.
fn edit_first(
    shape: &Shape,
    layout: &[(String, String)],
    branch: &str,
    from: &str,
    to: &str,
    message: &str,
) {
    for (path, _) in layout {
        let text = shape.show(branch, path);
        if text.contains(from) {
            shape.commit(branch, &[(path, &text.replacen(from, to, 1))], message);
            return;
        }
    }
    panic!("{from} not found on {branch}");
}

/// An answer with what depends on the layout set aside: file names (in fields
/// and in messages), commit ids, the files a promotion changes and the apps
/// `status` names by their directories; lists sorted. The kept values (and the
/// warnings about them) are the same: those of the resources the source
/// changed since the environments met, whether each is a file or a document.
fn normalised(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "file" | "files" | "id" | "head" | "commit" | "pending_apps" | "body"
                    )
                })
                .map(|(k, x)| (k.clone(), normalised(x)))
                .collect(),
        ),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalised).collect();
            items.sort_by_key(|x| x.to_string());
            Value::Array(items)
        }
        Value::String(s) => {
            let re = regex::Regex::new(r"apps/[a-z/]*\.yaml").unwrap();
            Value::String(re.replace_all(s, "FILE").into_owned())
        }
        other => other.clone(),
    }
}

#[test]
fn one_file_of_many_documents_answers_as_the_same_documents_in_separate_files() {
    let t = TestEnv::new();
    let (layouts_before, shapes) = both_layouts(&t);
    // A prod hotfix (drift), a stage hotfix, and dev ahead of stage: a new
    // build, scaled apps, a new ConfigMap and a Service removed.
    for (k, shape) in shapes.iter().enumerate() {
        let edit = |branch: &str, from: &str, to: &str, message: &str| {
            edit_first(shape, &layouts_before[k], branch, from, to, message)
        };
        edit(
            "prod",
            "replicas: 2",
            "replicas: 5",
            "Hotfix: scale web on prod",
        );
        edit(
            "stage",
            "memory: 128Mi",
            "memory: 256Mi",
            "Hotfix: more memory for web on stage",
        );
        let mut after = documents(&[("cart", NEW_DEV_TAG)], &[("search", 4), ("auth", 3)]);
        after.push((
            "apps/extra/configmap.yaml".to_owned(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: shop\ndata: {a: b}\n"
                .to_owned(),
        ));
        let message = "Scale search and auth, build cart, add extra";
        let [sep_after, single_after] = layouts(&after);
        after.retain(|(path, _)| path != "apps/cart/service.yaml");
        let [_, single_removed] = layouts(&after);
        if k == 0 {
            shape.commit("dev", &files(&sep_after), message);
            let author = shape.repo.parent().unwrap().join("author");
            t.git(&author, &["rm", "--quiet", "apps/cart/service.yaml"]);
            t.git(
                &author,
                &[
                    "commit",
                    "--quiet",
                    "--no-gpg-sign",
                    "-m",
                    "Drop cart's Service",
                ],
            );
            t.git(&author, &["push", "--quiet", "origin", "dev"]);
        } else {
            shape.commit("dev", &files(&single_after), message);
            shape.commit("dev", &files(&single_removed), "Drop cart's Service");
        }
    }

    let answers = |args: &[&str]| -> Vec<Value> {
        shapes
            .iter()
            .map(|s| t.gitops(&s.repo, args).expect(0).json())
            .collect()
    };
    let status = answers(&["status", "--json"]);
    let diff_stage = answers(&["diff", "stage", "--json"]);
    let diff_prod = answers(&["diff", "prod", "--json"]);
    let promote = answers(&["promote", "stage", "--dry-run", "--json"]);

    // What the answers hold, so that "the same" is not "both empty".
    let prod = common::env(&status[1], "prod");
    assert_eq!(prod["drift"], 1, "{prod:#}");
    let changed: Vec<String> = diff_stage[1]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}/{}",
                r["change"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        changed,
        [
            "added ConfigMap/extra",
            "changed Deployment/auth",
            "changed Deployment/search",
            "removed Service/cart",
        ],
        "{:#}",
        diff_stage[1]
    );
    assert!(
        !diff_stage[1]["kept"].as_array().unwrap().is_empty(),
        "stage keeps its tags: {:#}",
        diff_stage[1]
    );
    assert!(!diff_stage[1]["drift"].as_array().unwrap().is_empty());

    for (name, pair) in [
        ("status", &status),
        ("diff stage", &diff_stage),
        ("diff prod", &diff_prod),
        ("promote stage --dry-run", &promote),
    ] {
        assert_eq!(
            normalised(&pair[0]),
            normalised(&pair[1]),
            "{name}: separate files\n{:#}\none file\n{:#}",
            pair[0],
            pair[1]
        );
    }
}

/// `status` tells what a promotion would carry and what drifted document by
/// document in a file of many, as it tells files apart: a stage hotfix is
/// drift; a new build alone (image tags) leaves nothing pending; a changed
/// comment, a changed value or an added document is pending — the same
/// answers as the same documents in separate files, at each step.
#[test]
fn status_tells_pending_and_drift_document_by_document() {
    let t = TestEnv::new();
    let (layouts_before, shapes) = both_layouts(&t);
    // The same edit in both layouts.
    let both = |branch: &str, from: &str, to: &str, message: &str| {
        for (shape, files) in shapes.iter().zip(&layouts_before) {
            edit_first(shape, files, branch, from, to, message);
        }
    };
    // (stage's pending apps, stage's drift) in each layout.
    let stage = || -> Vec<(usize, u64)> {
        shapes
            .iter()
            .map(|s| {
                let status = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
                let stage = common::env(&status, "stage");
                (
                    stage["pending_apps"].as_array().unwrap().len(),
                    stage["drift"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    both("stage", "memory: 128Mi", "memory: 256Mi", "Hotfix on stage");
    both("dev", DEV_TAG, NEW_DEV_TAG, "New build of web");
    assert_eq!(
        stage(),
        [(0, 1), (0, 1)],
        "a new build alone is not pending"
    );
    both(
        "dev",
        "owner: auth-team",
        "owner: auth-team # on call",
        "A comment",
    );
    assert_eq!(stage(), [(1, 1), (1, 1)], "a changed comment travels");
    both(
        "dev",
        "owner: search-team",
        "owner: search-squad",
        "A new owner",
    );
    assert_eq!(stage(), [(2, 1), (1, 1)], "a changed value travels");
    // Stage takes the same value on its own: that document no longer travels,
    // and it is not drift either.
    both(
        "stage",
        "owner: search-team",
        "owner: search-squad",
        "Same owner",
    );
    assert_eq!(stage(), [(1, 1), (1, 1)]);
}
