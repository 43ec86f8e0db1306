//! The forge: the pull (or merge) requests, their checks and the branch
//! protection of the repository's host, behind one seam.
//!
//! The rest of the program speaks only this module's neutral types — a
//! [`Change`] (GitHub's pull request, GitLab's merge request), its
//! [`ChangeChecks`], a branch's [`Protection`], an [`AutoMerge`] outcome — and
//! the [`Forge`] trait; [`locate`] says which forge and project a repository has
//! (from `.gitops.yaml` and the `origin` URL) and [`connect`] makes its client.
//!
//! Each forge lives in its own file ([`github`], [`gitlab`]) over the one HTTP
//! layer ([`crate::http`]: the client, proxies, retries with backoff,
//! timeouts). Uses [`crate::error`], [`crate::http`] and the config's forge
//! settings; nothing above.
//!
//! Adding a forge (Gitea/Forgejo, Bitbucket Data Center) is one new file: a
//! [`Kind`] variant (in the config, `forge: NAME`), its token discovery and API
//! base, a client implementing [`Forge`] — finding the open change request from
//! a branch into another in one call, opening one (a rerun or a retried create
//! that had in fact succeeded returns the open one), retitling, labels,
//! reviewers, auto-merge as the forge does it, the checks of the open one,
//! reading a branch's protection — with its errors as
//! [`Failure`](crate::error::Failure)s that never contain the token; then an
//! arm in [`connect`] and in [`Kind`]'s words, and tests against a double whose
//! bodies are the forge's documented examples.

mod endpoint;
pub mod github;
pub mod gitlab;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::config::ForgeConfig;
pub use crate::config::ForgeKind as Kind;
use crate::error::{refused, Failure};

impl Kind {
    /// The forge's name in sentences: `GitHub`, `GitLab`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::GitHub => "GitHub",
            Kind::GitLab => "GitLab",
        }
    }

    /// What it calls a change request.
    pub fn change(self) -> &'static str {
        match self {
            Kind::GitHub => "pull request",
            Kind::GitLab => "merge request",
        }
    }

    /// The same at the start of a sentence or as a label.
    pub fn change_title(self) -> &'static str {
        match self {
            Kind::GitHub => "Pull request",
            Kind::GitLab => "Merge request",
        }
    }

    /// How it writes a change request's number: `#12`, `!12`.
    pub fn reference(self, number: u64) -> String {
        match self {
            Kind::GitHub => format!("#{number}"),
            Kind::GitLab => format!("!{number}"),
        }
    }

    /// Both forges, for reading back what [`Kind::no_token`] wrote.
    pub const ALL: [Kind; 2] = [Kind::GitHub, Kind::GitLab];

    /// "no GitLab token": why nothing was asked of the forge.
    pub fn no_token(self) -> String {
        format!("no {self} token")
    }

    /// The variables and command a token comes from, for "no token" notes.
    pub fn token_places(self) -> &'static str {
        match self {
            Kind::GitHub => "GH_TOKEN, GITHUB_TOKEN or `gh auth login`",
            Kind::GitLab => "GITLAB_TOKEN, GITLAB_ACCESS_TOKEN, OAUTH_TOKEN or `glab auth login`",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------
// Tokens

/// A forge token. Its `Debug` shows `Token(***)`; it has no `Display`, so it
/// cannot end up in a message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Token {
        Token(value.into())
    }

    /// The value, for the one header that carries it.
    fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with the token cut out.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Where the token came from, named in errors (never the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// An environment variable (`GH_TOKEN`, `GITLAB_TOKEN`, …).
    Env(&'static str),
    /// The output of `gh auth token --hostname HOST`.
    GhCli,
    /// The token `glab` keeps for the host (`glab auth token`, or `glab config
    /// get token`).
    GlabCli,
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Env(var) => f.write_str(var),
            TokenSource::GhCli => f.write_str("`gh auth token`"),
            TokenSource::GlabCli => f.write_str("`glab`'s stored token"),
        }
    }
}

