//! YAML nested deeper than the parser's limit (128 collections) is refused
//! before parsing: a config with exit 2 and one line naming the file and the
//! line, a manifest as a file that does not parse. Before the refusal these
//! 200 KB files kept the parser busy for over a minute each (its scanner is
//! quadratic in flow nesting), so these tests finishing at all is the check.

mod common;

use common::{env, TestEnv};
use serde_json::json;

/// About 200 KB of nested flow sequences, as the value of `key`.
fn brackets(key: &str) -> String {
    format!("{key}: {}{}\n", "[".repeat(100_000), "]".repeat(100_000))
}

/// About 200 KB of nested flow mappings, on the file's second line.
fn braces() -> String {
    format!(
        "# generated\n{}1{}\n",
        "{a: ".repeat(40_000),
        "}".repeat(40_000)
    )
}

#[test]
fn a_deeply_nested_config_is_refused_at_once() {
    for (text, at) in [(brackets("environments"), ":1:"), (braces(), ":2:")] {
        let t = TestEnv::new();
        let s = t.quickstart();
        let dev = t.clone(&s.origin, "dev-clone", "dev");
        t.commit_file(&dev, ".gitops.yaml", &text, "A config gone wrong");
        t.git(&dev, &["push", "--quiet", "origin", "dev"]);
        t.git(&s.repo, &["fetch", "--quiet", "origin"]);

        for args in [
            &["status", "--no-fetch"][..],
            &["diff", "stage", "--no-fetch"],
        ] {
            let run = t.gitops(&s.repo, args);
            let error = run.refused();
            assert!(
                error.starts_with(&format!("error: origin/dev:.gitops.yaml{at}")),
                "{args:?}: {error}"
            );
            assert!(
                error.contains("nested more than 128 levels deep"),
                "{args:?}: {error}"
            );
            assert!(
                run.hint().contains("fix .gitops.yaml on origin/dev"),
                "{}",
                run.stderr
            );
        }
    }
}

#[test]
fn a_deeply_nested_manifest_is_reported_as_unparseable() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    t.commit_file(&dev, "apps/deep/list.yaml", &brackets("items"), "Deep");
    t.commit_file(&dev, "apps/deep/map.yaml", &braces(), "Deeper");
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    t.git(&s.repo, &["fetch", "--quiet", "origin"]);

    let status = t
        .gitops(&s.repo, &["status", "--no-fetch", "--json"])
        .expect(0)
        .json();
    let bad = &env(&status, "dev")["unparseable"];
    let message = bad[0]["message"].as_str().unwrap();
    assert!(
        message.contains("nested more than 128 levels deep"),
        "{bad}"
    );
    assert_eq!(
        *bad,
        json!([
            {"file": "apps/deep/list.yaml", "line": 1, "message": message},
            {"file": "apps/deep/map.yaml", "line": 2, "message": message},
        ])
    );

    let diff = t
        .gitops(&s.repo, &["diff", "stage", "--no-fetch", "--json"])
        .expect(0)
        .json();
    assert_eq!(diff["unparseable"], *bad);
    let run = t.gitops(&s.repo, &["status", "--no-fetch"]);
    run.expect(0);
    assert!(
        run.stdout.contains("apps/deep/list.yaml:1: "),
        "{}",
        run.stdout
    );
}

/// A workspace file for `check` is refused the same way (exit 2).
#[test]
fn a_deeply_nested_workspace_file_is_refused() {
    let t = TestEnv::new();
    let dir = t.plain_dir("workspace");
    let file = dir.join("repos.yaml");
    std::fs::write(&file, brackets("repos")).unwrap();
    let run = t.gitops(&dir, &["check", "--workspace", file.to_str().unwrap()]);
    let error = run.refused();
    assert!(error.contains("repos.yaml:1:"), "{error}");
    assert!(
        error.contains("nested more than 128 levels deep"),
        "{error}"
    );
}
