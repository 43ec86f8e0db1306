//! `gitops check`: every configuration repository follows the same branch
//! strategy. One failure kind per repository in one workspace run, Git URLs kept
//! in a cache and fetched after, bad input, and branch protection against a local
//! GitHub double.

mod common;

use std::path::{Path, PathBuf};

use common::github::Double;
use common::{Sample, TestEnv};
use gitops::cli::commands::check::{Check, Finding, RepoReport, Report, Severity};
use serde_json::Value;

const TOKEN: &str = "ghp_checkTOKEN1234567890abcdef";

use common::github_fixture as fixture;

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The quickstart sample under `root/name` (it carries a hotfix on prod: drift).
fn sample(t: &TestEnv, name: &str) -> Sample {
    let base = t.root().join(name);
    t.gitops(t.root(), &["quickstart", s(&base)]).expect(0);
    Sample {
        repo: base.join("shop-config"),
        origin: base.join("origin.git"),
    }
}

/// The quickstart sample with its hotfix reverted on prod: no drift.
fn clean_sample(t: &TestEnv, name: &str) -> Sample {
    let sample = sample(t, name);
    revert_hotfix(t, &sample, &format!("{name}-prod"));
    sample
}

fn revert_hotfix(t: &TestEnv, sample: &Sample, clone: &str) {
    let prod = t.clone(&sample.origin, clone, "prod");
    t.git(&prod, &["revert", "--no-edit", "--no-gpg-sign", "HEAD"]);
    t.git(&prod, &["push", "--quiet", "origin", "prod"]);
}

/// Commits `text` at `file` on `branch` of `origin` (through a new clone) and pushes.
fn push_file(t: &TestEnv, origin: &Path, branch: &str, clone: &str, file: &str, text: &str) {
    let work = t.clone(origin, clone, branch);
    t.commit_file(&work, file, text, &format!("Change {file}"));
    t.git(&work, &["push", "--quiet", "origin", branch]);
}

/// A repository made from nothing: a bare origin whose HEAD is dev, and a clone
/// `root/name/work` whose origin/HEAD is dev. `files` are committed on dev, which
/// is pushed to dev and to each of `others`.
fn scratch(t: &TestEnv, name: &str, files: &[(&str, &str)], others: &[&str]) -> Sample {
    let base = t.mkdir(name);
    let origin = base.join("origin.git");
    let work = base.join("work");
    t.git(&base, &["init", "--quiet", "--bare", s(&origin)]);
    t.git(&origin, &["symbolic-ref", "HEAD", "refs/heads/dev"]);
    t.git(&base, &["clone", "--quiet", s(&origin), s(&work)]);
    t.git(&work, &["checkout", "--quiet", "-B", "dev"]);
    t.commit_file(&work, "README.md", "configuration\n", "Start");
    for (file, text) in files {
        t.commit_file(&work, file, text, &format!("Add {file}"));
    }
    let mut push = vec!["push".to_owned(), "--quiet".into(), "origin".into()];
    push.push("dev".into());
    push.extend(others.iter().map(|b| format!("dev:{b}")));
    let push: Vec<&str> = push.iter().map(String::as_str).collect();
    t.git(&work, &push);
    t.git(&work, &["remote", "set-head", "origin", "dev"]);
    Sample { repo: work, origin }
}

/// `config` with three environments dev, stage, prod and prod's policy.
fn three_environments(prod_tags: &str) -> String {
    format!(
        "environments:\n- name: dev\n  tags: commit-sha\n- name: stage\n  tags: semver-rc\n- name: prod\n  tags: {prod_tags}\n"
    )
}

/// Writes a workspace file under a new directory `root/dir` and returns its path.
fn workspace(t: &TestEnv, dir: &str, repos: &[String], reference: Option<&str>) -> PathBuf {
    let dir = t.mkdir(dir);
    let mut text = String::from("repos:\n");
    for r in repos {
        text.push_str(&format!("- '{r}'\n"));
    }
    if let Some(r) = reference {
        text.push_str(&format!("reference: '{r}'\n"));
    }
    let file = dir.join("repos.yaml");
    std::fs::write(&file, text).unwrap();
    file
}

/// The report of `repo` in a `check --json` document.
fn report<'a>(doc: &'a Report, repo: &str) -> &'a RepoReport {
    doc.repos
        .iter()
        .find(|r| r.repo == repo)
        .unwrap_or_else(|| panic!("no report for {repo} in {doc:#?}"))
}