/// The first non-empty of `vars` in `env`, else what `cli` prints (as
/// `source`), trimmed. `env` and `cli` are injected so that discovery is tested
/// apart.
fn discover(
    vars: &[&'static str],
    env: impl Fn(&str) -> Option<String>,
    cli: impl FnOnce() -> Option<String>,
    source: TokenSource,
) -> Option<(Token, TokenSource)> {
    for var in vars {
        if let Some(value) = env(var) {
            let value = value.trim();
            if !value.is_empty() {
                return Some((Token(value.to_owned()), TokenSource::Env(var)));
            }
        }
    }
    let value = cli()?;
    let value = value.trim();
    (!value.is_empty()).then(|| (Token(value.to_owned()), source))
}

/// Runs a CLI that prints a token, with no stdin and no stderr; `None` when it
/// is not installed, fails, or prints nothing.
fn cli_token(program: &str, args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    use std::process::{Command, Stdio};
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

// ---------------------------------------------------------------------------
// Where the repository is

/// A repository (GitHub) or project (GitLab) on a forge's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoId {
    /// The web host, lowercase (`github.com`, `git.example.com`); an https port
    /// other than 443 is kept, an ssh port is not.
    pub host: String,
    /// The owner (GitHub) or namespace, subgroups included (GitLab:
    /// `group/sub`).
    pub owner: String,
    pub name: String,
}

/// Where the repository name came from, named when the forge does not know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoSource {
    /// `github.repository` or `gitlab.repository` in `.gitops.yaml`.
    Config,
    /// Parsed from the `origin` remote's URL.
    Origin,
    /// GitLab CI's `CI_PROJECT_PATH`.
    CiProjectPath,
}

impl RepoSource {
    /// "from github.repository in .gitops.yaml", "from the origin URL", …
    pub fn describe(self, kind: Kind) -> String {
        match self {
            RepoSource::Config => format!("from {}.repository in .gitops.yaml", kind.as_str()),
            RepoSource::Origin => "from the origin URL".to_owned(),
            RepoSource::CiProjectPath => "from CI_PROJECT_PATH".to_owned(),
        }
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl RepoId {
    /// `github.repository` from the config (`OWNER/NAME`) on `host` (the origin's
    /// host when it is a GitHub URL, else `github.com`).
    pub fn from_config(value: &str, host: &str) -> Result<RepoId, Failure> {
        match split_path(value.trim()).filter(|(owner, _)| !owner.contains('/')) {
            Some((owner, name)) => Ok(RepoId {
                host: host.to_ascii_lowercase(),
                owner,
                name,
            }),
            None => Err(refused(format!(
                "github.repository `{}` in .gitops.yaml is not OWNER/NAME",
                value.trim()
            ))
            .hint("write it as `repository: shop/config`")),
        }
    }

    /// `GROUP[/SUB…]/PROJECT` on `host`; `None` when it is not a project path.
    pub fn from_path(path: &str, host: &str) -> Option<RepoId> {
        let (owner, name) = split_path(path.trim())?;
        Some(RepoId {
            host: host.to_ascii_lowercase(),
            owner,
            name,
        })
    }

    /// The repository's page.
    pub fn web_url(&self) -> String {
        format!("https://{}/{}/{}", self.host, self.owner, self.name)
    }

    /// Whether the owner is a namespace with subgroups (GitLab only).
    pub fn nested(&self) -> bool {
        self.owner.contains('/')
    }

    /// Where a person opens the pull request from `head` into `base` by hand
    /// (GitHub's compare page).
    pub fn compare_url(&self, base: &str, head: &str) -> String {
        format!(
            "{}/compare/{}...{}?expand=1",
            self.web_url(),
            encode(base),
            encode(head)
        )
    }
}

/// `a/b/c` as (`a/b`, `c`): every segment a valid name; `.git` and slashes at
/// the end dropped.
fn split_path(path: &str) -> Option<(String, String)> {
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, name) = path.rsplit_once('/')?;
    (owner.split('/').all(valid_segment) && valid_segment(name))
        .then(|| (owner.to_owned(), name.to_owned()))
}

fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && !s.contains(['/', '\\', ':', '?', '#', '@'])
        && !s.chars().any(char::is_whitespace)
}

