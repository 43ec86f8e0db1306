//! `gitops quickstart`: a sample configuration repository with a true story to tell.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::Global;
use crate::config::{self, Config};
use crate::engine::now;
use crate::engine::overview as status;
use crate::engine::snapshot::Snapshot;
use crate::error::refused;
use crate::git;
use crate::ui::Ui;

/// Create a sample repository to try gitops on (offline).
///
/// Create a sample configuration repository for a small online shop (catalogue,
/// cart, checkout and web apps) with a bare `origin` beside it and a realistic
/// history: dev two changes ahead of stage, stage one promotion ahead of prod, and
/// a hotfix made straight on prod. Offline; touches nothing outside DIR.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A new or empty directory.
    #[arg(default_value = "gitops-quickstart", value_hint = clap::ValueHint::DirPath)]
    pub dir: PathBuf,
}

const APPS: [&str; 4] = ["catalogue", "cart", "checkout", "web"];
const REGISTRY: &str = "registry.example.com/shop";

/// The tags each environment runs, per app, in the order of [`APPS`].
const DEV_TAGS: [&str; 4] = ["4f2c9ab", "9e1d7c3", "b7a04e1", "d31f8a2"];
const STAGE_TAGS: [&str; 4] = ["1.4.0-rc.2", "2.1.0-rc.1", "3.0.2-rc.3", "1.9.0-rc.1"];
const PROD_TAGS: [&str; 4] = ["1.3.0", "2.0.4", "3.0.1", "1.8.2"];

#[derive(Clone)]
struct App {
    name: &'static str,
    tag: String,
    replicas: u32,
    memory: &'static str,
    env: Vec<(&'static str, &'static str)>,
}

fn deployment(app: &App) -> String {
    let mut env = String::new();
    if !app.env.is_empty() {
        env.push_str("          env:\n");
        for (k, v) in &app.env {
            env.push_str(&format!(
                "            - name: {k}\n              value: \"{v}\"\n"
            ));
        }
    }
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: shop
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: shop
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      containers:
        - name: {name}
          # The tag is pinned per environment: gitops keeps it on promotion.
          image: {REGISTRY}/{name}:{tag}
          ports:
            - containerPort: 8080
              name: http
{env}          resources:
            requests:
              cpu: 100m
              memory: {memory}
            limits:
              memory: {memory}
"#,
        name = app.name,
        replicas = app.replicas,
        tag = app.tag,
        memory = app.memory,
    )
}

fn service(name: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: shop
spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - name: http
      port: 80
      targetPort: http
"#
    )
}

const README: &str = "# shop-config\n\nKubernetes configuration of the shop, one branch per environment:\n`dev` → `stage` → `prod`. Changes reach an environment only through a\npull request; `gitops status` shows what each one runs.\n";

struct Builder {
    repo: PathBuf,
    clock: i64,
}

impl Builder {
    fn git(&self, args: &[&str]) -> Result<String> {
        git::cli::run(&self.repo, args)
    }

    fn write_apps(&self, apps: &[App]) -> Result<()> {
        for app in apps {
            let dir = self.repo.join("apps").join(app.name);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("deployment.yaml"), deployment(app))?;
            std::fs::write(dir.join("service.yaml"), service(app.name))?;
        }
        Ok(())
    }

    fn commit(&mut self, author: (&str, &str), message: &str) -> Result<()> {
        self.clock += 3 * 3600 + 17 * 60;
        let date = format!("@{} +0000", self.clock);
        self.git(&["add", "--all"])?;
        let args = [
            "commit",
            "--quiet",
            "--no-verify",
            "--no-gpg-sign",
            "-m",
            message,
        ];
        git::cli::run_env(
            &self.repo,
            &args,
            &[
                ("GIT_AUTHOR_NAME", author.0),
                ("GIT_AUTHOR_EMAIL", author.1),
                ("GIT_COMMITTER_NAME", author.0),
                ("GIT_COMMITTER_EMAIL", author.1),
                ("GIT_AUTHOR_DATE", &date),
                ("GIT_COMMITTER_DATE", &date),
            ],
        )?;
        Ok(())
    }

    fn merge(&mut self, author: (&str, &str), branch: &str, message: &str) -> Result<()> {
        self.clock += 3600;
        let date = format!("@{} +0000", self.clock);
        git::cli::run_env(
            &self.repo,
            &[
                "merge",
                "--quiet",
                "--no-ff",
                "--no-verify",
                "--no-gpg-sign",
                "-m",
                message,
                branch,
            ],
            &[
                ("GIT_AUTHOR_NAME", author.0),
                ("GIT_AUTHOR_EMAIL", author.1),
                ("GIT_COMMITTER_NAME", author.0),
                ("GIT_COMMITTER_EMAIL", author.1),
                ("GIT_AUTHOR_DATE", &date),
                ("GIT_COMMITTER_DATE", &date),
            ],
        )?;
        Ok(())
    }
}

const ADA: (&str, &str) = ("Ada Lindqvist", "ada@shop.example");
const BEN: (&str, &str) = ("Ben Okafor", "ben@shop.example");
const CHLOE: (&str, &str) = ("Chloé Martin", "chloe@shop.example");
const CI: (&str, &str) = ("shop-ci", "ci@shop.example");

fn apps(tags: &[&str; 4]) -> Vec<App> {
    APPS.iter()
        .zip(tags)
        .map(|(name, tag)| App {
            name,
            tag: tag.to_string(),
            replicas: 1,
            memory: "128Mi",
            env: Vec::new(),
        })
        .collect()
}

