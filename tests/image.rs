//! `gitops image set IMAGE TAG --env ENV`: a byte-exact tag edit on a branch per
//! environment and image, through a pull request.

mod common;

use common::TestEnv;
use gitops::cli::commands::image::SetOut;
use gitops::cli::commands::Action;

const BRANCH: &str = "gitops/image-stage-cart";
const FILE: &str = "apps/cart/deployment.yaml";

#[test]
fn sets_the_tag_changing_only_its_bytes_and_refreshes_one_branch() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let stage = t.rev(&s.origin, "stage");
    let before = t.git(&s.origin, &["show", &format!("stage:{FILE}")]);

    let out = t
        .gitops(
            &s.repo,
            &[
                "image",
                "set",
                "cart",
                "2.2.0-rc.1",
                "--env",
                "stage",
                "--json",
            ],
        )
        .expect(0)
        .parse::<SetOut>();
    assert_eq!(out.action, Action::Pushed, "{out:#?}");
    assert_eq!(out.branch.as_deref(), Some(BRANCH));
    assert_eq!(out.image, "registry.example.com/shop/cart");
    assert_eq!(out.from, ["2.1.0-rc.1"]);
    assert_eq!(out.files, [FILE]);
    assert_eq!(out.pull_request, None);
    let tip = t.rev(&s.origin, BRANCH);
    assert_eq!(
        t.git(&s.origin, &["rev-parse", &format!("{tip}^")]).trim(),
        stage,
        "one commit on origin/stage"
    );
    let after = t.git(&s.origin, &["show", &format!("{tip}:{FILE}")]);
    assert_eq!(
        after,
        before.replace("cart:2.1.0-rc.1", "cart:2.2.0-rc.1"),
        "only the tag's bytes changed"
    );
    assert_eq!(
        t.rev(&s.origin, "stage"),
        stage,
        "stage itself is untouched"
    );

    // The same tag again: nothing new.
    let out = t
        .gitops(
            &s.repo,
            &[
                "image",
                "set",
                "cart",
                "2.2.0-rc.1",
                "--env",
                "stage",
                "--json",
            ],
        )
        .expect(0)
        .parse::<SetOut>();
    assert_eq!(out.action, Action::Unchanged, "{out:#?}");
    assert_eq!(t.rev(&s.origin, BRANCH), tip);

    // A newer release candidate refreshes the same branch.
    let out = t
        .gitops(
            &s.repo,
            &[
                "image",
                "set",
                "cart",
                "2.2.0-rc.2",
                "--env",
                "stage",
                "--json",
            ],
        )
        .expect(0)
        .parse::<SetOut>();
    assert_eq!(out.action, Action::Pushed, "{out:#?}");
    let tip = t.rev(&s.origin, BRANCH);
    assert_eq!(
        t.git(&s.origin, &["rev-parse", &format!("{tip}^")]).trim(),
        stage
    );
    assert!(t
        .git(&s.origin, &["show", &format!("{tip}:{FILE}")])
        .contains("cart:2.2.0-rc.2"));
    let branches = t.git(
        &s.origin,
        &["for-each-ref", "--format=%(refname)", "refs/heads/gitops/"],
    );
    assert_eq!(branches.lines().count(), 1, "{branches}");
}

#[test]
fn the_tag_already_in_place_is_nothing_to_do() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let before = t.refs(&s.origin);
    let out = t
        .gitops(
            &s.repo,
            &[
                "image",
                "set",
                "cart",
                "2.1.0-rc.1",
                "--env",
                "stage",
                "--json",
            ],
        )
        .expect(0)
        .parse::<SetOut>();
    assert_eq!(out.action, Action::Nothing);
    assert_eq!(out.branch, None);
    assert_eq!(t.refs(&s.origin), before);
}

#[test]
fn dry_run_shows_the_diff_and_pushes_nothing() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let before = t.refs(&s.origin);
    let run = t.gitops(
        &s.repo,
        &[
            "image",
            "set",
            "registry.example.com/shop/web",
            "1a2b3c4",
            "--env",
            "dev",
            "--dry-run",
        ],
    );
    run.expect(0);
    assert!(
        run.stdout
            .contains("-          image: registry.example.com/shop/web:d31f8a2"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("+          image: registry.example.com/shop/web:1a2b3c4"),
        "{}",
        run.stdout
    );
    assert_eq!(t.refs(&s.origin), before);
}