/// The findings of a report with `severity`.
fn findings(report: &RepoReport, severity: Severity) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.severity == severity)
        .collect()
}

/// The check ids of a report's errors.
fn errors(report: &RepoReport) -> Vec<Check> {
    findings(report, Severity::Error)
        .iter()
        .map(|f| f.check)
        .collect()
}

/// The one error of `repo`: its check id must be `check`. Returns its message.
fn only_error(doc: &Report, repo: &str, check: Check) -> String {
    let r = report(doc, repo);
    assert_eq!(errors(r), [check], "{repo}: {r:#?}");
    assert!(!r.ok, "{r:#?}");
    findings(r, Severity::Error)[0].message.clone()
}

fn assert_passes(doc: &Report, repo: &str) {
    let r = report(doc, repo);
    assert!(r.ok, "{r:#?}");
    assert!(errors(r).is_empty(), "{r:#?}");
}

#[test]
fn a_clean_repository_passes_and_protection_is_skipped_off_a_forge() {
    let t = TestEnv::new();
    let clean = clean_sample(&t, "clean");
    let run = t.gitops(&clean.repo, &["check", "--json"]);
    run.expect(0);
    let doc: Report = run.parse();
    assert_eq!(doc.repos.len(), 1, "{doc:#?}");
    let r = &doc.repos[0];
    assert!(r.ok, "{doc:#?}");
    assert!(errors(r).is_empty(), "{doc:#?}");
    assert!(findings(r, Severity::Warning).is_empty(), "{doc:#?}");
    // Its origin is a local path: no forge to ask.
    let skipped = r.skipped.get(&Check::Protection).map_or("", String::as_str);
    assert!(skipped.contains("not on a forge"), "{doc:#?}");

    // The same repository named by path, in the human view: a table and a note.
    let run = t.gitops(t.root(), &["check", s(&clean.repo)]);
    run.expect(0);
    assert!(run.stdout.contains("REPOSITORY"), "{}", run.stdout);
    assert!(run.stdout.contains("stale-features"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("protection: not checked (not on a forge"),
        "{}",
        run.stderr
    );
}

#[test]
fn one_workspace_run_finds_one_failure_kind_per_repository() {
    let t = TestEnv::new();

    // drift: the sample as it is.
    let drift = sample(&t, "drift");

    // branches: origin has dev only (and no .gitops.yaml: the defaults).
    let branches = scratch(&t, "branches", &[], &[]);

    // tag-policy: `latest` on stage.
    let tag = clean_sample(&t, "tag");
    let stage = t.clone(&tag.origin, "tag-stage", "stage");
    let deployment = std::fs::read_to_string(stage.join("apps/cart/deployment.yaml")).unwrap();
    let latest: String = deployment
        .lines()
        .map(|l| match l.split_once("image: ") {
            Some((indent, image)) => format!(
                "{indent}image: {}:latest\n",
                image.rsplit_once(':').map_or(image, |(name, _)| name)
            ),
            None => format!("{l}\n"),
        })
        .collect();
    assert_ne!(latest, deployment, "the deployment runs an image");
    t.commit_file(&stage, "apps/cart/deployment.yaml", &latest, "Run latest");
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);

    // manifests-parse: a manifest that is not YAML on dev.
    let parse = clean_sample(&t, "parse");
    push_file(
        &t,
        &parse.origin,
        "dev",
        "parse-dev",
        "apps/broken.yaml",
        "a: [1, 2\n",
    );

    // config-same-on-branches: prod still has the config dev and stage replaced
    // (behind, not drifted).
    let config = scratch(
        &t,
        "config",
        &[(".gitops.yaml", &three_environments("any"))],
        &["stage", "prod"],
    );
    t.commit_file(
        &config.repo,
        ".gitops.yaml",
        &three_environments("semver"),
        "Require releases on prod",
    );
    t.git(
        &config.repo,
        &["push", "--quiet", "origin", "dev", "dev:stage"],
    );

    // consistent-environments: dev, qa, prod.
    let qa = scratch(
        &t,
        "qa",
        &[(
            ".gitops.yaml",
            "environments:\n- name: dev\n  tags: commit-sha\n- name: qa\n  tags: semver-rc\n- name: prod\n  tags: semver\n",
        )],
        &["qa", "prod"],
    );

    // stale-features: a feature branch merged into dev and left on origin.
    let stale = clean_sample(&t, "stale");
    let dev = t.clone(&stale.origin, "stale-dev", "dev");
    t.git(&dev, &["checkout", "--quiet", "-b", "feature/login"]);
    t.commit_file(&dev, "apps/web/login.txt", "login\n", "Add a login page");
    t.git(&dev, &["push", "--quiet", "origin", "feature/login"]);
    t.git(&dev, &["checkout", "--quiet", "dev"]);
    t.git(
        &dev,
        &[
            "merge",
            "--quiet",
            "--no-ff",
            "--no-gpg-sign",
            "--no-edit",
            "feature/login",
        ],
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    // origin's default branch, `main`, has everything dev has: no feature branch.
    t.git(&stale.origin, &["branch", "main", "dev"]);
    t.git(&stale.origin, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    t.git(&stale.repo, &["fetch", "--quiet", "origin"]);
    t.git(&stale.repo, &["remote", "set-head", "origin", "--auto"]);

    let clean = clean_sample(&t, "clean");

    let repos: Vec<String> = [
        &drift, &branches, &tag, &parse, &config, &qa, &stale, &clean,
    ]
    .iter()
    .map(|x| s(&x.repo).to_owned())
    .collect();
    let [drift, branches, tag, parse, config, qa, stale, clean] = repos.clone().try_into().unwrap();
    let file = workspace(&t, "ws", &repos, None);
    let run = t.gitops(t.root(), &["check", "--json", "--workspace", s(&file)]);
    run.expect(1);
    let doc: Report = run.parse();
    assert_eq!(doc.repos.len(), 8, "{doc:#?}");
    // In the order given.
    let order: Vec<&str> = doc.repos.iter().map(|r| r.repo.as_str()).collect();
    assert_eq!(order, repos, "{doc:#?}");

    let message = only_error(&doc, &drift, Check::Drift);
    assert!(
        message.contains("prod") && message.contains("Hotfix"),
        "{message}"
    );

    let message = only_error(&doc, &branches, Check::Branches);
    assert!(
        message.contains("stage") && message.contains("prod"),
        "{message}"
    );
    // What could not run without the branches is skipped, not passed.
    let skipped = &report(&doc, &branches).skipped;
    for check in [
        Check::ConfigSameOnBranches,
        Check::Drift,
        Check::TagPolicy,
        Check::ManifestsParse,
        Check::Protection,
        Check::StaleFeatures,
    ] {
        assert!(
            skipped.contains_key(&check),
            "{check} not skipped: {doc:#?}"
        );
    }

    let message = only_error(&doc, &tag, Check::TagPolicy);
    assert!(
        message.contains("latest") && message.contains("stage"),
        "{message}"
    );
    assert!(message.contains("apps/cart/deployment.yaml"), "{message}");
    // Without `images:` in the config, it says how to scope the policies.
    let hint = &findings(report(&doc, &tag), Severity::Info)
        .into_iter()
        .find(|f| f.check == Check::TagPolicy)
        .unwrap_or_else(|| panic!("no images: hint: {doc:#?}"))
        .message;
    assert!(
        hint.contains("images:") && hint.contains(".gitops.yaml"),
        "{hint}"
    );

    let message = only_error(&doc, &parse, Check::ManifestsParse);
    assert!(message.contains("apps/broken.yaml:"), "{message}");
    let line = message
        .split("apps/broken.yaml:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<u32>().ok());
    assert!(
        matches!(line, Some(n) if n >= 1),
        "a line number: {message}"
    );

    let message = only_error(&doc, &config, Check::ConfigSameOnBranches);
    assert!(
        message.contains("origin/prod") && message.contains("any"),
        "{message}"
    );

    let message = only_error(&doc, &qa, Check::ConsistentEnvironments);
    assert!(
        message.contains("qa") && message.contains("majority"),
        "{message}"
    );

    let r = report(&doc, &stale);
    assert!(r.ok, "a warning only: {r:#?}");
    assert!(errors(r).is_empty(), "{r:#?}");
    let warnings = findings(r, Severity::Warning);
    assert_eq!(warnings.len(), 1, "{r:#?}");
    assert_eq!(warnings[0].check, Check::StaleFeatures);
    assert!(warnings[0].message.contains("feature/login"), "{r:#?}");
    assert!(
        !warnings[0].message.contains("main"),
        "the default branch is no feature branch: {r:#?}"
    );

    assert_passes(&doc, &clean);
    assert!(findings(report(&doc, &clean), Severity::Warning).is_empty());
}

#[test]
fn the_reference_is_what_the_others_are_compared_with() {
    let t = TestEnv::new();
    let qa_config = "environments:\n- name: dev\n  tags: commit-sha\n- name: qa\n  tags: semver-rc\n- name: prod\n  tags: semver\n";
    scratch(&t, "qa", &[(".gitops.yaml", qa_config)], &["qa", "prod"]);
    scratch(&t, "one", &[], &["stage", "prod"]);
    scratch(&t, "two", &[], &["stage", "prod"]);
    let repos = ["../qa/work", "../one/work", "../two/work"].map(str::to_owned);

    // Without a reference: the majority (the defaults).
    let file = workspace(&t, "majority", &repos, None);
    let run = t.gitops(t.root(), &["check", "--json", "--workspace", s(&file)]);
    run.expect(1);
    let doc: Report = run.parse();
    let at = |dir: &str, r: &str| s(&t.root().join(dir).join(r)).to_owned();
    only_error(
        &doc,
        &at("majority", "../qa/work"),
        Check::ConsistentEnvironments,
    );
    assert_passes(&doc, &at("majority", "../one/work"));
    assert_passes(&doc, &at("majority", "../two/work"));

    // With the odd one as the reference: the others are flagged instead.
    let file = workspace(&t, "reference", &repos, Some("../qa/work"));
    let run = t.gitops(t.root(), &["check", "--json", "--workspace", s(&file)]);
    run.expect(1);
    let doc: Report = run.parse();
    assert_passes(&doc, &at("reference", "../qa/work"));
    for other in ["../one/work", "../two/work"] {
        let message = only_error(&doc, &at("reference", other), Check::ConsistentEnvironments);
        assert!(message.contains("qa"), "{message}");
    }
}

#[test]
fn a_url_is_cloned_into_the_cache_once_and_fetched_after() {
    let t = TestEnv::new();
    let sample = sample(&t, "remote");
    let cache = t.mkdir("cache");
    let env = [("XDG_CACHE_HOME", s(&cache))];
    let url = format!("file://{}", s(&sample.origin));

    let run = t.gitops_with(t.root(), &["check", "--json", &url], &env);
    run.expect(1);
    let doc: Report = run.parse();
    only_error(&doc, &url, Check::Drift);
    let repos = cache.join("gitops").join("repos");
    let entries = || -> Vec<PathBuf> {
        std::fs::read_dir(&repos)
            .unwrap_or_else(|e| panic!("{}: {e}", repos.display()))
            .map(|e| e.unwrap().path())
            .collect()
    };
    let first = entries();
    assert_eq!(first.len(), 1, "one clone in the cache: {first:?}");
    let clone = &first[0];
    assert!(clone.join("HEAD").is_file(), "a bare clone: {clone:?}");
    assert_eq!(
        t.rev(clone, "refs/remotes/origin/prod"),
        t.rev(&sample.origin, "prod")
    );

    // A new commit on origin: the next run fetches it into the same clone.
    revert_hotfix(&t, &sample, "remote-prod");
    let run = t.gitops_with(t.root(), &["check", "--json", &url], &env);
    run.expect(0);
    assert_passes(&run.parse(), &url);
    assert_eq!(entries(), first, "the same clone, fetched");
    assert_eq!(
        t.rev(clone, "refs/remotes/origin/prod"),
        t.rev(&sample.origin, "prod")
    );
}

/// A path to a bare repository (a mirror, the server's copy) is checked on its
/// own branches, as its URL would be.
#[test]
fn a_bare_repository_path_is_checked_like_its_url() {
    let t = TestEnv::new();
    let sample = sample(&t, "bare");
    let cache = t.mkdir("cache");
    let env = [("XDG_CACHE_HOME", s(&cache))];
    let path = s(&sample.origin).to_owned();

    let run = t.gitops_with(t.root(), &["check", "--json", &path], &env);
    run.expect(1);
    let doc: Report = run.parse();
    only_error(&doc, &path, Check::Drift);

    revert_hotfix(&t, &sample, "bare-prod");
    let run = t.gitops_with(t.root(), &["check", "--json", &path], &env);
    run.expect(0);
    assert_passes(&run.parse(), &path);
}

#[test]
fn an_unreachable_url_is_a_finding_for_that_repository_only() {
    let t = TestEnv::new();
    let clean = clean_sample(&t, "clean");
    let cache = t.mkdir("cache");
    let url = "file:///nonexistent/x.git";
    let run = t.gitops_with(
        t.root(),
        &["check", "--json", url, s(&clean.repo)],
        &[("XDG_CACHE_HOME", s(&cache))],
    );
    run.expect(1);
    let doc: Report = run.parse();
    assert_eq!(doc.repos.len(), 2, "{doc:#?}");
    let message = only_error(&doc, url, Check::Branches);
    assert!(message.contains("cannot read"), "{message}");
    // Every other check is skipped for it: none ran.
    let skipped = &report(&doc, url).skipped;
    let names: Vec<Check> = skipped.keys().copied().collect();
    assert_eq!(
        names,
        [
            Check::ConfigSameOnBranches,
            Check::ConsistentEnvironments,
            Check::Drift,
            Check::ManifestsParse,
            Check::Protection,
            Check::StaleFeatures,
            Check::TagPolicy,
        ],
        "by id: {doc:#?}"
    );
    assert!(
        skipped[&Check::Drift].contains("could not be read"),
        "{doc:#?}"
    );
    assert_passes(&doc, s(&clean.repo));
    // In the table: ✗ for branches, `-` for the checks that did not run, never ✓.
    let run = t.gitops_with(t.root(), &["check", url], &[("XDG_CACHE_HOME", s(&cache))]);
    run.expect(1);
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with(url))
        .unwrap_or_else(|| panic!("no row for {url}: {}", run.stdout));
    assert!(row.contains('✗') && !row.contains('✓'), "{row}");
    assert_eq!(
        row.matches(" - ").count() + usize::from(row.ends_with(" -")),
        7,
        "{row}"
    );
    // Nothing half-cloned is left in the cache.
    let repos = cache.join("gitops").join("repos");
    let left: Vec<_> = std::fs::read_dir(&repos)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

/// Helm templates (they do not parse, and hold `{{`), files the default globs
/// leave out (chart templates, CI workflows) and, with `images:` in the config,
/// third-party images whose tags break the policy: none of them fails a check.
#[test]
fn templates_excluded_files_and_third_party_images_do_not_fail_it() {
    let t = TestEnv::new();
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"web.fullname\" . }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"registry.example.com/shop/web:{{ .Values.image.tag }}\"\n{{- with .Values.env }}\n          env:\n            {{- toYaml . | nindent 12 }}\n{{- end }}\n";
    let redis = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cache}\nspec:\n  template:\n    spec:\n      containers:\n        - name: redis\n          image: redis:latest\n";

    let scoped = clean_sample(&t, "scoped");
    let dev = t.clone(&scoped.origin, "scoped-dev", "dev");
    let config = t.git(&dev, &["show", "HEAD:.gitops.yaml"]);
    t.commit_file(
        &dev,
        ".gitops.yaml",
        &format!("{config}images: [\"registry.example.com/shop/*\"]\n"),
        "Name the team's images",
    );
    t.commit_file(&dev, "deploy/helm/templates/web.yaml", template, "A chart");
    t.commit_file(
        &dev,
        "charts/web/templates/broken.yaml",
        "a: [1, 2\n",
        "Excluded",
    );
    t.commit_file(
        &dev,
        ".github/workflows/ci.yml",
        "on: [push\n",
        "Excluded too",
    );
    t.commit_file(&dev, "apps/cache/deployment.yaml", redis, "A cache");
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);

    // The same without `images:`: redis:latest breaks dev's policy, and the
    // finding says how to scope the policies.
    let unscoped = clean_sample(&t, "unscoped");
    push_file(
        &t,
        &unscoped.origin,
        "dev",
        "unscoped-dev",
        "apps/cache/deployment.yaml",
        redis,
    );

    let (scoped, unscoped) = (s(&scoped.repo).to_owned(), s(&unscoped.repo).to_owned());
    let run = t.gitops(t.root(), &["check", "--json", &scoped, &unscoped]);
    run.expect(1);
    let doc: Report = run.parse();
    assert_passes(&doc, &scoped);
    let message = only_error(&doc, &unscoped, Check::TagPolicy);
    assert!(
        message.contains("redis") && message.contains("latest"),
        "{message}"
    );
    let infos: Vec<&str> = findings(report(&doc, &unscoped), Severity::Info)
        .iter()
        .filter(|f| f.check == Check::TagPolicy)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(infos.len(), 1, "{doc:#?}");
    assert!(infos[0].contains("images:"), "{}", infos[0]);

    // A broken file that is no template still fails.
    let dev = t.clone(&t.root().join("scoped/origin.git"), "scoped-dev-2", "dev");
    t.commit_file(
        &dev,
        "deploy/helm/values.yaml",
        "image: {tag: 1\n",
        "Broken values",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    let run = t.gitops(t.root(), &["check", "--json", &scoped]);
    run.expect(1);
    let message = only_error(&run.parse(), &scoped, Check::ManifestsParse);
    assert!(message.contains("deploy/helm/values.yaml:"), "{message}");
    assert!(!message.contains("templates"), "{message}");
}

#[test]
fn a_workspace_file_that_does_not_parse_or_names_nothing_is_refused() {
    let t = TestEnv::new();
    let dir = t.plain_dir("ws");

    let file = dir.join("broken.yaml");
    std::fs::write(&file, "repos: [a, b\n").unwrap();
    let run = t.gitops(&dir, &["check", "--json", "--workspace", s(&file)]);
    let error = run.refused();
    assert!(error.contains(s(&file)), "{error}");
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    let file = dir.join("empty.yaml");
    std::fs::write(&file, "repos: []\n").unwrap();
    let run = t.gitops(&dir, &["check", "--json", "--workspace", s(&file)]);
    let error = run.refused();
    assert!(error.contains(s(&file)), "{error}");

    let file = dir.join("missing.yaml");
    let run = t.gitops(&dir, &["check", "--workspace", s(&file)]);
    let error = run.refused();
    assert!(error.contains(s(&file)), "{error}");

    let file = dir.join("reference.yaml");
    std::fs::write(&file, "repos: [/a]\nreference: /b\n").unwrap();
    let run = t.gitops(&dir, &["check", "--workspace", s(&file)]);
    let error = run.refused();
    assert!(error.contains("/b"), "{error}");
}

#[test]
fn a_path_that_is_not_a_repository_is_a_finding_not_the_end_of_the_run() {
    let t = TestEnv::new();
    let clean = clean_sample(&t, "clean");
    let plain = t.plain_dir("plain");
    let repos = [s(&plain).to_owned(), s(&clean.repo).to_owned()];
    let file = workspace(&t, "ws", &repos, None);
    let run = t.gitops(t.root(), &["check", "--json", "--workspace", s(&file)]);
    run.expect(1);
    let doc: Report = run.parse();
    assert_eq!(doc.repos.len(), 2, "{doc:#?}");
    only_error(&doc, s(&plain), Check::Branches);
    assert_passes(&doc, s(&clean.repo));
}

#[test]
fn a_repository_listed_twice_is_checked_once_with_a_warning() {
    let t = TestEnv::new();
    let clean = clean_sample(&t, "clean");
    let repo = s(&clean.repo).to_owned();
    let file = workspace(&t, "ws", &[repo.clone(), repo.clone()], None);
    let run = t.gitops(t.root(), &["check", "--json", "--workspace", s(&file)]);
    run.expect(0);
    let doc: Report = run.parse();
    assert_eq!(doc.repos.len(), 1, "{doc:#?}");
    assert_passes(&doc, &repo);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(warnings[0].contains(&repo), "{}", run.stderr);
}

/// Several repositories share one HTTP client and runtime while their checks run
/// in parallel threads: each one's calls still reach GitHub, with the token.
#[test]
fn with_a_token_three_repositories_are_checked_against_github_at_once() {
    let t = TestEnv::new();
    let mut repos = Vec::new();
    for name in ["one", "two", "three"] {
        let sample = clean_sample(&t, name);
        t.name_github_repository(&sample.origin, &format!("{name}-dev"));
        repos.push(s(&sample.repo).to_owned());
    }
    let gh = Double::empty("octocat", "Hello-World");
    gh.mount_protection("dev", &["stage"]);
    let file = workspace(&t, "ws", &repos, None);
    let run = t.gitops_with(
        t.root(),
        &["check", "--json", "--workspace", s(&file)],
        &[("GITHUB_API_URL", &gh.uri()), ("GH_TOKEN", TOKEN)],
    );
    run.expect(1);
    let doc: Report = run.parse();
    assert_eq!(doc.repos.len(), 3);
    for r in &doc.repos {
        assert_eq!(errors(r), [Check::Protection], "{doc:#?}");
        let message = &findings(r, Severity::Error)[0].message;
        assert!(message.contains("prod is not protected"), "{message}");
    }
    let requests = gh.received();
    assert_eq!(requests.len(), 9, "3 per repository: {requests:?}");
    for r in &requests {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {TOKEN}")
        );
    }
}

#[test]
fn with_a_token_an_unprotected_environment_branch_is_an_error() {
    let t = TestEnv::new();
    let clean = clean_sample(&t, "clean");
    t.name_github_repository(&clean.origin, "dev-clone");

    // Without a token the check is skipped, and says for which forge.
    let run = t.gitops(&clean.repo, &["check", "--json"]);
    run.expect(0);
    let doc: Report = run.parse();
    let skipped = doc.repos[0].skipped.get(&Check::Protection);
    assert_eq!(
        skipped.map(String::as_str),
        Some("no GitHub token"),
        "{doc:#?}"
    );
    let run = t.gitops(&clean.repo, &["check"]);
    assert!(
        run.stderr
            .contains("protection: not checked (no GitHub token: set GH_TOKEN, GITHUB_TOKEN"),
        "{}",
        run.stderr
    );

    let protection = fixture("branch-protection");
    let reviews = protection
        .pointer("/required_pull_request_reviews/required_approving_review_count")
        .and_then(Value::as_u64);
    assert!(
        matches!(reviews, Some(n) if n > 0),
        "stage requires a review"
    );

    let gh = Double::empty("octocat", "Hello-World");
    gh.mount_protection("dev", &["stage"]);
    let run = t.gitops_with(
        &clean.repo,
        &["check", "--json"],
        &[("GITHUB_API_URL", &gh.uri()), ("GH_TOKEN", TOKEN)],
    );
    run.expect(1);
    let doc: Report = run.parse();
    let r = &doc.repos[0];
    assert!(!r.skipped.contains_key(&Check::Protection), "{doc:#?}");
    assert_eq!(errors(r), [Check::Protection], "{doc:#?}");
    let all: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.check == Check::Protection)
        .collect();
    assert_eq!(all.len(), 1, "exactly one protection finding: {doc:#?}");
    assert_eq!(all[0].severity, Severity::Error);
    let message = &all[0].message;
    assert!(message.contains("prod"), "{message}");
    assert!(!message.contains("stage"), "{message}");

    let requests = gh.received();
    assert_eq!(requests.len(), 3, "{requests:?}");
    for r in &requests {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {TOKEN}")
        );
    }
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
}