/// The repository a remote URL names: scp-like (`git@github.com:shop/config.git`),
/// `ssh://`, `git://`, `http(s)://`, with or without user, port, `.git` and a
/// trailing slash; GitLab's subgroups (`group/sub/project`) included. `None`
/// for local paths and for anything that is not `OWNER/NAME` on a host.
pub fn parse_remote(url: &str) -> Option<RepoId> {
    let url = url.trim();
    let (host, path) = if let Some((scheme, rest)) = url.split_once("://") {
        let keep_port = match scheme.to_ascii_lowercase().as_str() {
            "https" | "http" => true,
            "ssh" | "git+ssh" | "ssh+git" | "git" => false,
            _ => return None,
        };
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match host.split_once(':') {
            Some((h, port)) if !keep_port || port == "443" || port == "80" => h,
            _ => host,
        };
        (host, path)
    } else {
        // scp-like `[user@]host:path`; a slash before the colon makes it a path.
        let (before, path) = url.split_once(':')?;
        if before.contains('/') || before.contains('\\') {
            return None;
        }
        let host = before.rsplit_once('@').map_or(before, |(_, h)| h);
        if host.len() < 2 {
            return None; // `C:\…`
        }
        (host, path.trim_start_matches('/'))
    };
    if host.is_empty() {
        return None;
    }
    RepoId::from_path(path, host)
}

/// Which forge hosts `host` when nothing says so: github.com and GHE.com
/// tenancies are GitHub; gitlab.com, a host named `gitlab.…`, the host GitLab
/// CI runs on (`CI_SERVER_HOST`) and any project in a subgroup are GitLab; any
/// other host is taken for GitHub Enterprise Server.
pub fn infer_kind(repo: &RepoId, env: &impl Fn(&str) -> Option<String>) -> Kind {
    let host = repo.host.to_ascii_lowercase();
    let bare = host.split(':').next().unwrap_or(&host);
    if bare == "github.com" || bare.ends_with(".ghe.com") {
        return Kind::GitHub;
    }
    let ci_host = env("CI_SERVER_HOST").map(|h| h.trim().to_ascii_lowercase());
    if bare == "gitlab.com"
        || bare.starts_with("gitlab.")
        || repo.nested()
        || ci_host.as_deref() == Some(bare)
    {
        return Kind::GitLab;
    }
    Kind::GitHub
}

/// The forge and project of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub kind: Kind,
    pub repo: RepoId,
    pub source: RepoSource,
}

impl Located {
    /// Where a person opens the change request from `head` into `base` by hand.
    pub fn open_by_hand_url(&self, base: &str, head: &str) -> String {
        match self.kind {
            Kind::GitHub => self.repo.compare_url(base, head),
            Kind::GitLab => format!(
                "{}/-/merge_requests/new?merge_request%5Bsource_branch%5D={}&merge_request%5Btarget_branch%5D={}",
                self.repo.web_url(),
                encode(head),
                encode(base)
            ),
        }
    }
}

