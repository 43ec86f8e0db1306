//! `gitops check`: one branch strategy across every configuration repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::cli::Global;
use crate::config::Config;
use crate::engine::repo_config::{config_at, load_config, REMOTE};
use crate::engine::snapshot::Snapshot;
use crate::error::{refused, Exit};
use crate::git::{self, Repo};
use crate::ui::{self, Tone, Ui};

/// Check that every configuration repository follows the branch strategy.
///
/// Check that every configuration repository follows the same branch strategy:
/// environment branches exist, every repository has the same environments, the
/// config agrees on every branch, no drift, every image satisfies its
/// environment's policy, every manifest parses, environment branches are
/// protected (with a token), and no merged feature branch lingers.
///
/// REPO is a local path or a Git URL (cloned bare into the cache directory once,
/// fetched after); a bare repository's path is checked like its URL. Exit 0 when no check failed, 1 when one did, 2 when the input
/// was refused.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repositories: local paths or Git URLs (default: the current repository).
    pub repos: Vec<String>,
    /// A workspace file: `repos: [path-or-url, ...]`, optional `reference:`.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub workspace: Option<PathBuf>,
    /// Check with this configuration instead of the `.gitops.yaml` on origin:
    /// try a change to it before its pull request.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub config: Option<PathBuf>,
    /// Print one JSON document (see the README).
    #[arg(long)]
    pub json: bool,
}

/// A configuration given with `--config`: parsed, where it came from, its text.
type GivenConfig = (Config, String, Option<Vec<u8>>);

/// Reads and parses `--config FILE`; refused (exit 2) when it cannot be read or
/// is not a valid configuration, with the file's line and column.
fn given_config(file: &Path) -> Result<GivenConfig> {
    let hint = "pass a .gitops.yaml as the README describes it: --config .gitops.yaml";
    let size = std::fs::metadata(file)
        .map_err(|e| refused(format!("cannot read {}: {e}", file.display())).hint(hint))?
        .len();
    if size > crate::limits::MAX_FILE_BYTES {
        return Err(refused(format!(
            "{} is {}, over the {} limit for a configuration",
            file.display(),
            crate::limits::megabytes(size),
            crate::limits::megabytes(crate::limits::MAX_FILE_BYTES),
        ))
        .hint(hint)
        .into());
    }
    let bytes = std::fs::read(file)
        .map_err(|e| refused(format!("cannot read {}: {e}", file.display())).hint(hint))?;
    let name = file.display().to_string();
    let config = Config::parse(&String::from_utf8_lossy(&bytes), &name).map_err(|e| {
        refused(e.to_string()).hint(format!(
            "fix {name} (the README's \"The configuration file\" lists its keys), then check again"
        ))
    })?;
    Ok((config, name, Some(bytes)))
}

/// A check, by the id `--json` and the README name it (`tag-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    Branches,
    ConsistentEnvironments,
    ConfigSameOnBranches,
    Drift,
    TagPolicy,
    ManifestsParse,
    Protection,
    StaleFeatures,
}

impl Check {
    /// The checks, in the order they are shown.
    pub const ALL: [Check; 8] = [
        Check::Branches,
        Check::ConsistentEnvironments,
        Check::ConfigSameOnBranches,
        Check::Drift,
        Check::TagPolicy,
        Check::ManifestsParse,
        Check::Protection,
        Check::StaleFeatures,
    ];

