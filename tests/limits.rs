//! Inputs beyond sane sizes are refused early in one line, and a configuration
//! that is not a file on origin is named, not silently skipped.

mod common;

use common::{env, TestEnv};

/// Commits on dev (through a second clone) and pushes; `write` prepares the
/// clone's working tree.
fn push_to_dev(
    t: &TestEnv,
    origin: &std::path::Path,
    name: &str,
    write: impl FnOnce(&std::path::Path),
) {
    let work = t.clone(origin, name, "dev");
    write(&work);
    t.git(&work, &["add", "--all"]);
    t.git(&work, &["commit", "--quiet", "--no-gpg-sign", "-m", name]);
    t.git(&work, &["push", "--quiet", "origin", "dev"]);
}

#[test]
fn a_manifest_over_the_limit_is_reported_not_read() {
    let t = TestEnv::new();
    let s = t.quickstart();
    push_to_dev(&t, &s.origin, "big", |work| {
        let mut text =
            String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
        let line = format!("  k{{}}: {}\n", "x".repeat(100));
        for i in 0..110_000 {
            text.push_str(&line.replace("{}", &i.to_string()));
        }
        std::fs::write(work.join("apps/cart/big.yaml"), text).unwrap();
    });
    let status = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
    let unparseable = &env(&status, "dev")["unparseable"];
    let big: Vec<_> = unparseable
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["file"] == "apps/cart/big.yaml")
        .collect();
    assert_eq!(big.len(), 1, "{unparseable:#}");
    let message = big[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("not read: ")
            && message.contains("over the 10.0 MB limit for a manifest"),
        "{message}"
    );
}

#[test]
fn a_configuration_that_is_not_a_file_is_named() {
    for (what, kind) in [("directory", "a directory"), ("symlink", "a symbolic link")] {
        let t = TestEnv::new();
        let s = t.quickstart();
        push_to_dev(&t, &s.origin, what, |work| {
            let path = work.join(".gitops.yaml");
            std::fs::remove_file(&path).unwrap();
            if what == "directory" {
                std::fs::create_dir(&path).unwrap();
                std::fs::write(path.join("environments.yaml"), "x: 1\n").unwrap();
            } else {
                std::fs::write(work.join("gitops.yaml"), "environments: []\n").unwrap();
                std::os::unix::fs::symlink("gitops.yaml", &path).unwrap();
            }
        });
        let run = t.gitops(&s.repo, &["status"]);
        run.expect(2);
        assert!(
            run.stderr
                .contains(&format!("origin/dev:.gitops.yaml is {kind}, not a file")),
            "{what}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_configuration_over_the_limit_is_refused() {
    let t = TestEnv::new();
    let s = t.quickstart();
    push_to_dev(&t, &s.origin, "huge-config", |work| {
        let mut text = std::fs::read_to_string(work.join(".gitops.yaml")).unwrap();
        text.push_str(&format!("# {}\n", "x".repeat(11 * 1024 * 1024)));
        std::fs::write(work.join(".gitops.yaml"), text).unwrap();
    });
    let run = t.gitops(&s.repo, &["status"]);
    run.expect(2);
    assert!(
        run.stderr
            .contains("over the 10.0 MB limit for a configuration"),
        "{}",
        run.stderr
    );
}