/// The forge and project: the config's `forge:`, `host:` and repository, else
/// what the `origin` URL says (see [`infer_kind`]); in GitLab CI,
/// `CI_PROJECT_PATH` when neither names a project. `None` when nothing names
/// one (a local origin, say). `env` is the process environment, injected.
pub fn locate(
    origin: Option<&str>,
    config: &ForgeConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Located>, Failure> {
    let from_origin = origin.and_then(parse_remote);
    let host = config
        .host
        .clone()
        .or_else(|| from_origin.as_ref().map(|r| r.host.clone()));
    let named = match &config.options.repository {
        Some(value) => {
            let default_host = match config.kind {
                Some(Kind::GitLab) => "gitlab.com",
                _ => "github.com",
            };
            let host = host.clone().unwrap_or_else(|| default_host.to_owned());
            let repo = if config.kind == Some(Kind::GitLab) {
                RepoId::from_path(value, &host).ok_or_else(|| {
                    refused(format!(
                        "gitlab.repository `{value}` in .gitops.yaml is not GROUP/PROJECT"
                    ))
                    .hint("write it as `repository: shop/config` or `repository: shop/team/config`")
                })?
            } else {
                RepoId::from_config(value, &host)?
            };
            Some((repo, RepoSource::Config))
        }
        None => match (from_origin, &config.host) {
            (Some(mut repo), Some(host)) => {
                repo.host = host.clone();
                Some((repo, RepoSource::Origin))
            }
            (Some(repo), None) => Some((repo, RepoSource::Origin)),
            (None, _) => None,
        },
    };
    let named = match named {
        Some(named) => Some(named),
        // GitLab CI names the project; its host is CI_SERVER_HOST.
        None if config.kind != Some(Kind::GitHub) => env("CI_PROJECT_PATH")
            .zip(host.clone().or_else(|| env("CI_SERVER_HOST")))
            .and_then(|(path, host)| RepoId::from_path(&path, &host))
            .map(|repo| (repo, RepoSource::CiProjectPath)),
        None => None,
    };
    let Some((repo, source)) = named else {
        return Ok(None);
    };
    let kind = config.kind.unwrap_or_else(|| infer_kind(&repo, &env));
    if kind == Kind::GitHub && repo.nested() {
        return Err(refused(format!(
            "{repo} ({}) is a project in a subgroup, which GitHub does not have",
            source.describe(kind)
        ))
        .hint("set `forge: gitlab` in .gitops.yaml when the repository is on GitLab"));
    }
    Ok(Some(Located { kind, repo, source }))
}

/// Which forge the repository is on, as [`locate`] tells without asking it:
/// for wording only ("pull request", "merge request"), so GitHub's when
/// nothing names one or the config is in error (the command reports that
/// where it matters).
pub fn kind(origin: Option<&str>, config: &ForgeConfig) -> Kind {
    match locate(origin, config, |k| std::env::var(k).ok()) {
        Ok(Some(located)) => located.kind,
        _ => config.kind.unwrap_or(Kind::GitHub),
    }
}

/// What [`connect`] found.
pub enum Connection {
    /// A client, ready.
    Ready(Box<dyn Forge>),
    /// No token for the forge: the change request is opened by hand.
    NoToken(Located),
    /// Nothing names a project on a forge (a local origin, say).
    NoProject,
}

impl Connection {
    /// Why there is no client, for "not asked (…)" notes; `None` when ready.
    pub fn missing(&self) -> Option<String> {
        match self {
            Connection::Ready(_) => None,
            Connection::NoToken(l) => Some(l.kind.no_token()),
            Connection::NoProject => Some(
                "not on a forge: origin is not on GitHub or GitLab and .gitops.yaml names no repository"
                    .to_owned(),
            ),
        }
    }
}

/// The client for the repository whose `origin` URL is `origin`, configured
/// by `config` and the process environment (tokens, API URLs; see [`locate`]),
/// or why there is none.
pub fn connect(origin: Option<&str>, config: &ForgeConfig) -> Result<Connection> {
    let env = |k: &str| std::env::var(k).ok();
    let Some(located) = locate(origin, config, env)? else {
        return Ok(Connection::NoProject);
    };
    Ok(match located.kind {
        Kind::GitHub => match github::GitHub::from_env(located.repo.clone(), located.source)? {
            Some(gh) => Connection::Ready(Box::new(gh)),
            None => Connection::NoToken(located),
        },
        Kind::GitLab => match gitlab::GitLab::from_env(&located, env, gitlab::glab_token)? {
            Some(gl) => Connection::Ready(Box::new(gl)),
            None => Connection::NoToken(located),
        },
    })
}

// ---------------------------------------------------------------------------
// What the forges answer

/// A change request (GitHub's pull request, GitLab's merge request), as the
/// commands need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// GitHub's number, GitLab's `iid`.
    pub number: u64,
    /// Its web page.
    pub url: String,
    /// `open`, `closed`, `merged`.
    pub state: String,
    /// Without GitLab's `Draft:` prefix.
    pub title: String,
    /// Empty when there is none.
    pub body: String,
    pub draft: bool,
    /// The forge's own id for later calls (GitHub's GraphQL node id).
    pub id: String,
    pub head_sha: String,
    /// Who opened it (GitHub refuses to request their review).
    pub author: String,
    /// Its labels' names.
    pub labels: Vec<String>,
    /// Whether auto-merge (GitLab: merge when the pipeline succeeds) is set.
    pub auto_merge: bool,
}