    /// The id, as `--json` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Branches => "branches",
            Check::ConsistentEnvironments => "consistent-environments",
            Check::ConfigSameOnBranches => "config-same-on-branches",
            Check::Drift => "drift",
            Check::TagPolicy => "tag-policy",
            Check::ManifestsParse => "manifests-parse",
            Check::Protection => "protection",
            Check::StaleFeatures => "stale-features",
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// By id, as the JSON document has always listed `skipped`'s keys.
impl Ord for Check {
    fn cmp(&self, other: &Check) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Check {
    fn partial_cmp(&self, other: &Check) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// How much a finding matters; ordered from least to most. Only an error fails
/// the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The name, as `--json` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceFile {
    repos: Vec<String>,
    #[serde(default)]
    reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub check: Check,
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RepoReport {
    pub repo: String,
    pub ok: bool,
    pub findings: Vec<Finding>,
    /// Checks not run, and why (`protection` without a token, every check after
    /// a repository that cannot be read, ...).
    pub skipped: BTreeMap<Check, String>,
    #[serde(skip)]
    environments: Option<Vec<(String, String, String)>>,
}

/// What `check --json` prints.
#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    pub repos: Vec<RepoReport>,
}

fn finding(check: Check, severity: Severity, message: impl Into<String>) -> Finding {
    Finding {
        check,
        severity,
        message: message.into(),
    }
}

fn is_url(spec: &str) -> bool {
    spec.contains("://") || (spec.contains('@') && spec.contains(':') && !Path::new(spec).exists())
}

/// Where a URL is kept: `$XDG_CACHE_HOME/gitops/repos/<name>` (else `~/.cache`).
fn cache_dir(url: &str) -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let name: String = url
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // The readable name can collide (`a/b` and `a_b`): a hash of the URL keeps them apart.
    let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    base.join("gitops")
        .join("repos")
        .join(format!("{name}-{:08x}.git", hash as u32))
}

/// Where to clone `spec` from: itself when it is a URL, or a bare repository
/// without an `origin` of its own (a mirror, the server's copy), whose branches
/// are the ones to check, as a URL's would be; `None` for a clone to check in
/// place.
fn source_url(spec: &str) -> Option<String> {
    if is_url(spec) {
        return Some(spec.to_owned());
    }
    let path = Path::new(spec);
    let repo = Repo::discover(path).ok()?;
    if repo.has_workdir() || repo.remote_url(REMOTE).is_some() {
        return None;
    }
    let path = std::fs::canonicalize(path).ok()?;
    Some(path.to_string_lossy().into_owned())
}

/// Opens (cloning or fetching) one repository; the error is the repository's
/// finding, not the end of the run.
fn open(spec: &str) -> Result<Repo, String> {
    if let Some(url) = source_url(spec) {
        let spec = url.as_str();
        let dir = cache_dir(spec);
        if !dir.join("HEAD").exists() {
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let init = || -> Result<()> {
                git::cli::run(&dir, &["init", "--quiet", "--bare"])?;
                git::cli::run(&dir, &["remote", "add", REMOTE, spec])?;
                // Keep fetched objects packed: fewer files to open on every run.
                git::cli::run(&dir, &["config", "fetch.unpackLimit", "1"])?;
                Ok(())
            };
            init().map_err(|e| format!("{e:#}"))?;
        }
        git::cli::fetch(&dir, REMOTE).map_err(|e| {
            if !dir.join("refs/remotes").exists()
                || std::fs::read_dir(dir.join("refs/remotes"))
                    .map_or(true, |mut d| d.next().is_none())
            {
                let _ = std::fs::remove_dir_all(&dir);
            }
            format!("{e}")
        })?;
        // Learn origin's default branch once, as `git clone` does: that is where the
        // config is read from.
        if !dir.join("refs/remotes").join(REMOTE).join("HEAD").exists() {
            let _ = git::cli::run_remote(&dir, &["remote", "set-head", REMOTE, "--auto"], REMOTE);
        }
        return Repo::open(&dir).map_err(|e| format!("{e:#}"));
    }
    let repo = Repo::discover(Path::new(spec)).map_err(|e| format!("{e}"))?;
    if repo.remote_url(REMOTE).is_none() {
        return Err("it has no remote named `origin`".to_owned());
    }
    git::cli::fetch(&repo.dir, REMOTE).map_err(|e| format!("{e}"))?;
    Ok(repo)
}

fn check_repo(spec: &str, given: Option<&GivenConfig>) -> RepoReport {
    let mut report = RepoReport {
        repo: spec.to_owned(),
        ok: true,
        findings: Vec::new(),
        skipped: BTreeMap::new(),
        environments: None,
    };
    let repo = match open(spec) {
        Ok(repo) => repo,
        Err(why) => {
            report.findings.push(finding(
                Check::Branches,
                Severity::Error,
                format!("cannot read the repository: {why}"),
            ));
            skip_the_rest(&mut report, "the repository could not be read");
            return finish(report);
        }
    };
    let loaded = match given {
        Some((config, source, _)) => Ok((config.clone(), source.clone())),
        None => load_config(&repo),
    };
    let (config, source) = match loaded {
        Ok(c) => c,
        Err(e) => {
            report.findings.push(finding(
                Check::ConfigSameOnBranches,
                Severity::Error,
                format!("{e}"),
            ));
            skip_the_rest(&mut report, "the configuration could not be read");
            return finish(report);
        }
    };
    if source.starts_with("defaults") {
        report.findings.push(finding(
            Check::ConsistentEnvironments,
            Severity::Info,
            "no .gitops.yaml: the default environments apply (dev, stage, prod)",
        ));
    }
    report.environments = Some(
        config
            .environments
            .iter()
            .map(|e| (e.name.clone(), e.branch.clone(), e.tags.to_string()))
            .collect(),
    );
    // branches
    let mut missing = Vec::new();
    for env in &config.environments {
        if repo
            .remote_branch(REMOTE, &env.branch)
            .ok()
            .flatten()
            .is_none()
        {
            missing.push(env.branch.clone());
        }
    }
    if !missing.is_empty() {
        report.findings.push(finding(
            Check::Branches,
            Severity::Error,
            format!(
                "missing on origin: {} (create them with `gitops init`)",
                missing.join(", ")
            ),
        ));
        report.skipped.insert(
            Check::ConfigSameOnBranches,
            "environment branches are missing".to_owned(),
        );
        skip_the_rest(&mut report, "environment branches are missing");
        return finish(report);
    }
    // config-same-on-branches
    match given {
        Some(_) => {
            report.skipped.insert(
                Check::ConfigSameOnBranches,
                format!("checked with --config {source}, not the branches' own"),
            );
        }
        None => config_on_branches(&repo, &config, &mut report),
    }
    // The history read before anything else: a history that cannot be read
    // is a finding on the branches, and the other checks are skipped.
    let loaded = Snapshot::load_with(repo, None, given.cloned()).and_then(|ws| {
        ws.graph()?;
        Ok(ws)
    });
    let mut ws = match loaded {
        Ok(ws) => ws,
        Err(e) => {
            report
                .findings
                .push(finding(Check::Branches, Severity::Error, format!("{e}")));
            skip_the_rest(&mut report, "the environment branches could not be read");
            return finish(report);
        }
    };
    let change = ws.change_word();
    match crate::engine::overview::gather(&mut ws) {
        Ok(status) => {
            let mut violations = 0;
            for env in &status.environments {
                for d in &env.drift_commits {
                    report.findings.push(finding(
                        Check::Drift,
                        Severity::Error,
                        format!(
                            "{} carries {} \"{}\" ({}), which {} does not have: bring it upstream through a {change}",
                            env.name,
                            &d.id[..7],
                            d.summary,
                            d.author,
                            env.upstream.as_deref().unwrap_or("its upstream")
                        ),
                    ));
                }
                for v in &env.policy_violations {
                    violations += 1;
                    report.findings.push(finding(
                        Check::TagPolicy,
                        Severity::Error,
                        format!("{} on {} ({}): {}", v.image, env.name, v.file, v.message),
                    ));
                }
                for u in &env.unparseable {
                    report.findings.push(finding(
                        Check::ManifestsParse,
                        Severity::Error,
                        format!("{}:{} on {}: {}", u.file, u.line, env.name, u.message),
                    ));
                }
            }
            if violations > 0 && ws.config.images.is_none() {
                report.findings.push(finding(
                    Check::TagPolicy,
                    Severity::Info,
                    format!(
                        "every image is judged by the tag policies because {} has no `images:` list: if some of these images are not the team's own (redis, busybox), list the team's images there (e.g. images: [\"registry.example.com/shop/*\"]); the others are then not judged and their tags travel with promotions",
                        crate::config::FILE
                    ),
                ));
            }
        }
        Err(e) => {
            report
                .findings
                .push(finding(Check::Drift, Severity::Error, format!("{e:#}")));
            for check in [Check::TagPolicy, Check::ManifestsParse] {
                report.skipped.insert(
                    check,
                    "the environment branches could not be read".to_owned(),
                );
            }
        }
    }
    stale_features(&ws, &mut report);
    protection(&ws, &mut report);
    finish(report)
}

/// Marks every check that has no finding yet and is not skipped already as not
/// run, for `why`: the run stopped before it. `consistent-environments`, which
/// compares repositories, is skipped too when this one's environments are unknown.
fn skip_the_rest(report: &mut RepoReport, why: &str) {
    for check in Check::ALL {
        let ran = report.findings.iter().any(|f| f.check == check)
            || (check == Check::ConsistentEnvironments && report.environments.is_some());
        if !ran {
            report
                .skipped
                .entry(check)
                .or_insert_with(|| why.to_owned());
        }
    }
}

fn finish(mut report: RepoReport) -> RepoReport {
    report.ok = !report
        .findings
        .iter()
        .any(|f| f.severity == Severity::Error);
    report
}

fn config_on_branches(repo: &Repo, config: &Config, report: &mut RepoReport) {
    let want: Vec<(String, String, String)> = config
        .environments
        .iter()
        .map(|e| (e.name.clone(), e.branch.clone(), e.tags.to_string()))
        .collect();
    for env in &config.environments {
        let label = format!("{REMOTE}/{}", env.branch);
        let read = || -> Result<Option<Result<Config, crate::config::ConfigError>>> {
            match repo.remote_branch(REMOTE, &env.branch)? {
                Some(tip) => config_at(repo, tip, &label),
                None => Ok(None),
            }
        };
        let parsed = match read() {
            Ok(None) => Config::default(),
            Ok(Some(Ok(c))) => c,
            Ok(Some(Err(e))) => {
                report.findings.push(finding(
                    Check::ConfigSameOnBranches,
                    Severity::Error,
                    e.to_string(),
                ));
                continue;
            }
            Err(e) => {
                report.findings.push(finding(
                    Check::ConfigSameOnBranches,
                    Severity::Error,
                    format!("{label}: {e:#}"),
                ));
                continue;
            }
        };
        let got: Vec<(String, String, String)> = parsed
            .environments
            .iter()
            .map(|e| (e.name.clone(), e.branch.clone(), e.tags.to_string()))
            .collect();
        if got != want {
            report.findings.push(finding(
                Check::ConfigSameOnBranches,
                Severity::Error,
                format!(
                    "{label} defines the environments {} where the default branch has {}: promote the config change to every environment",
                    describe(&got),
                    describe(&want)
                ),
            ));
        }
    }
}

fn describe(envs: &[(String, String, String)]) -> String {
    envs.iter()
        .map(|(n, b, t)| {
            if n == b {
                format!("{n} ({t})")
            } else {
                format!("{n} on {b} ({t})")
            }
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Feature branches on origin already merged into the first environment.
fn stale_features(ws: &Snapshot, report: &mut RepoReport) {
    // Read when the snapshot was loaded ([`check_repo`]).
    let Ok(graph) = ws.graph() else {
        return;
    };
    let first_tip = ws.branches[0].tip;
    let env_branches: BTreeSet<&str> = ws
        .config
        .environments
        .iter()
        .map(|e| e.branch.as_str())
        .collect();
    let Ok(branches) = ws.repo.remote_branches(REMOTE) else {
        return;
    };
    let default = ws.repo.remote_default_branch(REMOTE);
    let mut stale = Vec::new();
    for (name, id) in branches {
        let name = name.as_str();
        // Environment branches, origin's default branch (`main`, which a
        // repository keeps whatever it has merged) and gitops's own are no
        // feature branches.
        if env_branches.contains(name)
            || default.as_deref() == Some(name)
            || name.starts_with("gitops/")
            || name == "HEAD"
        {
            continue;
        }
        if graph.nodes.contains_key(&id) && graph.is_ancestor(id, first_tip) {
            stale.push(name.to_owned());
        }
    }
    if !stale.is_empty() {
        report.findings.push(finding(
            Check::StaleFeatures,
            Severity::Warning,
            format!(
                "merged into {} and still on origin: {} (delete them: git push origin --delete NAME)",
                ws.config.environments[0].branch,
                stale.join(", ")
            ),
        ));
    }
}

fn protection(ws: &Snapshot, report: &mut RepoReport) {
    use crate::forge::Connection;
    let forge = match crate::engine::pull_request::connect(&ws.repo, &ws.config) {
        Ok(Connection::Ready(forge)) => forge,
        Ok(missing) => {
            let why = missing.missing().unwrap_or_default();
            report.skipped.insert(Check::Protection, why);
            return;
        }
        Err(e) => {
            report
                .findings
                .push(finding(Check::Protection, Severity::Error, format!("{e}")));
            return;
        }
    };
    let first = &ws.config.environments[0].branch;
    match forge.project() {
        Ok(p) if &p.default_branch != first => report.findings.push(finding(
            Check::Protection,
            Severity::Error,
            format!("the default branch is {} but the first environment is {first}: make {first} the default branch", p.default_branch),
        )),
        Ok(_) => {}
        Err(e) => {
            report.findings.push(finding(Check::Protection, Severity::Error, format!("{e}")));
            return;
        }
    }
    let change = forge.kind().change();
    for env in ws.config.environments.iter().skip(1) {
        match forge.protection(&env.branch) {
            Ok(None) => report.findings.push(finding(
                Check::Protection,
                Severity::Error,
                format!(
                    "{} is not protected: require a {change} with a review before merging",
                    env.branch
                ),
            )),
            Ok(Some(rule)) if rule.required_approvals == 0 => {
                report.findings.push(finding(
                    Check::Protection,
                    Severity::Error,
                    format!(
                        "{} is protected but requires no review: require at least one approval",
                        env.branch
                    ),
                ));
            }
            Ok(Some(rule)) if rule.push_skips_review => {
                report.findings.push(finding(
                    Check::Protection,
                    Severity::Warning,
                    format!(
                        "{} lets {} push directly, skipping the {change} and its review: let only maintainers push (or no one)",
                        env.branch,
                        if rule.push.is_empty() { "anyone with write access".to_owned() } else { rule.push.join(", ") }
                    ),
                ));
            }
            Ok(Some(_)) => {}
            Err(e) => {
                report
                    .findings
                    .push(finding(Check::Protection, Severity::Error, format!("{e}")))
            }
        }
    }
}

/// The environments most repositories have, or the reference's.
fn consistent(reports: &mut [RepoReport], reference: Option<&str>) {
    let reference_envs = match reference {
        Some(r) => reports
            .iter()
            .find(|x| x.repo == r)
            .and_then(|x| x.environments.clone()),
        None => {
            let mut counts: BTreeMap<Vec<(String, String, String)>, usize> = BTreeMap::new();
            for r in reports.iter() {
                if let Some(e) = &r.environments {
                    *counts.entry(e.clone()).or_default() += 1;
                }
            }
            counts.into_iter().max_by_key(|(_, n)| *n).map(|(e, _)| e)
        }
    };
    let Some(want) = reference_envs else { return };
    for r in reports.iter_mut() {
        if let Some(got) = &r.environments {
            if *got != want {
                r.findings.push(finding(
                    Check::ConsistentEnvironments,
                    Severity::Error,
                    format!(
                        "environments {} where {} has {}",
                        describe(got),
                        reference.unwrap_or("the majority"),
                        describe(&want)
                    ),
                ));
                r.ok = false;
            }
        }
    }
}

pub fn run(global: &Global, args: Args, ui: &Ui) -> Result<()> {
    let mut specs: Vec<String> = args.repos.clone();
    let mut reference = None;
    if let Some(file) = &args.workspace {
        let text = std::fs::read_to_string(file).map_err(|e| {
            refused(format!(
                "cannot read the workspace file {}: {e}",
                file.display()
            ))
            .hint("pass an existing file: --workspace repos.yaml")
        })?;
        if let Err(too_deep) = crate::model::nesting::check(text.as_bytes()) {
            return Err(refused(format!(
                "{}:{}:{}: {}",
                file.display(),
                too_deep.line,
                too_deep.column,
                too_deep.message()
            ))
            .hint("a workspace file is `repos: [path-or-url, ...]` with an optional `reference: path-or-url`")
            .into());
        }
        let ws: WorkspaceFile = yaml_serde::from_str(&text).map_err(|e| {
            let at = e.location().map(|l| format!(":{}:{}", l.line(), l.column())).unwrap_or_default();
            refused(format!("{}{at}: {}", file.display(), e.to_string().split(" at line ").next().unwrap_or_default()))
                .hint("a workspace file is `repos: [path-or-url, ...]` with an optional `reference: path-or-url`")
        })?;
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |s: &str| {
            if is_url(s) || Path::new(s).is_absolute() {
                s.to_owned()
            } else {
                base.join(s).to_string_lossy().into_owned()
            }
        };
        if ws.repos.is_empty() {
            return Err(refused(format!("{} names no repositories", file.display()))
                .hint("list them: repos: [path-or-url, ...]")
                .into());
        }
        reference = ws.reference.as_deref().map(resolve);
        specs.extend(ws.repos.iter().map(|s| resolve(s)));
    }
    if specs.is_empty() {
        specs.push(global.dir().to_string_lossy().into_owned());
    }
    let mut seen = BTreeSet::new();
    let mut unique = Vec::new();
    for s in specs {
        if seen.insert(s.clone()) {
            unique.push(s);
        } else {
            ui.warn(&format!("{s} is listed twice: checked once"));
        }
    }
    if let Some(r) = &reference {
        if !seen.contains(r) {
            return Err(
                refused(format!("the reference {r} is not among the repositories"))
                    .hint("add it to `repos:` or fix `reference:`")
                    .into(),
            );
        }
    }
    let given = args.config.as_deref().map(given_config).transpose()?;
    let progress = ui.progress(unique.len() as u64, "checking");
    // Repositories are checked in parallel; each one on one thread.
    git::single_threaded(unique.len() > 1);
    let workers = unique.len().clamp(1, 4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(spec) = unique.get(i) else { break };
                let report = check_repo(spec, given.as_ref());
                results.lock().expect("results").push((i, report));
                progress.inc();
            });
        }
    });
    progress.finish();
    let mut results = results.into_inner().context("collecting the results")?;
    results.sort_by_key(|(i, _)| *i);
    let mut reports: Vec<RepoReport> = results.into_iter().map(|(_, r)| r).collect();
    consistent(&mut reports, reference.as_deref());
    let failed = reports.iter().any(|r| !r.ok);
    let report = Report { repos: reports };
    if args.json {
        ui.json(&report)?;
    } else {
        ui.out(&render(&report, ui))?;
        // Why protection was not checked, once (the first repository's reason).
        if let Some(why) = report
            .repos
            .iter()
            .find_map(|r| r.skipped.get(&Check::Protection))
        {
            let fix = crate::forge::Kind::ALL
                .into_iter()
                .find(|kind| *why == kind.no_token())
                .map(|kind| format!(": set {}", kind.token_places()))
                .unwrap_or_default();
            ui.note(&format!("protection: not checked ({why}{fix})."));
        }
    }
    if failed {
        return Err(Exit(crate::error::exit::FOUND).into());
    }
    Ok(())
}

