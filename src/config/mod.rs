//! `.gitops.yaml`: types, defaults and validation.
//!
//! Every key is optional; without a file the defaults are the three environments
//! of the practice (dev, stage, prod). A mistake (an unknown key, a wrong type, an
//! unknown tag policy, a duplicate environment, an invalid regex or branch name,
//! an invalid glob) is an error that names the file, line and column and what is
//! accepted.
//!
//! `manifests` lists the globs of the files that are manifests; a glob written
//! with a leading `!` excludes. A path is a manifest when it matches a glob
//! without `!` and none with `!`, whatever their order (see [`crate::config::glob`]).
//! The default, `["**/*.yaml", "**/*.yml", "!charts/*/templates/**",
//! "!.github/**"]`, leaves out Helm chart templates and CI workflow files.
//!
//! `images` lists the team's own images as name globs
//! (`registry.example.com/shop/*`, see [`crate::model::image::ImagePatterns`]). Only
//! they are judged by the environments' tag policies and have their tags pinned
//! per environment; any other image (redis, busybox) is third-party and its tag
//! travels with promotions like any value. Without the key every image is the
//! team's.

pub mod glob;
pub mod newest;
pub mod policy;

use serde::{Deserialize, Serialize};

use crate::config::glob::{Glob, GlobSet};
use crate::config::policy::TagPolicy;
use crate::model::image::ImagePatterns;
use crate::model::nesting;
use crate::model::semdiff::{Pinned, PinnedRule};

/// The file name, at the root of the repository.
pub const FILE: &str = ".gitops.yaml";

/// How a change reaches an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Promotion {
    AutoMerge,
    PullRequest,
}

impl Promotion {
    pub fn as_str(self) -> &'static str {
        match self {
            Promotion::AutoMerge => "auto-merge",
            Promotion::PullRequest => "pull-request",
        }
    }
}

/// One environment, with every default filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub name: String,
    pub branch: String,
    pub tags: TagPolicy,
    pub promotion: Promotion,
    pub confirm: bool,
}

/// Keys that stay with an environment besides image tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedKeys {
    pub files: String,
    pub keys: Vec<String>,
}

/// What the promotion pull (or merge) requests get, under `github:` or
/// `gitlab:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgeOptions {
    /// `OWNER/NAME` (GitHub) or `GROUP[/SUBGROUP…]/PROJECT` (GitLab); from the
    /// `origin` URL when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reviewers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// Which forge hosts the repository: `forge:` in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForgeKind {
    GitHub,
    GitLab,
}

impl ForgeKind {
    /// The name `--json` and the config file use.
    pub fn as_str(self) -> &'static str {
        match self {
            ForgeKind::GitHub => "github",
            ForgeKind::GitLab => "gitlab",
        }
    }
}

/// The forge settings: `forge:` and `host:` (for a host the `origin` URL does
/// not reveal) and the `github:` or `gitlab:` block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForgeConfig {
    /// `forge:`, or `gitlab` when the file has a `gitlab:` block; `None`: from
    /// the `origin` host.
    pub kind: Option<ForgeKind>,
    /// `host:`, the forge's web host (`git.example.com`).
    pub host: Option<String>,
    pub options: ForgeOptions,
}

/// The whole configuration, defaults applied and validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub environments: Vec<Environment>,
    pub manifests: GlobSet,
    pub manifest_patterns: Vec<String>,
    pub pinned: Vec<PinnedKeys>,
    /// What promotion keeps per environment; its `team` is `images`.
    pub pinned_rules: Pinned,
    /// The team's images (`images:`), `None` when the key is absent (every
    /// image is the team's).
    pub images: Option<ImagePatterns>,
    pub forge: ForgeConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    environments: Option<Vec<RawEnvironment>>,
    #[serde(default)]
    manifests: Option<Vec<String>>,
    #[serde(default)]
    images: Option<Vec<String>>,
    #[serde(default)]
    pinned: Option<Vec<PinnedKeys>>,
    #[serde(default)]
    forge: Option<ForgeKind>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    github: Option<ForgeOptions>,
    #[serde(default)]
    gitlab: Option<ForgeOptions>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<TagPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    promotion: Option<Promotion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confirm: Option<bool>,
}