/// An open change request and the state of its checks, as `status --json`
/// reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeChecks {
    pub number: u64,
    pub url: String,
    pub state: String,
    pub draft: bool,
    /// `success`, `pending`, `failure`, `error`, `expected`; `None` without
    /// checks (GitLab: without a pipeline).
    pub checks: Option<String>,
    /// `github` or `gitlab`.
    pub forge: Kind,
}

/// The repository's settings that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub default_branch: String,
    pub web_url: String,
}

/// A protected branch's rules that matter to a promotion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protection {
    /// Approvals a change request needs before it merges.
    pub required_approvals: u64,
    /// Who may push to the branch directly, as the forge names them (GitHub's
    /// restricted users and teams, GitLab's push access levels); empty when
    /// the forge restricts it no further than write access.
    pub push: Vec<String>,
    /// Whether people with plain write access (GitLab's Developer role) may
    /// push to it directly, skipping the change request and its review.
    pub push_skips_review: bool,
}

/// What enabling auto-merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoMerge {
    /// Enabled: the forge merges once the requirements are met.
    Enabled,
    /// The repository does not allow it, or this change request cannot have
    /// it; the forge's message.
    NotAllowed(String),
    /// It can be merged right now (or was), so there is nothing to wait for;
    /// the forge's message.
    Clean(String),
}

/// A change request wanted: `open` makes it.
pub struct NewChange<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub head: &'a str,
    pub base: &'a str,
    pub draft: bool,
}

/// One forge's client for one repository. Methods block (see [`crate::http`]);
/// every error is a [`Failure`](crate::error::Failure) (exit 2 or 3) without
/// the token.
pub trait Forge: Send + Sync {
    fn kind(&self) -> Kind;
    fn repo(&self) -> &RepoId;
    /// HTTP requests sent so far, retries included.
    fn requests(&self) -> usize;
    /// The repository's settings.
    fn project(&self) -> Result<Project>;
    /// The open change request from `head` into `base`, in one request.
    fn find_open(&self, head: &str, base: &str) -> Result<Option<Change>>;
    /// Opens one; when the forge says one is open already, that one.
    fn open(&self, new: &NewChange) -> Result<Change>;
    /// Sets its title and body.
    fn retitle(&self, change: &Change, title: &str, body: &str) -> Result<Change>;
    /// Adds labels (those there stay). Nothing to add: no request.
    fn add_labels(&self, change: &Change, labels: &[String]) -> Result<()>;
    /// Asks for reviews: `alice` is a person, `shop/platform` a team or group
    /// where the forge has them. Nobody to ask: no request.
    fn request_reviewers(&self, change: &Change, reviewers: &[String]) -> Result<Vec<String>>;
    /// Merges it once its requirements are met. Refusals are answers.
    fn enable_auto_merge(&self, change: &Change) -> Result<AutoMerge>;
    /// The open change request from `head` into `base` with its checks.
    fn open_with_checks(&self, head: &str, base: &str) -> Result<Option<ChangeChecks>>;
    /// The protection of `branch`; `None` when it is not protected.
    fn protection(&self, branch: &str) -> Result<Option<Protection>>;
}

// ---------------------------------------------------------------------------
// Small shared pieces

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scheme://authority` of an http(s) URL.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let authority = rest.split('/').next().filter(|a| !a.is_empty())?;
    Some(format!("{scheme}://{authority}"))
}