/// Builds the sample in `dir`: `dir/origin.git` (bare) and `dir/shop-config`.
pub fn build(dir: &Path) -> Result<PathBuf> {
    let origin = dir.join("origin.git");
    let repo = dir.join("shop-config");
    std::fs::create_dir_all(&origin)?;
    std::fs::create_dir_all(&repo)?;
    git::cli::run(
        &origin,
        &["init", "--quiet", "--bare", "--initial-branch=dev"],
    )?;
    git::cli::run(&repo, &["init", "--quiet", "--initial-branch=dev"])?;
    let origin_url = origin.canonicalize()?.to_string_lossy().into_owned();
    let mut b = Builder {
        repo: repo.clone(),
        clock: now() - 9 * 86_400,
    };
    b.git(&["remote", "add", "origin", &origin_url])?;
    b.git(&["config", "commit.gpgsign", "false"])?;

    // The shop as it was first written, dev's commit tags everywhere.
    std::fs::write(repo.join(config::FILE), Config::default().to_yaml())?;
    std::fs::write(repo.join("README.md"), README)?;
    let mut dev = apps(&DEV_TAGS);
    b.write_apps(&dev)?;
    b.commit(ADA, "Add the shop: catalogue, cart, checkout and web")?;

    // Each later environment pins its own image tags.
    b.git(&["checkout", "--quiet", "-b", "stage"])?;
    b.write_apps(&apps(&STAGE_TAGS))?;
    b.commit(CI, "Pin stage images to release candidates")?;
    b.git(&["checkout", "--quiet", "-b", "prod", "dev"])?;
    let mut prod = apps(&PROD_TAGS);
    b.write_apps(&prod)?;
    b.commit(CI, "Pin prod images to releases")?;

    // A change promoted to stage but not yet to prod.
    b.git(&["checkout", "--quiet", "dev"])?;
    dev[0].replicas = 2;
    b.write_apps(&dev)?;
    b.commit(ADA, "catalogue: run two replicas")?;
    b.git(&["checkout", "--quiet", "stage"])?;
    b.merge(BEN, "dev", "Promote dev to stage")?;

    // Two changes on dev that stage has not seen yet.
    b.git(&["checkout", "--quiet", "dev"])?;
    dev[1].env.push(("REDIS_URL", "redis://redis.shop:6379"));
    dev[1].tag = "5a6b7c8".into();
    b.write_apps(&dev)?;
    b.commit(BEN, "cart: keep sessions in redis")?;
    dev[3].memory = "256Mi";
    b.write_apps(&dev)?;
    b.commit(ADA, "web: raise the memory limit to 256Mi")?;

    // A hotfix made straight on prod, never made in dev or stage: drift.
    b.git(&["checkout", "--quiet", "prod"])?;
    prod[2].env.push(("PAYMENT_TIMEOUT", "30s"));
    b.write_apps(&prod)?;
    b.commit(CHLOE, "Hotfix: give payments 30s before timing out")?;

    b.git(&["checkout", "--quiet", "dev"])?;
    b.git(&["push", "--quiet", "origin", "dev", "stage", "prod"])?;
    b.git(&["fetch", "--quiet", "origin"])?;
    b.git(&["remote", "set-head", "origin", "dev"])?;
    for branch in ["dev", "stage", "prod"] {
        b.git(&[
            "branch",
            "--quiet",
            "--set-upstream-to",
            &format!("origin/{branch}"),
            branch,
        ])?;
    }
    Ok(repo)
}

pub fn run(global: &Global, args: Args, ui: &Ui) -> Result<()> {
    let dir = match &global.dir {
        Some(base) if args.dir.is_relative() => base.join(&args.dir),
        _ => args.dir.clone(),
    };
    let created = !dir.exists();
    if dir.exists() {
        if !dir.is_dir() {
            return Err(
                refused(format!("`{}` exists and is not a directory", dir.display()))
                    .hint("name a new or empty directory: gitops quickstart DIR")
                    .into(),
            );
        }
        let non_empty = std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_some();
        if non_empty {
            return Err(refused(format!("`{}` is not empty", dir.display()))
                .hint("name a new or empty directory: gitops quickstart DIR")
                .into());
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // Leave nothing half-built behind, Ctrl-C included: it stops the git
    // commands, and the process ends once the directory is cleaned.
    let built = crate::interrupt::uninterrupted(|| {
        let built = ui.spin("creating the sample repository", || build(&dir));
        if built.is_err() {
            if created {
                let _ = std::fs::remove_dir_all(&dir);
            } else if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        built
    });
    let repo = built.context("creating the sample repository")?;
    ui.note(&format!(
        "Created {} (a clone of {}).\n",
        repo.display(),
        dir.join("origin.git").display()
    ));
    let sub = Global {
        dir: Some(repo.clone()),
        color: global.color,
    };
    let mut ws = Snapshot::open(&sub.dir(), ui, false)?;
    let st = status::gather(&mut ws)?;
    let change = ws.change_word();
    ui.out(&status::render(&st, ui, now(), change))?;
    ui.note(&format!(
        "\nTry next:\n  cd {}\n  gitops diff stage          # what promoting stage would bring from dev\n  gitops diff prod           # stage's promotion, and the prod hotfix shown as drift\n  gitops status --json       # the same, for scripts\n  gitops feature start add-redis",
        repo.display()
    ));
    Ok(())
}