#[test]
fn refusals_change_nothing() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let before = t.refs(&s.origin);
    // Not a tag at all: refused before anything else, even outside a repository.
    let outside = t.plain_dir("outside");
    t.gitops(
        &outside,
        &["image", "set", "cart", "bad tag", "--env", "stage"],
    )
    .refused();
    // Each refusal names what is wrong.
    let cases: &[(&[&str], &str)] = &[
        (
            &["image", "set", "cart", "2.2.0", "--env", "stage"],
            "semver-rc",
        ),
        (
            &["image", "set", "cart", "2.0.0-rc.9", "--env", "stage"],
            "downgrade",
        ),
        (
            &["image", "set", "redis", "7.2.4-rc.1", "--env", "stage"],
            "runs no image",
        ),
        (
            &["image", "set", "cart", "2.2.0-rc.1", "--env", "qa"],
            "not configured",
        ),
        (
            &["image", "set", "cart", "latest", "--env", "prod"],
            "latest",
        ),
    ];
    for (args, words) in cases {
        let run = t.gitops(&s.repo, args);
        let error = run.refused();
        assert!(error.contains(words), "{args:?}: {error}");
    }
    assert_eq!(t.refs(&s.origin), before);
    // A rollback on purpose.
    let out = t
        .gitops(
            &s.repo,
            &[
                "image",
                "set",
                "cart",
                "2.0.0-rc.9",
                "--env",
                "stage",
                "--allow-downgrade",
                "--json",
            ],
        )
        .expect(0)
        .parse::<SetOut>();
    assert_eq!(out.action, Action::Pushed);
}

#[test]
fn an_ambiguous_short_name_lists_the_full_ones() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let stage = t.clone(&s.origin, "stage-clone", "stage");
    t.commit_file(
        &stage,
        "apps/cart/worker.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker}\nspec:\n  template:\n    spec:\n      containers:\n        - name: w\n          image: other.example.com/cart:1.0.0-rc.1\n",
        "cart worker",
    );
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);
    let run = t.gitops(
        &s.repo,
        &["image", "set", "cart", "2.2.0-rc.1", "--env", "stage"],
    );
    run.refused();
    let hint = run.hint();
    assert!(
        hint.contains("registry.example.com/shop/cart") && hint.contains("other.example.com/cart"),
        "{hint}"
    );
}

/// On an `auto-merge` environment the pull request gets auto-merge, through the
/// local GitHub double (bodies: GitHub's documented examples).
#[test]
fn dev_gets_a_pull_request_with_auto_merge() {
    use serde_json::Value;

    let t = TestEnv::new();
    let s = t.quickstart();
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    let config = t.git(&dev, &["show", "HEAD:.gitops.yaml"]);
    t.commit_file(
        &dev,
        ".gitops.yaml",
        &format!("{config}github:\n  repository: shop/config\n"),
        "Name the repository",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);

    let gh = common::github::Double::start("shop", "config", "graphql-auto-merge-enabled");
    let pulls = &gh.pulls;

    let run = t.gitops_with(
        &s.repo,
        &["image", "set", "web", "1a2b3c4", "--env", "dev", "--json"],
        &[
            ("GITHUB_API_URL", &gh.uri()),
            ("GH_TOKEN", "ghp_imageTOKEN42"),
        ],
    );
    run.expect(0);
    let out: SetOut = run.parse();
    assert_eq!(out.action, Action::Opened, "{out:#?}\n{}", run.stderr);
    assert_eq!(out.branch.as_deref(), Some("gitops/image-dev-web"));
    let pull = out.pull_request.expect("a pull request");
    assert_eq!(pull.number, common::github::FIRST);
    assert_eq!(
        pull.url,
        format!(
            "https://github.com/shop/config/pull/{}",
            common::github::FIRST
        )
    );
    assert!(pulls.open()[0].auto_merge, "auto-merge asked for");
    let requests = gh.received();
    let calls: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /repos/shop/config/pulls",
            "POST /repos/shop/config/pulls",
            "POST /graphql"
        ],
        "no labels or reviewers configured"
    );
    let create: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(create["title"], "Set web to 1a2b3c4 on dev");
    assert_eq!(create["head"], "gitops/image-dev-web");
    assert_eq!(create["base"], "dev");
    let graphql = String::from_utf8_lossy(&requests[2].body).into_owned();
    assert!(graphql.contains("enablePullRequestAutoMerge"), "{graphql}");
    assert!(!run.stdout.contains("ghp_imageTOKEN42") && !run.stderr.contains("ghp_imageTOKEN42"));
}