pub(crate) fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// "in 12 minutes (14:05 UTC)".
pub(crate) fn when(wait: Duration, at_epoch: u64) -> String {
    let secs = wait.as_secs();
    let relative = if secs < 60 {
        format!("in {secs} s")
    } else {
        let minutes = secs.div_ceil(60);
        if minutes < 120 {
            format!("in {minutes} minutes")
        } else {
            format!("in {} h {} min", minutes / 60, minutes % 60)
        }
    };
    let day = at_epoch % 86_400;
    format!("{relative} ({:02}:{:02} UTC)", day / 3600, day % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ForgeOptions;

    #[test]
    fn remotes() {
        let repo = |host: &str, owner: &str, name: &str| {
            Some(RepoId {
                host: host.to_owned(),
                owner: owner.to_owned(),
                name: name.to_owned(),
            })
        };
        let cases = [
            (
                "git@github.com:shop/config.git",
                repo("github.com", "shop", "config"),
            ),
            (
                "git@github.com:shop/config",
                repo("github.com", "shop", "config"),
            ),
            (
                "github.com:shop/config.git/",
                repo("github.com", "shop", "config"),
            ),
            (
                "ssh://git@github.com/shop/config",
                repo("github.com", "shop", "config"),
            ),
            (
                "ssh://git@ghe.example.com:2222/shop/config.git",
                repo("ghe.example.com", "shop", "config"),
            ),
            (
                "git+ssh://git@GitHub.com/shop/config.git",
                repo("github.com", "shop", "config"),
            ),
            (
                "https://github.com/shop/config",
                repo("github.com", "shop", "config"),
            ),
            (
                "https://github.com/shop/config.git",
                repo("github.com", "shop", "config"),
            ),
            (
                "https://github.com/shop/config/",
                repo("github.com", "shop", "config"),
            ),
            (
                "https://github.com:443/shop/config",
                repo("github.com", "shop", "config"),
            ),
            (
                "https://user@ghe.example.com/shop/config",
                repo("ghe.example.com", "shop", "config"),
            ),
            (
                "https://user:pass@ghe.example.com:8443/shop/config.git",
                repo("ghe.example.com:8443", "shop", "config"),
            ),
            (
                "http://ghe.example.com/shop/my.config",
                repo("ghe.example.com", "shop", "my.config"),
            ),
            (
                "git://github.com/shop/config.git",
                repo("github.com", "shop", "config"),
            ),
            (
                "https://gitlab.example.com/group/sub/config.git",
                repo("gitlab.example.com", "group/sub", "config"),
            ),
            (
                "git@gitlab.com:group/sub/deeper/config.git",
                repo("gitlab.com", "group/sub/deeper", "config"),
            ),
            ("https://github.com/shop", None),
            ("https://gitlab.com/group//config", None),
            ("/srv/git/config.git", None),
            ("../config", None),
            ("file:///srv/git/shop/config.git", None),
            ("C:\\repos\\config", None),
            ("", None),
        ];
        for (url, want) in cases {
            assert_eq!(parse_remote(url), want, "{url}");
        }
    }

    #[test]
    fn config_repository() {
        let repo = RepoId::from_config("shop/config", "ghe.example.com").unwrap();
        assert_eq!(repo.to_string(), "shop/config");
        assert_eq!(repo.host, "ghe.example.com");
        assert_eq!(
            repo.compare_url("dev", "feature/x"),
            "https://ghe.example.com/shop/config/compare/dev...feature%2Fx?expand=1"
        );
        for bad in [
            "shop",
            "shop/",
            "/config",
            "shop/config/extra",
            "shop config/x",
            "",
        ] {
            let err = RepoId::from_config(bad, "github.com").unwrap_err();
            assert_eq!(err.exit_code(), crate::error::exit::USAGE, "{bad}");
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_forge_is_the_configs_else_the_hosts() {
        let config = |kind: Option<Kind>, host: Option<&str>, repo: Option<&str>| ForgeConfig {
            kind,
            host: host.map(str::to_owned),
            options: ForgeOptions {
                repository: repo.map(str::to_owned),
                ..ForgeOptions::default()
            },
        };
        let at = |origin: &str, c: &ForgeConfig| {
            locate(Some(origin), c, no_env)
                .unwrap()
                .map(|l| (l.kind, l.repo.host.clone(), l.repo.to_string(), l.source))
        };
        let none = config(None, None, None);
        use Kind::*;
        let gh = |h: &str, p: &str| Some((GitHub, h.to_owned(), p.to_owned(), RepoSource::Origin));
        let gl = |h: &str, p: &str| Some((GitLab, h.to_owned(), p.to_owned(), RepoSource::Origin));
        assert_eq!(
            at("git@github.com:shop/config.git", &none),
            gh("github.com", "shop/config")
        );
        assert_eq!(
            at("https://octo.ghe.com/shop/config", &none),
            gh("octo.ghe.com", "shop/config")
        );
        assert_eq!(
            at("https://ghe.example.com/shop/config", &none),
            gh("ghe.example.com", "shop/config")
        );
        assert_eq!(
            at("git@gitlab.com:shop/config.git", &none),
            gl("gitlab.com", "shop/config")
        );
        assert_eq!(
            at("https://gitlab.example.com/shop/config", &none),
            gl("gitlab.example.com", "shop/config")
        );
        assert_eq!(
            at("https://git.example.com/shop/team/config", &none),
            gl("git.example.com", "shop/team/config")
        );
        // Self-managed GitLab on a host that says nothing: the config says it.
        let self_managed = config(Some(GitLab), Some("git.example.com"), None);
        assert_eq!(
            at("git@ssh-alias:shop/config.git", &self_managed),
            gl("git.example.com", "shop/config")
        );
        assert_eq!(
            at(
                "https://git.example.com/shop/config",
                &config(Some(GitLab), None, None)
            ),
            gl("git.example.com", "shop/config")
        );
        // The config's repository wins over the origin's path.
        assert_eq!(
            at(
                "https://gitlab.com/a/b",
                &config(Some(GitLab), None, Some("shop/team/config"))
            ),
            Some((
                GitLab,
                "gitlab.com".into(),
                "shop/team/config".into(),
                RepoSource::Config
            ))
        );
        // GitLab CI names the project on its host.
        let ci = |k: &str| match k {
            "CI_PROJECT_PATH" => Some("shop/team/config".to_owned()),
            "CI_SERVER_HOST" => Some("git.example.com".to_owned()),
            _ => None,
        };
        let found = locate(Some("/builds/x"), &none, ci).unwrap().unwrap();
        assert_eq!(
            (found.kind, found.repo.host.as_str(), found.source),
            (GitLab, "git.example.com", RepoSource::CiProjectPath)
        );
        let found = locate(Some("https://git.example.com/shop/config"), &none, ci)
            .unwrap()
            .unwrap();
        assert_eq!(found.kind, GitLab);
        // Nothing names one.
        assert_eq!(
            locate(Some("/srv/git/config.git"), &none, no_env).unwrap(),
            None
        );
        assert_eq!(locate(None, &none, no_env).unwrap(), None);
        // GitHub has no subgroups.
        let err = locate(
            Some("https://ghe.example.com/shop/team/config"),
            &config(Some(GitHub), None, None),
            no_env,
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        assert!(err.to_string().contains("subgroup"), "{err}");
    }

    #[test]
    fn merge_requests_are_opened_by_hand_on_gitlab_and_compared_on_github() {
        let repo = RepoId::from_path("shop/team/config", "git.example.com").unwrap();
        let gitlab = Located {
            kind: Kind::GitLab,
            repo: repo.clone(),
            source: RepoSource::Origin,
        };
        assert_eq!(
            gitlab.open_by_hand_url("stage", "gitops/promote-stage"),
            "https://git.example.com/shop/team/config/-/merge_requests/new?merge_request%5Bsource_branch%5D=gitops%2Fpromote-stage&merge_request%5Btarget_branch%5D=stage"
        );
        let github = Located {
            kind: Kind::GitHub,
            ..gitlab
        };
        assert!(github
            .open_by_hand_url("stage", "x")
            .ends_with("/compare/stage...x?expand=1"));
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = Token::new("glpat-verysecret");
        assert_eq!(format!("{token:?}"), "Token(***)");
        assert_eq!(token.redact("a glpat-verysecret b"), "a *** b");
    }

    #[test]
    fn waits_read_well() {
        assert_eq!(
            when(Duration::from_secs(5), 3600 + 65),
            "in 5 s (01:01 UTC)"
        );
        assert_eq!(when(Duration::from_secs(61), 0), "in 2 minutes (00:00 UTC)");
        assert_eq!(
            when(Duration::from_secs(3 * 3600), 86_399),
            "in 3 h 0 min (23:59 UTC)"
        );
    }

    #[test]
    fn encoding() {
        assert_eq!(encode("shop:feature/x y"), "shop%3Afeature%2Fx%20y");
        assert_eq!(encode("v1.2_3-~"), "v1.2_3-~");
        assert_eq!(
            origin_of("https://ghe.example.com/api/v3").as_deref(),
            Some("https://ghe.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:80").as_deref(),
            Some("http://127.0.0.1:80")
        );
        assert_eq!(origin_of("ftp://x/y"), None);
    }
}