/// A table, repository by check, then the findings under it.
pub fn render(report: &Report, ui: &Ui) -> String {
    let mut header = vec![("REPOSITORY".to_owned(), Tone::Bold)];
    header.extend(Check::ALL.iter().map(|c| (c.to_string(), Tone::Bold)));
    let mut rows = vec![header];
    for r in &report.repos {
        let mut row = vec![(r.repo.clone(), Tone::Plain)];
        for check in Check::ALL {
            let worst = r
                .findings
                .iter()
                .filter(|f| f.check == check)
                .map(|f| f.severity)
                .max();
            row.push(match (worst, r.skipped.contains_key(&check)) {
                (Some(Severity::Error), _) => ("✗".to_owned(), Tone::Bad),
                (Some(Severity::Warning), _) => ("!".to_owned(), Tone::Warn),
                (_, true) => ("-".to_owned(), Tone::Dim),
                _ => ("✓".to_owned(), Tone::Good),
            });
        }
        rows.push(row);
    }
    let mut out = ui::table(ui, &rows);
    for r in &report.repos {
        if r.findings.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{}\n", ui.paint(Tone::Bold, &r.repo)));
        for f in &r.findings {
            let tone = match f.severity {
                Severity::Error => Tone::Bad,
                Severity::Warning => Tone::Warn,
                Severity::Info => Tone::Dim,
            };
            out.push_str(&format!(
                "  {} {}: {}\n",
                ui.paint(tone, f.severity.as_str()),
                f.check,
                f.message
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_and_severities_are_named_in_json_as_the_readme_documents() {
        let names = [
            "branches",
            "consistent-environments",
            "config-same-on-branches",
            "drift",
            "tag-policy",
            "manifests-parse",
            "protection",
            "stale-features",
        ];
        for (check, name) in Check::ALL.into_iter().zip(names) {
            assert_eq!(serde_json::to_value(check).unwrap(), name);
            assert_eq!(check.to_string(), name);
            assert_eq!(serde_json::from_value::<Check>(name.into()).unwrap(), check);
        }
        for (severity, name) in [
            (Severity::Info, "info"),
            (Severity::Warning, "warning"),
            (Severity::Error, "error"),
        ] {
            assert_eq!(serde_json::to_value(severity).unwrap(), name);
            assert_eq!(
                serde_json::from_value::<Severity>(name.into()).unwrap(),
                severity
            );
        }
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Error);
    }

    #[test]
    fn skipped_checks_are_listed_by_id() {
        let mut report = RepoReport {
            repo: "config".to_owned(),
            ok: true,
            findings: Vec::new(),
            skipped: BTreeMap::new(),
            environments: None,
        };
        skip_the_rest(&mut report, "the repository could not be read");
        let json = serde_json::to_string(&report.skipped).unwrap();
        let mut names: Vec<&str> = Check::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        let at: Vec<usize> = names
            .iter()
            .map(|n| json.find(&format!("\"{n}\"")).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{json}");
        let back: BTreeMap<Check, String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report.skipped);
    }
}
