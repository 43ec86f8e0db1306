//! `gitops quickstart DIR`: the sample repository, and what it refuses.

mod common;

use common::TestEnv;

/// Every file under `dir` with its bytes, sorted: what must not change.
fn contents(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                out.push((path.display().to_string() + "/", Vec::new()));
                stack.push(path);
            } else {
                out.push((
                    path.display().to_string(),
                    std::fs::read(&path).expect("read"),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn builds_the_sample_and_prints_its_status() {
    let t = TestEnv::new();
    let dir = t.root().join("demo");
    let run = t.gitops(t.root(), &["quickstart", "demo"]);
    run.expect(0);

    // The status table is the data, on stdout.
    let header = run.stdout.lines().next().unwrap_or_default();
    for column in ["ENV", "BRANCH", "HEAD", "PENDING", "DRIFT"] {
        assert!(
            header.contains(column),
            "status header lacks {column}:\n{}",
            run.stdout
        );
    }
    for env in ["dev", "stage", "prod"] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(env)),
            "a row for {env}:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("registry.example.com/shop/cart"),
        "{}",
        run.stdout
    );
    // What to try next is a message, on stderr.
    assert!(run.stderr.contains("gitops diff stage"), "{}", run.stderr);

    // A bare origin and a clone on dev, with every environment branch on origin.
    let repo = dir.join("shop-config");
    let origin = dir.join("origin.git");
    assert_eq!(
        t.git(&origin, &["rev-parse", "--is-bare-repository"])
            .trim(),
        "true"
    );
    assert_eq!(
        t.git(&repo, &["symbolic-ref", "--short", "HEAD"]).trim(),
        "dev"
    );
    let refs = t.refs(&origin);
    for branch in ["dev", "stage", "prod"] {
        assert!(
            refs.contains(&format!("refs/heads/{branch} ")),
            "origin has {branch}:\n{refs}"
        );
    }
    assert_eq!(
        t.git(&repo, &["status", "--porcelain"]),
        "",
        "the clone is clean"
    );
    // Nothing outside DIR.
    let mut names: Vec<String> = std::fs::read_dir(t.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["demo", "home"]);
}

/// The refs of a freshly built sample's origin.
fn sample_refs() -> String {
    let t = TestEnv::new();
    let sample = t.quickstart();
    t.refs(&sample.origin)
}

#[test]
fn the_sample_is_the_same_every_time() {
    assert_eq!(
        sample_refs(),
        sample_refs(),
        "commit ids depend only on GITOPS_NOW"
    );
}

#[test]
fn refuses_a_non_empty_directory_and_leaves_it_alone() {
    let t = TestEnv::new();
    let dir = t.mkdir("busy");
    std::fs::write(dir.join("notes.txt"), "keep me\n").unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/more.txt"), "and me\n").unwrap();
    let before = contents(&dir);

    let run = t.gitops(t.root(), &["quickstart", "busy"]);
    let error = run.refused();
    assert!(error.contains("not empty"), "{error}");
    assert_eq!(run.stdout, "", "no status printed");
    assert_eq!(contents(&dir), before, "the directory is untouched");
}

#[test]
fn refuses_a_directory_that_is_a_file() {
    let t = TestEnv::new();
    let file = t.root().join("taken");
    std::fs::write(&file, "a file\n").unwrap();

    let run = t.gitops(t.root(), &["quickstart", "taken"]);
    let error = run.refused();
    assert!(error.contains("not a directory"), "{error}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "a file\n");
    assert!(file.is_file());
}

#[test]
fn accepts_an_existing_empty_directory() {
    let t = TestEnv::new();
    let dir = t.mkdir("empty");
    t.gitops(t.root(), &["quickstart", "empty"]).expect(0);
    assert!(dir.join("shop-config/.gitops.yaml").is_file());
    assert!(dir.join("origin.git").is_dir());
}

#[test]
fn the_default_directory_is_gitops_quickstart() {
    let t = TestEnv::new();
    let cwd = t.mkdir("work");
    t.gitops(&cwd, &["quickstart"]).expect(0);
    assert!(cwd
        .join("gitops-quickstart/shop-config/.gitops.yaml")
        .is_file());
    assert!(cwd.join("gitops-quickstart/origin.git").is_dir());
}