#[test]
fn a_manifest_mentioning_the_image_that_does_not_parse_stops_it_and_a_persons_commit_is_never_overwritten(
) {
    let t = TestEnv::new();
    let s = t.quickstart();
    // A person's commit on the image branch.
    t.gitops(
        &s.repo,
        &["image", "set", "cart", "2.2.0-rc.1", "--env", "stage"],
    )
    .expect(0);
    let other = t.clone(&s.origin, "other", BRANCH);
    let theirs = t.commit_file(&other, "apps/cart/notes.txt", "x\n", "A person's note");
    t.git(&other, &["push", "--quiet", "origin", BRANCH]);
    let run = t.gitops(
        &s.repo,
        &["image", "set", "cart", "2.2.0-rc.2", "--env", "stage"],
    );
    assert!(run.refused().contains("A person's note"), "{}", run.stderr);
    assert_eq!(t.rev(&s.origin, BRANCH), theirs);

    // A broken manifest on stage that mentions web (it could hide a use of it):
    // named with its line, nothing changed.
    let stage = t.clone(&s.origin, "stage-clone", "stage");
    t.commit_file(
        &stage,
        "apps/cart/broken.yaml",
        "sidecar: registry.example.com/shop/web:1.0.0\nimage: registry.example.com/shop/sidecar:1.0.0\na: [1, 2\n",
        "broken",
    );
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);
    let before = t.refs(&s.origin);
    let run = t.gitops(
        &s.repo,
        &["image", "set", "web", "1.9.0-rc.2", "--env", "stage"],
    );
    assert!(
        run.refused().contains("apps/cart/broken.yaml:"),
        "{}",
        run.stderr
    );
    assert_eq!(t.refs(&s.origin), before);

    // An image only a broken manifest runs: the broken manifest is the cause,
    // not "stage runs no image".
    let run = t.gitops(
        &s.repo,
        &[
            "image",
            "set",
            "registry.example.com/shop/sidecar",
            "1.0.1",
            "--env",
            "stage",
        ],
    );
    let said = run.refused();
    assert!(
        said.contains(
            "no manifest of stage that parses runs an image `registry.example.com/shop/sidecar`; these mention it and do not parse: apps/cart/broken.yaml:"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(t.refs(&s.origin), before);
}

/// The files `image set --dry-run --json` would change.
fn planned_files(t: &TestEnv, repo: &std::path::Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["image", "set"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--dry-run", "--json"]);
    let out: SetOut = t.gitops(repo, &all).expect(0).parse();
    assert_eq!(out.action, Action::Planned, "{out:#?}");
    out.files
}

#[test]
fn files_that_do_not_parse_stop_it_only_when_they_mention_the_image_and_templates_never() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let stage = t.clone(&s.origin, "stage-clone", "stage");
    // A broken file that does not mention web, a Helm chart's template outside
    // charts/ (a manifest by the default globs) and one inside (not a manifest).
    t.commit_file(&stage, "apps/cart/broken.yaml", "a: [1, 2\n", "broken");
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"web.fullname\" . }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"registry.example.com/shop/web:{{ .Values.image.tag }}\"\n{{- with .Values.env }}\n          env:\n            {{- toYaml . | nindent 12 }}\n{{- end }}\n";
    t.commit_file(
        &stage,
        "deploy/helm/templates/web.yaml",
        template,
        "a chart",
    );
    t.commit_file(
        &stage,
        "charts/web/templates/deployment.yaml",
        template,
        "another chart",
    );
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);

    assert_eq!(
        planned_files(&t, &s.repo, &["web", "1.9.0-rc.2", "--env", "stage"]),
        ["apps/web/deployment.yaml"],
        "neither the unrelated broken file nor the templates stop it"
    );

    // A broken file that mentions web does.
    t.commit_file(
        &stage,
        "apps/web/extra.yaml",
        "kind: ConfigMap\ndata: {image: registry.example.com/shop/web:1.0.0\n",
        "broken web",
    );
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);
    let before = t.refs(&s.origin);
    let run = t.gitops(
        &s.repo,
        &["image", "set", "web", "1.9.0-rc.2", "--env", "stage"],
    );
    assert!(
        run.refused().contains("apps/web/extra.yaml:"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("apps/cart/broken.yaml"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("templates"), "{}", run.stderr);
    assert_eq!(t.refs(&s.origin), before);
}

/// With `images:` in the config, a third-party image follows no tag policy: its
/// tag is set as asked (a downgrade is still refused when the tags are versions);
/// the team's images still follow the policy.
#[test]
fn third_party_images_skip_the_policy_but_not_the_downgrade_check() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    let config = t.git(&dev, &["show", "HEAD:.gitops.yaml"]);
    t.commit_file(
        &dev,
        ".gitops.yaml",
        &format!("{config}images: [\"registry.example.com/shop/*\"]\n"),
        "Name the team's images",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    let prod = t.clone(&s.origin, "prod-clone", "prod");
    t.commit_file(
        &prod,
        "apps/cache/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cache, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n        - name: redis\n          image: redis:7.2.4\n",
        "Add a cache",
    );
    t.git(&prod, &["push", "--quiet", "origin", "prod"]);

    // redis is not the team's: `7.2.5-alpine` is no strict release, yet it is set;
    // named in full (docker.io/library/redis), it is the same image.
    assert_eq!(
        planned_files(
            &t,
            &s.repo,
            &["docker.io/library/redis", "7.2.5-alpine", "--env", "prod"]
        ),
        ["apps/cache/deployment.yaml"]
    );
    // An older version is a downgrade all the same.
    let run = t.gitops(
        &s.repo,
        &[
            "image",
            "set",
            "redis",
            "7.0.0",
            "--env",
            "prod",
            "--dry-run",
        ],
    );
    assert!(run.refused().contains("downgrade"), "{}", run.stderr);
    // The team's images still follow prod's policy.
    let run = t.gitops(
        &s.repo,
        &[
            "image",
            "set",
            "web",
            "1.9.0-rc.1",
            "--env",
            "prod",
            "--dry-run",
        ],
    );
    assert!(run.refused().contains("semver"), "{}", run.stderr);
}

/// An Argo Rollout and a `kind: List` item are found and edited like Deployments.
#[test]
fn rollouts_and_list_items_are_set_too() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let stage = t.clone(&s.origin, "stage-clone", "stage");
    t.commit_file(
        &stage,
        "apps/search/rollout.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: search, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n        - name: search\n          image: registry.example.com/shop/search:1.0.0-rc.1\n",
        "Add search",
    );
    t.commit_file(
        &stage,
        "apps/search/list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata: {name: reindex}\n  spec:\n    jobTemplate:\n      spec:\n        template:\n          spec:\n            containers:\n            - {name: reindex, image: registry.example.com/shop/search:1.0.0-rc.1}\n",
        "Add reindexing",
    );
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);
    let before = t.git(&s.origin, &["show", "stage:apps/search/list.yaml"]);
    let out = t
        .gitops(
            &s.repo,
            &[
                "image",
                "set",
                "search",
                "1.0.0-rc.2",
                "--env",
                "stage",
                "--json",
            ],
        )
        .expect(0)
        .parse::<SetOut>();
    assert_eq!(out.action, Action::Pushed, "{out:#?}");
    assert_eq!(
        out.files,
        ["apps/search/list.yaml", "apps/search/rollout.yaml"]
    );
    let after = t.git(
        &s.origin,
        &["show", "gitops/image-stage-search:apps/search/list.yaml"],
    );
    assert_eq!(
        after,
        before.replace("search:1.0.0-rc.1", "search:1.0.0-rc.2")
    );
}