#[test]

fn a_url_reads_the_config_on_its_default_branch() {
    let t = TestEnv::new();
    let config = "environments:\n- name: dev\n  branch: develop\n- name: prod\n  branch: main\n";
    let base = t.mkdir("renamed");
    let origin = base.join("origin.git");
    let work = base.join("work");
    t.git(&base, &["init", "--quiet", "--bare", s(&origin)]);
    t.git(&origin, &["symbolic-ref", "HEAD", "refs/heads/develop"]);
    t.git(&base, &["clone", "--quiet", s(&origin), s(&work)]);
    t.git(&work, &["checkout", "--quiet", "-B", "develop"]);
    t.commit_file(&work, ".gitops.yaml", config, "Configure");
    t.git(
        &work,
        &["push", "--quiet", "origin", "develop", "develop:main"],
    );
    t.git(&work, &["remote", "set-head", "origin", "develop"]);

    // By path, the clone's origin/HEAD names develop: it passes.
    let run = t.gitops(t.root(), &["check", "--json", s(&work)]);
    run.expect(0);

    // By URL, the same repository must pass too.
    let cache = t.mkdir("cache");
    let url = format!("file://{}", s(&origin));
    let run = t.gitops_with(
        t.root(),
        &["check", "--json", &url],
        &[("XDG_CACHE_HOME", s(&cache))],
    );
    run.expect(0);
    let doc: Report = run.parse();
    assert_passes(&doc, &url);
    assert!(
        findings(report(&doc, &url), Severity::Info).is_empty(),
        "{doc:#?}"
    );
}