/// The default manifest globs: every YAML file but Helm chart templates and CI
/// workflows.
pub fn default_manifests() -> Vec<String> {
    [
        "**/*.yaml",
        "**/*.yml",
        "!charts/*/templates/**",
        "!.github/**",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The tag policy an environment gets when the config names none.
pub fn default_policy(name: &str, position: usize) -> TagPolicy {
    match (name, position) {
        ("dev" | "development", _) | (_, 0) => TagPolicy::CommitSha,
        ("stage" | "staging" | "qa" | "test" | "uat", _) => TagPolicy::SemverRc,
        ("prod" | "production" | "live", _) => TagPolicy::Semver,
        _ => TagPolicy::Any,
    }
}

/// The promotion mode an environment gets when the config names none.
pub fn default_promotion(position: usize) -> Promotion {
    if position == 0 {
        Promotion::AutoMerge
    } else {
        Promotion::PullRequest
    }
}

/// Builds an environment from its name and position, defaults everywhere.
pub fn default_environment(name: &str, position: usize, count: usize) -> Environment {
    Environment {
        name: name.to_owned(),
        branch: name.to_owned(),
        tags: default_policy(name, position),
        promotion: default_promotion(position),
        confirm: position + 1 == count && count > 1,
    }
}

impl Default for Config {
    fn default() -> Config {
        let names = ["dev", "stage", "prod"];
        let environments = names
            .iter()
            .enumerate()
            .map(|(i, n)| default_environment(n, i, names.len()))
            .collect();
        Config::assemble(
            environments,
            default_manifests(),
            None,
            Vec::new(),
            ForgeConfig::default(),
        )
        .expect("the defaults are valid")
    }
}

/// A configuration error: `file:line:col: message`.
#[derive(Debug)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Where `needle` occurs for the `nth` time (0-based) in `text`, as 1-based line and
/// column; (0, 0) when it does not.
fn locate(text: &str, needle: &regex::Regex, nth: usize) -> (usize, usize) {
    match needle.find_iter(text).nth(nth) {
        Some(m) => {
            let before = &text[..m.start()];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, column)
        }
        None => (0, 0),
    }
}

fn value_regex(key: &str, value: &str) -> regex::Regex {
    regex::Regex::new(&format!(
        r#"\b{}\s*:\s*["']?{}["']?\s*(?:#.*)?$"#,
        regex::escape(key),
        regex::escape(value)
    ))
    .map(|r| {
        regex::RegexBuilder::new(r.as_str())
            .multi_line(true)
            .build()
            .unwrap_or(r)
    })
    .expect("escaped pattern")
}

/// Whether `name` is a valid branch name (`git check-ref-format --branch` rules,
/// and no leading `-`).
/// The longest branch name component git can store: a file name (255 bytes on
/// common file systems) with room for the `.lock` git writes beside it.
pub const MAX_BRANCH_COMPONENT: usize = 250;

pub fn valid_branch_name(name: &str) -> Result<(), String> {
    let shown: String = if name.chars().count() > 60 {
        format!("{}…", name.chars().take(60).collect::<String>())
    } else {
        name.to_owned()
    };
    let bad = |why: &str| Err(format!("`{shown}` is not a valid branch name: {why}"));
    if name.is_empty() {
        return bad("it is empty");
    }
    if name == "HEAD" {
        return bad("`HEAD` names what a repository has checked out, not a branch");
    }
    if let Some(part) = name.split('/').find(|p| p.len() > MAX_BRANCH_COMPONENT) {
        return bad(&format!(
            "a component is {} bytes long; git stores each as a file name, at most {MAX_BRANCH_COMPONENT} bytes",
            part.len()
        ));
    }
    if name.starts_with('-') {
        return bad("it starts with `-`");
    }
    if name == "@" {
        return bad("`@` alone is reserved");
    }
    if name.contains("..") {
        return bad("it contains `..`");
    }
    if name.contains("@{") {
        return bad("it contains `@{`");
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || " ~^:?*[\\\x7f".contains(*c))
    {
        return bad(&format!("it contains {c:?}"));
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return bad("it starts or ends with `/` or has `//`");
    }
    if name.ends_with('.') {
        return bad("it ends with `.`");
    }
    for part in name.split('/') {
        if part.starts_with('.') {
            return bad("a component starts with `.`");
        }
        if part.ends_with(".lock") {
            return bad("a component ends with `.lock`");
        }
    }
    Ok(())
}

/// `forge:`, `host:` and the `github:` or `gitlab:` block, checked together:
/// one block, matching `forge:`; a repository path the forge can have; a bare
/// host name. Errors are `(line, column, message)`.
fn forge_config(
    text: &str,
    kind: Option<ForgeKind>,
    host: Option<String>,
    github: Option<ForgeOptions>,
    gitlab: Option<ForgeOptions>,
) -> Result<ForgeConfig, (usize, usize, String)> {
    let at_key = |key: &str| {
        let (l, c) = locate(
            text,
            &regex::RegexBuilder::new(&format!(r"^{key}\s*:"))
                .multi_line(true)
                .build()
                .expect("plain key"),
            0,
        );
        (l, c)
    };
    let fail = |key: &str, message: String| {
        let (l, c) = at_key(key);
        Err((l, c, message))
    };
    let (options, block) = match (github, gitlab) {
        (Some(_), Some(_)) => {
            return fail(
                "gitlab",
                "both `github:` and `gitlab:` are set: keep the one for the forge that hosts the repository".to_owned(),
            )
        }
        (Some(o), None) => (o, Some(ForgeKind::GitHub)),
        (None, Some(o)) => (o, Some(ForgeKind::GitLab)),
        (None, None) => (ForgeOptions::default(), None),
    };
    if let (Some(kind), Some(block)) = (kind, block) {
        if kind != block {
            return fail(
                block.as_str(),
                format!(
                    "`forge: {}` but the settings are under `{}:`: write them under `{}:`",
                    kind.as_str(),
                    block.as_str(),
                    kind.as_str()
                ),
            );
        }
    }
    let kind = kind.or(block);
    if let Some(repo) = &options.repository {
        let parts: Vec<_> = repo.trim_end_matches(".git").split('/').collect();
        let empty = parts.iter().any(|p| p.trim().is_empty());
        let gitlab = block == Some(ForgeKind::GitLab);
        let why = if gitlab && (parts.len() < 2 || empty) {
            Some(format!(
                "gitlab.repository `{repo}` must be GROUP/PROJECT (subgroups allowed: group/sub/project)"
            ))
        } else if !gitlab && (parts.len() != 2 || empty) {
            Some(format!(
                "github.repository `{repo}` must be OWNER/NAME, e.g. shop/config (a GitLab project in a subgroup goes under `gitlab:`)"
            ))
        } else {
            None
        };
        if let Some(why) = why {
            let (l, c) = locate(text, &value_regex("repository", repo), 0);
            return Err((l, c, why));
        }
    }
    let host = match host.map(|h| h.trim().to_ascii_lowercase()) {
        Some(h)
            if h.is_empty()
                || h.contains("://")
                || h.contains(['/', '@', ' '])
                || h.starts_with(['.', ':']) =>
        {
            let (l, c) = locate(text, &value_regex("host", &h), 0);
            let (l, c) = if l == 0 { at_key("host") } else { (l, c) };
            return Err((
                l,
                c,
                format!("host `{h}` must be the forge's host name, e.g. git.example.com (no scheme, no path)"),
            ));
        }
        h => h,
    };
    if host.is_some() && kind.is_none() {
        return fail(
            "host",
            "`host:` needs `forge:` (github or gitlab) to say what runs there".to_owned(),
        );
    }
    Ok(ForgeConfig {
        kind,
        host,
        options,
    })
}

impl Config {
    fn assemble(
        environments: Vec<Environment>,
        manifest_patterns: Vec<String>,
        image_patterns: Option<Vec<String>>,
        pinned: Vec<PinnedKeys>,
        forge: ForgeConfig,
    ) -> Result<Config, String> {
        let manifests = GlobSet::new(&manifest_patterns)?;
        if manifests.is_empty() {
            return Err(
                "`manifests` lists only exclusions (`!`): list the files to include too, e.g. \"**/*.yaml\""
                    .to_owned(),
            );
        }
        let images = match &image_patterns {
            Some(patterns) if patterns.is_empty() => {
                return Err("`images` is empty: list the team's images, e.g. \"registry.example.com/shop/*\", or remove the key to treat every image as the team's".to_owned())
            }
            Some(patterns) => {
                let images = ImagePatterns::new(patterns)?;
                if patterns.iter().all(|p| p.starts_with('!')) {
                    return Err("`images` lists only exclusions (`!`): list the team's images too, e.g. \"registry.example.com/shop/*\"".to_owned());
                }
                Some(images)
            }
            None => None,
        };
        let mut rules = Vec::new();
        for p in &pinned {
            rules.push(PinnedRule {
                files: GlobSet::new(std::slice::from_ref(&p.files))?,
                keys: p.keys.clone(),
            });
        }
        Ok(Config {
            environments,
            manifests,
            manifest_patterns,
            pinned,
            pinned_rules: Pinned {
                rules,
                team: images.clone(),
            },
            images,
            forge,
        })
    }

    /// Parses the file's text. `file` names it in errors (`.gitops.yaml`, or
    /// `origin/dev:.gitops.yaml` when read from a branch).
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let err = |line: usize, column: usize, message: String| ConfigError {
            file: file.to_owned(),
            line,
            column,
            message,
        };
        if let Err(too_deep) = nesting::check(text.as_bytes()) {
            return Err(err(too_deep.line, too_deep.column, too_deep.message()));
        }
        let raw: Option<RawConfig> = yaml_serde::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            let mut message = e.to_string();
            if let Some(i) = message.find(" at line ") {
                message.truncate(i);
            }
            err(line, column, message)
        })?;
        let raw = match raw {
            Some(raw) => raw,
            None => return Ok(Config::default()),
        };
        let raw_envs = match raw.environments {
            None => Config::default()
                .environments
                .iter()
                .map(|e| RawEnvironment {
                    name: e.name.clone(),
                    branch: None,
                    tags: None,
                    promotion: None,
                    confirm: None,
                })
                .collect(),
            Some(envs) if envs.is_empty() => {
                let (line, column) = locate(
                    text,
                    &regex::Regex::new(r"(?m)^environments\s*:").expect("regex"),
                    0,
                );
                return Err(err(
                    line,
                    column,
                    "`environments` is empty: list at least one environment, in promotion order"
                        .into(),
                ));
            }
            Some(envs) => envs,
        };
        let count = raw_envs.len();
        let mut environments: Vec<Environment> = Vec::new();
        let mut explicit_branches: Vec<String> = Vec::new();
        for (i, raw_env) in raw_envs.into_iter().enumerate() {
            let name_at = |nth: usize| locate(text, &value_regex("name", &raw_env.name), nth);
            if raw_env.name.trim().is_empty() {
                let (l, c) = name_at(0);
                return Err(err(l, c, "an environment has an empty `name`".into()));
            }
            if let Err(why) = valid_branch_name(&raw_env.name) {
                let (l, c) = name_at(0);
                return Err(err(l, c, format!("environment name: {why}")));
            }
            if environments.iter().any(|e| e.name == raw_env.name) {
                let (l, c) = name_at(1);
                return Err(err(
                    l,
                    c,
                    format!(
                        "duplicate environment `{}`: each environment appears once, in promotion order",
                        raw_env.name
                    ),
                ));
            }
            let mut env = default_environment(&raw_env.name, i, count);
            if let Some(branch) = raw_env.branch {
                if let Err(why) = valid_branch_name(&branch) {
                    let (l, c) = locate(text, &value_regex("branch", &branch), 0);
                    return Err(err(l, c, why));
                }
                if let Some(other) = environments.iter().find(|e| e.branch == branch) {
                    // This entry's `branch:`, after the earlier entries that wrote the same.
                    let nth = explicit_branches.iter().filter(|b| **b == branch).count();
                    let (l, c) = locate(text, &value_regex("branch", &branch), nth);
                    return Err(err(
                        l,
                        c,
                        format!(
                            "branch `{branch}` is already the branch of environment `{}`",
                            other.name
                        ),
                    ));
                }
                explicit_branches.push(branch.clone());
                env.branch = branch;
            }
            if let Some(tags) = raw_env.tags {
                env.tags = tags;
            }
            if let Some(promotion) = raw_env.promotion {
                env.promotion = promotion;
            }
            if let Some(confirm) = raw_env.confirm {
                env.confirm = confirm;
            }
            environments.push(env);
        }
        let manifest_patterns = raw.manifests.unwrap_or_else(default_manifests);
        let pinned = raw.pinned.unwrap_or_default();
        // A bad glob: point at where it is written.
        let globs = manifest_patterns
            .iter()
            .chain(raw.images.iter().flatten())
            .map(|p| p.strip_prefix('!').unwrap_or(p))
            .chain(pinned.iter().map(|p| p.files.as_str()));
        for glob in globs {
            if let Err(why) = Glob::new(glob) {
                // As written: plain or single-quoted, or double-quoted with
                // each `\` doubled.
                let written = format!(
                    "{}|{}",
                    regex::escape(glob),
                    regex::escape(&glob.replace('\\', r"\\"))
                );
                let (l, c) = locate(text, &regex::Regex::new(&written).expect("escaped"), 0);
                return Err(err(l, c, why));
            }
        }
        let forge = forge_config(text, raw.forge, raw.host, raw.github, raw.gitlab)
            .map_err(|(l, c, m)| err(l, c, m))?;
        let images_empty = raw.images.as_ref().is_some_and(|i| i.is_empty());
        Config::assemble(environments, manifest_patterns, raw.images, pinned, forge).map_err(
            |message| {
                // An empty or exclusions-only list: point at its key.
                let key = if images_empty || message.starts_with("`images`") {
                    "images"
                } else {
                    "manifests"
                };
                let (l, c) = locate(
                    text,
                    &regex::Regex::new(&format!(r"(?m)^{key}\s*:")).expect("regex"),
                    0,
                );
                err(l, c, message)
            },
        )
    }

    /// The environment called `name`, or an error listing the configured ones.
    pub fn environment(&self, name: &str) -> Result<(usize, &Environment), crate::error::Failure> {
        self.environments
            .iter()
            .enumerate()
            .find(|(_, e)| e.name == name)
            .ok_or_else(|| {
                crate::error::refused(format!("environment `{name}` is not configured")).hint(
                    format!("configured environments: {}", self.names().join(", ")),
                )
            })
    }

    /// The environment names, in promotion order.
    pub fn names(&self) -> Vec<&str> {
        self.environments.iter().map(|e| e.name.as_str()).collect()
    }

    /// The environment before `index` in the promotion order.
    pub fn upstream(&self, index: usize) -> Option<&Environment> {
        index.checked_sub(1).map(|i| &self.environments[i])
    }

    /// Whether `path` is a manifest: it matches a `manifests` glob and no
    /// `!` exclusion.
    pub fn is_manifest(&self, path: &str) -> bool {
        self.manifests.is_match(path)
    }

    /// Whether an image (its name, without tag) is one of the team's: there is no
    /// `images:` list (every image is), or a pattern of it matches the name as
    /// written or canonical (`redis` is `docker.io/library/redis`). Only the
    /// team's images are judged by tag policies and pinned per environment.
    pub fn is_team_image(&self, name: &str) -> bool {
        self.images.as_ref().is_none_or(|i| i.is_match(name))
    }

    /// This configuration with `images:` set to `patterns` (`None`: no key).
    pub fn with_images(self, patterns: Option<Vec<String>>) -> Result<Config, String> {
        Config::assemble(
            self.environments,
            self.manifest_patterns,
            patterns,
            self.pinned,
            self.forge,
        )
    }

    /// The YAML text of this configuration, every environment spelled out, the
    /// `manifests` globs (exclusions quoted, as `!` starts a YAML tag) and, when
    /// set, the `images:` list under a comment saying what it means.
    pub fn to_yaml(&self) -> String {
        #[derive(Serialize)]
        struct Head<'a> {
            environments: Vec<RawEnvironment>,
            manifests: &'a [String],
        }
        #[derive(Serialize)]
        struct Images<'a> {
            images: &'a [String],
        }
        #[derive(Serialize)]
        struct Tail<'a> {
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            pinned: &'a [PinnedKeys],
            #[serde(skip_serializing_if = "Option::is_none")]
            forge: Option<ForgeKind>,
            #[serde(skip_serializing_if = "Option::is_none")]
            host: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            github: Option<&'a ForgeOptions>,
            #[serde(skip_serializing_if = "Option::is_none")]
            gitlab: Option<&'a ForgeOptions>,
        }
        let head = Head {
            environments: self
                .environments
                .iter()
                .map(|e| RawEnvironment {
                    name: e.name.clone(),
                    branch: Some(e.branch.clone()),
                    tags: Some(e.tags.clone()),
                    promotion: Some(e.promotion),
                    confirm: Some(e.confirm),
                })
                .collect(),
            manifests: &self.manifest_patterns,
        };
        let mut body = yaml_serde::to_string(&head).expect("config serializes");
        if let Some(images) = &self.images {
            body.push_str(
                "# The team's own images: only they follow the tag policies and keep their\n\
                 # tags per environment; any other image (redis, busybox) travels with\n\
                 # promotions like any value.\n",
            );
            body.push_str(
                &yaml_serde::to_string(&Images {
                    images: images.patterns(),
                })
                .expect("config serializes"),
            );
        }
        let options =
            (self.forge.options != ForgeOptions::default()).then_some(&self.forge.options);
        let gitlab = self.forge.kind == Some(ForgeKind::GitLab);
        let tail = Tail {
            pinned: &self.pinned,
            // `forge: github` goes without saying but with a host.
            forge: self
                .forge
                .kind
                .filter(|k| *k == ForgeKind::GitLab || self.forge.host.is_some()),
            host: self.forge.host.as_deref(),
            github: options.filter(|_| !gitlab),
            gitlab: options.filter(|_| gitlab),
        };
        let tail = yaml_serde::to_string(&tail).expect("config serializes");
        if tail.trim() != "{}" {
            body.push_str(&tail);
        }
        format!("# gitops configuration: environments in promotion order.\n# Reference: see the README of gitops.\n{body}")
    }

    /// A configuration from explicit environments (used by `init`).
    pub fn from_environments(environments: Vec<Environment>) -> Config {
        Config::assemble(
            environments,
            default_manifests(),
            None,
            Vec::new(),
            ForgeConfig::default(),
        )
        .expect("default globs are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, ".gitops.yaml").map_err(|e| e.to_string())
    }

    #[test]
    fn no_file_or_empty_file_gives_the_defaults() {
        for text in ["", "# nothing\n", "{}\n"] {
            let c = parse(text).unwrap();
            assert_eq!(c.names(), ["dev", "stage", "prod"], "{text:?}");
            assert_eq!(c.environments[0].tags, TagPolicy::CommitSha);
            assert_eq!(c.environments[1].tags, TagPolicy::SemverRc);
            assert_eq!(c.environments[2].tags, TagPolicy::Semver);
            assert_eq!(c.environments[0].promotion, Promotion::AutoMerge);
            assert_eq!(c.environments[2].promotion, Promotion::PullRequest);
            assert!(c.environments[2].confirm && !c.environments[1].confirm);
            assert!(c.is_manifest("apps/cart/deployment.yaml") && c.is_manifest("x.yml"));
            assert!(c.images.is_none() && c.is_team_image("redis"), "{text:?}");
        }
    }

    /// A config nested past the parser's limit is refused before parsing (the
    /// parser is quadratic in flow nesting), at the line and column where it gets
    /// too deep.
    #[test]
    fn deep_nesting_is_refused_unparsed() {
        let brackets = format!("environments:\n  - {}\n", "[".repeat(100_000));
        let err = parse(&brackets).unwrap_err();
        assert!(
            err.starts_with(".gitops.yaml:2:131: YAML nested more than 128 levels deep"),
            "{err}"
        );
        let braces = format!("{}1{}\n", "{a: ".repeat(300), "}".repeat(300));
        assert!(parse(&braces).unwrap_err().starts_with(".gitops.yaml:1:"));
    }

    #[test]
    fn what_is_a_manifest() {
        let defaults = Config::default();
        let custom =
            parse("manifests: [\"apps/**/*.yaml\", \"!apps/*/secrets/**\", \"infra/*.yaml\"]\n")
                .unwrap();
        // Escapes, POSIX classes and alternatives, in both YAML quotings.
        let syntax = parse(
            "manifests:\n  - \"\\\\[draft\\\\]/*.yaml\"\n  - 'v[[:digit:]]/*.{yaml,yml}'\n  - '!v[[:digit:]]/\\*.yaml'\n",
        )
        .unwrap();
        // (config, path, a manifest)
        let cases: &[(&Config, &str, bool)] = &[
            (&defaults, "apps/web/deployment.yaml", true),
            (&defaults, "kustomization.yml", true),
            (&defaults, "charts/web/values.yaml", true),
            (&defaults, "charts/web/Chart.yaml", true),
            (&defaults, "charts/web/templates/deployment.yaml", false),
            (&defaults, "deploy/helm/templates/deployment.yaml", true),
            (&defaults, ".github/workflows/ci.yml", false),
            (&defaults, "README.md", false),
            (&custom, "apps/web/deployment.yaml", true),
            (&custom, "apps/web/secrets/db.yaml", false),
            (&custom, "infra/ns.yaml", true),
            (&custom, "other/x.yaml", false),
            (&syntax, "[draft]/x.yaml", true),
            (&syntax, "d/x.yaml", false),
            (&syntax, "v1/x.yml", true),
            (&syntax, "vv/x.yml", false),
            (&syntax, "v1/*.yaml", false),
            (&syntax, "v1/x.yaml", true),
        ];
        for (config, path, want) in cases {
            assert_eq!(
                config.is_manifest(path),
                *want,
                "{path} with {:?}",
                config.manifest_patterns
            );
        }
    }

    #[test]
    fn team_images() {
        let c = parse("images:\n  - \"registry.example.com/shop/*\"\n  - redis\n  - \"!registry.example.com/shop/legacy\"\n").unwrap();
        // (image name, the team's)
        let cases: &[(&str, bool)] = &[
            ("registry.example.com/shop/cart", true),
            ("registry.example.com/shop/legacy", false),
            ("registry.example.com/other/cart", false),
            ("redis", true),
            ("docker.io/library/redis", true),
            ("busybox", false),
            ("bitnami/redis", false),
        ];
        for (name, want) in cases {
            assert_eq!(c.is_team_image(name), *want, "{name}");
            assert_eq!(c.pinned_rules.is_team_image(name), *want, "{name}: pinned");
        }
        let all = Config::default();
        assert!(all.is_team_image("busybox"));
        assert!(all.pinned_rules.team.is_none());
    }

    #[test]
    fn the_documented_example_parses() {
        let c = parse(
            r#"environments:              # in promotion order
  - name: dev
    branch: dev            # default: the name
    tags: commit-sha
    promotion: auto-merge
  - name: stage
    tags: semver-rc
    promotion: pull-request
  - name: prod
    tags: semver
    promotion: pull-request
    confirm: true
manifests: ["**/*.yaml", "**/*.yml", "!charts/*/templates/**"]   # `!` excludes
images:                    # the team's own images
  - "registry.example.com/shop/*"
pinned:
  - files: "apps/*/values.yaml"
    keys: ["replicaCount", "ingress.host"]
github:
  repository: shop/config
  reviewers: [alice, shop/platform]
  labels: [promotion]
"#,
        )
        .unwrap();
        assert_eq!(c.names(), ["dev", "stage", "prod"]);
        assert_eq!(c.forge.options.repository.as_deref(), Some("shop/config"));
        assert_eq!(c.pinned[0].keys, ["replicaCount", "ingress.host"]);
        assert_eq!(c.pinned_rules.rules.len(), 1);
        assert!(!c.is_manifest("charts/web/templates/x.yaml"));
        assert!(c.is_team_image("registry.example.com/shop/cart"));
        assert!(!c.is_team_image("redis"));
    }

    #[test]
    fn mistakes_name_file_line_column_and_what_is_accepted() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "enviroments:\n  - name: dev\n",
                ".gitops.yaml:1:1:",
                &["unknown field `enviroments`", "environments"],
            ),
            (
                "environments:\n  - name: dev\n    tag: semver\n",
                ".gitops.yaml:3:5:",
                &["unknown field `tag`", "tags"],
            ),
            (
                "environments:\n  - name: dev\n    tags: semvr\n",
                ".gitops.yaml:3:11:",
                &["semvr", "semver-rc", "commit-sha"],
            ),
            (
                "environments:\n  - name: dev\n    tags: \"regex:([a-z\"\n",
                ".gitops.yaml:3:",
                &["regex"],
            ),
            (
                "environments:\n  - name: dev\n    promotion: merge\n",
                ".gitops.yaml:3:16:",
                &["auto-merge", "pull-request"],
            ),
            (
                "environments:\n  - name: dev\n    confirm: yes please\n",
                ".gitops.yaml:3:14:",
                &["bool"],
            ),
            (
                "environments:\n  - name: dev\n  - name: stage\n  - name: dev\n",
                ".gitops.yaml:4:5:",
                &["duplicate environment `dev`"],
            ),
            ("environments: []\n", ".gitops.yaml:1:1:", &["empty"]),
            ("environments: dev\n", ".gitops.yaml:1:15:", &["sequence"]),
            (
                "environments:\n  - name: dev\n    branch: \"a..b\"\n",
                ".gitops.yaml:3:5:",
                &["not a valid branch name"],
            ),
            (
                "environments:\n  - name: a\n  - name: b\n    branch: a\n",
                ".gitops.yaml:4:5:",
                &["already the branch of environment `a`"],
            ),
            (
                "environments:\n  - name: a\n    branch: main\n  - name: b\n    branch: main\n",
                ".gitops.yaml:5:5:",
                &["already the branch of environment `a`"],
            ),
            (
                "environments:\n  - name: dev\n  - name: HEAD\n",
                ".gitops.yaml:3:",
                &["`HEAD` names what a repository has checked out"],
            ),
            (
                "environments:\n  - name: dev\n    branch: HEAD\n",
                ".gitops.yaml:3:",
                &["`HEAD` names what a repository has checked out"],
            ),
            (
                "github:\n  repository: justaname\n",
                ".gitops.yaml:2:3:",
                &["OWNER/NAME"],
            ),
            (
                "github:\n  repository: shop/team/config\n",
                ".gitops.yaml:2:3:",
                &["OWNER/NAME", "goes under `gitlab:`"],
            ),
            (
                "gitlab:\n  repository: config\n",
                ".gitops.yaml:2:3:",
                &["GROUP/PROJECT", "subgroups allowed"],
            ),
            (
                "forge: gitlab\ngithub:\n  labels: [x]\n",
                ".gitops.yaml:2:1:",
                &["`forge: gitlab` but the settings are under `github:`"],
            ),
            (
                "github: {}\ngitlab: {}\n",
                ".gitops.yaml:2:1:",
                &["both `github:` and `gitlab:`"],
            ),
            (
                "forge: bitbucket\n",
                ".gitops.yaml:1:",
                &["github", "gitlab"],
            ),
            (
                "forge: gitlab\nhost: https://git.example.com\n",
                ".gitops.yaml:2:",
                &["host `https://git.example.com` must be the forge's host name"],
            ),
            (
                "host: git.example.com\n",
                ".gitops.yaml:1:1:",
                &["`host:` needs `forge:`"],
            ),
            (
                "manifests: \"*.yaml\"\n",
                ".gitops.yaml:1:12:",
                &["sequence"],
            ),
            (
                "pinned:\n  - files: x\n    key: [a]\n",
                ".gitops.yaml:3:5:",
                &["unknown field `key`"],
            ),
            (
                "imgaes: [\"shop/*\"]\n",
                ".gitops.yaml:1:1:",
                &["unknown field `imgaes`", "images"],
            ),
            ("images: \"shop/*\"\n", ".gitops.yaml:1:9:", &["sequence"]),
            (
                "images:\n  - name: shop/cart\n",
                ".gitops.yaml:2:5:",
                &["string"],
            ),
            (
                "images:\n  - \"shop/[a\"\n",
                ".gitops.yaml:2:6:",
                &["invalid glob \"shop/[a\"", "unclosed '['"],
            ),
            (
                "images: []\n",
                ".gitops.yaml:1:1:",
                &["`images` is empty", "remove the key"],
            ),
            (
                "images: [\"!redis\"]\n",
                ".gitops.yaml:1:1:",
                &["only exclusions"],
            ),
            (
                "manifests:\n  - \"!charts/**\"\n",
                ".gitops.yaml:1:1:",
                &["only exclusions", "**/*.yaml"],
            ),
            (
                "manifests:\n  - \"**/*.yaml\"\n  - \"!apps/{a,b\"\n",
                ".gitops.yaml:3:",
                &["unclosed '{'"],
            ),
            (
                "pinned:\n  - files: \"apps/[x\"\n    keys: [a]\n",
                ".gitops.yaml:2:",
                &["invalid glob \"apps/[x\""],
            ),
            (
                "manifests:\n  - \"apps/[[:alpah:]]/*.yaml\"\n",
                ".gitops.yaml:2:6:",
                &[
                    "invalid glob \"apps/[[:alpah:]]/*.yaml\"",
                    "[:alpah:] is not a POSIX class",
                    "[:alpha:]",
                ],
            ),
            (
                "manifests:\n  - \"**/*.yaml\"\n  - \"apps\\\\\"\n",
                ".gitops.yaml:3:6:",
                &[
                    "invalid glob \"apps\\\\\"",
                    "a trailing '\\' escapes nothing",
                ],
            ),
            (
                "pinned:\n  - files: 'apps/\\*/v[:digit:]'\n    keys: [a]\n",
                ".gitops.yaml:2:13:",
                &["write [[:digit:]]"],
            ),
            (
                "images:\n  - \"shop/*\"\n  - \"!shop/{a,b\"\n",
                ".gitops.yaml:3:7:",
                &["invalid glob \"shop/{a,b\"", "unclosed '{'"],
            ),
        ];
        for (text, location, words) in cases {
            let e = parse(text).expect_err(text);
            assert!(e.starts_with(location), "{text:?}: {e}");
            for w in *words {
                assert!(e.contains(w), "{text:?}: `{e}` lacks `{w}`");
            }
            assert!(!e.contains('\n'), "one line: {e}");
        }
    }

    #[test]
    fn environments_get_defaults_by_name_and_position() {
        let c = parse("environments:\n  - name: development\n  - name: qa\n    branch: release/qa\n  - name: production\n").unwrap();
        assert_eq!(c.environments[1].branch, "release/qa");
        assert_eq!(c.environments[1].tags, TagPolicy::SemverRc);
        assert_eq!(c.environments[2].tags, TagPolicy::Semver);
        assert!(c.environments[2].confirm);
        assert_eq!(c.upstream(1).unwrap().name, "development");
        assert!(c.upstream(0).is_none());
    }

    #[test]
    fn to_yaml_round_trips() {
        let c = Config::default();
        let yaml = c.to_yaml();
        let again = parse(&yaml).unwrap();
        assert_eq!(again.environments, c.environments);
        assert_eq!(again.manifest_patterns, default_manifests(), "{yaml}");
        assert!(again.images.is_none(), "{yaml}");
        assert!(!yaml.contains("images"), "{yaml}");

        let patterns = vec![
            "registry.example.com/shop/*".to_owned(),
            "!registry.example.com/shop/legacy".to_owned(),
        ];
        let c = Config::default()
            .with_images(Some(patterns.clone()))
            .unwrap();
        let yaml = c.to_yaml();
        let again = parse(&yaml).unwrap();
        assert_eq!(
            again.images.as_ref().map(|i| i.patterns()),
            Some(patterns.as_slice()),
            "{yaml}"
        );
        assert_eq!(again.manifest_patterns, default_manifests(), "{yaml}");
        assert!(yaml.contains("# The team's own images"), "{yaml}");
        assert!(!again.is_team_image("redis"));

        // The forge's settings come back as written.
        for text in [
            "forge: gitlab\nhost: git.example.com\ngitlab:\n  repository: shop/team/config\n  labels: [promotion]\n",
            "gitlab:\n  reviewers: [john_smith]\n",
            "forge: github\nhost: ghe.example.com\n",
        ] {
            let c = parse(text).unwrap();
            let again = parse(&c.to_yaml()).unwrap();
            assert_eq!(again.forge, c.forge, "{text}\n{}", c.to_yaml());
        }
        let gitlab = parse("gitlab:\n  reviewers: [john_smith]\n").unwrap();
        assert_eq!(gitlab.forge.kind, Some(ForgeKind::GitLab));

        let mut c =
            parse("github:\n  reviewers: [alice]\npinned:\n  - files: a.yaml\n    keys: [x]\n")
                .unwrap();
        c = c.with_images(Some(vec!["shop/*".to_owned()])).unwrap();
        let again = parse(&c.to_yaml()).unwrap();
        assert_eq!(again.forge.options.reviewers, ["alice"]);
        assert_eq!(again.pinned, c.pinned);
        assert!(again.is_team_image("shop/cart"));
    }

    #[test]
    fn branch_names_follow_check_ref_format() {
        for ok in ["dev", "feature/add-redis", "a.b", "x_y-1"] {
            assert!(valid_branch_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "-x", "a..b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "/a", "a/",
            "a//b", ".a", "a/.b", "a.lock", "a.", "@", "a@{b",
        ] {
            assert!(valid_branch_name(bad).is_err(), "{bad:?}");
        }
        assert!(valid_branch_name(&"a".repeat(250)).is_ok());
        let long = "a".repeat(5000);
        let why = valid_branch_name(&long).unwrap_err();
        assert!(why.contains("5000 bytes long"), "{why}");
        assert!(why.len() < 250, "the name is not echoed whole: {why}");
        assert!(valid_branch_name(&format!("feature/{}", "b".repeat(251))).is_err());
        assert!(valid_branch_name("HEAD").is_err());
        assert!(
            valid_branch_name("release/HEAD").is_ok(),
            "only the whole name is reserved"
        );
    }
}
