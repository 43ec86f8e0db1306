//! GitHub: pull requests, labels, reviewers, statuses, auto-merge and branch
//! protection. The only code that imports octocrab.
//!
//! Discovery is pure and tested apart: which token ([`discover_token`]), which API
//! and GraphQL URLs ([`api_base`], [`graphql_url`]) and which repository
//! ([`parse_remote`], [`RepoId::from_config`]). [`GitHub`] then makes the calls;
//! its methods block on the process's one current-thread tokio runtime
//! ([`crate::http`]), so the rest of the program stays synchronous. Call them from
//! a thread that is not itself running a tokio runtime; several threads may call
//! at once.
//!
//! Octocrab is used as the HTTP client only (authentication, base URI, headers)
//! over the process's one HTTP client ([`crate::http`]: the connection pool, TLS,
//! proxies, redirects): its own retry layer is not compiled in, and every call goes through
//! [`GitHub::call`], which retries with backoff, honours `retry-after` and the rate
//! limit reset, counts requests and turns GitHub's answers into
//! [`Failure`](crate::error::Failure)s (exit 3) that never contain the token.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use serde::Deserialize;
use serde_json::{json, Value};

use hyper::header::{HeaderValue, ACCEPT, USER_AGENT};
use octocrab::service::middleware::{
    auth_header::AuthHeaderLayer, base_uri::BaseUriLayer, extra_headers::ExtraHeadersLayer,
};

use super::endpoint::Endpoint;
use super::{encode, now_epoch, when};
pub use super::{AutoMerge, RepoId, RepoSource, Token, TokenSource};
use super::{Change, ChangeChecks, Forge, Kind, NewChange, Project, Protection};
use crate::error::remote;
pub use crate::http::RetryPolicy;
use crate::http::{no_answer, root_cause, secret_header, Attempt};

// ---------------------------------------------------------------------------
// Token discovery

/// Whether `host` is a GitHub Enterprise Server host (as `gh` decides it): not
/// github.com and not a GHE.com tenancy (`*.ghe.com`).
pub fn is_enterprise(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host != "github.com" && !is_tenancy(&host)
}

fn is_tenancy(host: &str) -> bool {
    host.ends_with(".ghe.com")
}

/// The token for `host`, in PRODUCT.md's order: `GH_TOKEN`, then `GITHUB_TOKEN`
/// (GitHub Enterprise hosts: `GH_ENTERPRISE_TOKEN`, then
/// `GITHUB_ENTERPRISE_TOKEN`), then what `gh` gives for the host. Empty values
/// are skipped. `env` and `gh` are injected; see [`token_for_host`] for the real
/// ones.
pub fn discover_token(
    host: &str,
    env: impl Fn(&str) -> Option<String>,
    gh: impl Fn(&str) -> Option<String>,
) -> Option<(Token, TokenSource)> {
    let vars: &[&'static str] = if is_enterprise(host) {
        &["GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"]
    } else {
        &["GH_TOKEN", "GITHUB_TOKEN"]
    };
    super::discover(vars, env, || gh(host), TokenSource::GhCli)
}

/// Runs `gh auth token --hostname HOST` with no stdin and no stderr; `None` when
/// gh is not installed, fails, or prints nothing.
pub fn gh_auth_token(host: &str) -> Option<String> {
    super::cli_token(
        "gh",
        &["auth", "token", "--hostname", host],
        &[("GH_PROMPT_DISABLED", "1")],
    )
}

/// [`discover_token`] with the process environment and the real `gh`.
pub fn token_for_host(host: &str) -> Option<(Token, TokenSource)> {
    discover_token(host, |k| std::env::var(k).ok(), gh_auth_token)
}

// ---------------------------------------------------------------------------
// URLs

/// The REST API base: `GITHUB_API_URL` when set, else `https://api.github.com`
/// for github.com, `https://api.HOST` for GHE.com tenancies and
/// `https://HOST/api/v3` for GitHub Enterprise Server. No trailing slash.
pub fn api_base(host: &str, github_api_url: Option<&str>) -> String {
    if let Some(url) = github_api_url.map(str::trim).filter(|u| !u.is_empty()) {
        return url.trim_end_matches('/').to_owned();
    }
    let host = host.to_ascii_lowercase();
    if host == "github.com" {
        "https://api.github.com".to_owned()
    } else if is_tenancy(&host) {
        format!("https://api.{host}")
    } else {
        format!("https://{host}/api/v3")
    }
}

/// The GraphQL endpoint. github.com: `https://api.github.com/graphql`; GitHub
/// Enterprise Server: `https://HOST/api/graphql` (not under `/api/v3`, which is
/// where octocrab's `graphql()` would post). With `GITHUB_API_URL` set:
/// `<base>/graphql`, or `…/api/graphql` when the base ends in `/api/v3` (GitHub
/// Actions on Enterprise Server).
pub fn graphql_url(host: &str, github_api_url: Option<&str>) -> String {
    if let Some(url) = github_api_url.map(str::trim).filter(|u| !u.is_empty()) {
        let url = url.trim_end_matches('/');
        return match url.strip_suffix("/api/v3") {
            Some(root) => format!("{root}/api/graphql"),
            None => format!("{url}/graphql"),
        };
    }
    let host = host.to_ascii_lowercase();
    if host == "github.com" {
        "https://api.github.com/graphql".to_owned()
    } else if is_tenancy(&host) {
        format!("https://api.{host}/graphql")
    } else {
        format!("https://{host}/api/graphql")
    }
}

// ---------------------------------------------------------------------------
// Results

#[derive(Deserialize)]
struct RawPull {
    number: u64,
    html_url: String,
    state: String,
    title: String,
    body: Option<String>,
    #[serde(default)]
    draft: Option<bool>,
    node_id: String,
    head: RawHead,
    #[serde(default)]
    user: Option<RawUser>,
    #[serde(default)]
    labels: Vec<RawLabel>,
    #[serde(default)]
    auto_merge: Option<Value>,
}

#[derive(Deserialize)]
struct RawLabel {
    name: String,
}

#[derive(Deserialize)]
struct RawHead {
    sha: String,
}

#[derive(Deserialize)]
struct RawUser {
    login: String,
}

impl From<RawPull> for Change {
    fn from(raw: RawPull) -> Change {
        Change {
            number: raw.number,
            url: raw.html_url,
            state: raw.state,
            title: raw.title,
            body: raw.body.unwrap_or_default(),
            draft: raw.draft.unwrap_or(false),
            id: raw.node_id,
            head_sha: raw.head.sha,
            author: raw.user.map(|u| u.login).unwrap_or_default(),
            labels: raw.labels.into_iter().map(|l| l.name).collect(),
            auto_merge: raw.auto_merge.is_some_and(|a| !a.is_null()),
        }
    }
}

/// The repository's settings that matter here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Repository {
    pub full_name: String,
    pub default_branch: String,
    pub html_url: String,
    /// Absent when the token may not see the repository's settings.
    #[serde(default)]
    pub allow_auto_merge: Option<bool>,
}

/// How GitHub merges when auto-merge fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMethod {
    Merge,
    Squash,
    Rebase,
}

impl MergeMethod {
    fn graphql(self) -> &'static str {
        match self {
            MergeMethod::Merge => "MERGE",
            MergeMethod::Squash => "SQUASH",
            MergeMethod::Rebase => "REBASE",
        }
    }
}

// ---------------------------------------------------------------------------
// The client

/// What a call was doing, for errors.
enum Scope {
    /// Anything under /repos/OWNER/NAME: a 404 means the repository.
    Repo,
    /// A numbered pull request (or its issue).
    Pull(u64),
    /// The GraphQL endpoint.
    GraphQl,
}

enum Method {
    Get,
    Post,
    Patch,
}

/// One HTTP answer, read whole.
struct Reply {
    status: u16,
    reason: &'static str,
    retry_after: Option<u64>,
    remaining: Option<u64>,
    reset: Option<u64>,
    body: String,
}

impl Reply {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// GitHub's `message`, or the status' reason when the body is not GitHub's.
    fn message(&self) -> String {
        self.json()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| self.reason.to_owned())
    }

    /// The `errors[]` of a validation failure, each as one phrase.
    fn error_details(&self) -> Vec<String> {
        let Some(errors) = self
            .json()
            .and_then(|v| v.get("errors").and_then(Value::as_array).cloned())
        else {
            return Vec::new();
        };
        errors
            .iter()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                _ => match e.get("message").and_then(Value::as_str) {
                    Some(m) => m.to_owned(),
                    None => {
                        let field = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
                        format!("{} {} {}", field("resource"), field("field"), field("code"))
                            .trim()
                            .to_owned()
                    }
                },
            })
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn status_line(&self) -> String {
        format!("{} {}", self.status, self.reason)
    }

    /// A primary rate limit: no requests left until the reset.
    fn exhausted(&self) -> bool {
        self.remaining == Some(0)
    }

    /// 429, or a 403 that is about the rate limit rather than permissions.
    fn rate_limited(&self) -> bool {
        self.status == 429
            || (self.status == 403
                && (self.exhausted()
                    || self.retry_after.is_some()
                    || self.message().to_ascii_lowercase().contains("rate limit")))
    }
}

/// Why the last attempt failed, kept to explain a call that ran out of tries.
enum Failed {
    Transport(String),
    Reply(Reply),
}

/// A client for one repository. Methods block.
#[derive(Debug)]
pub struct GitHub {
    /// Octocrab over the process's one HTTP client, with this repository's base
    /// URI and token.
    client: octocrab::Octocrab,
    graphql_url: String,
    ep: Endpoint,
}

impl GitHub {
    /// A client for `repo` at `api_base` (see [`api_base`], [`graphql_url`]).
    /// Retries follow [`RetryPolicy::from_env`].
    pub fn new(
        api_base: &str,
        graphql_url: &str,
        token: Token,
        token_source: TokenSource,
        repo: RepoId,
        repo_source: RepoSource,
    ) -> Result<GitHub> {
        // Octocrab builds its Authorization header with `parse().unwrap()`:
        // the endpoint refuses a token that is no header value first.
        let ep = Endpoint::new(
            Kind::GitHub,
            (api_base, "GITHUB_API_URL"),
            (token, token_source),
            (repo, repo_source),
        )?;
        let (http, base) = (ep.http, ep.origin.clone());
        let headers = vec![
            (USER_AGENT, HeaderValue::from_static("octocrab")),
            (
                ACCEPT,
                HeaderValue::from_static("application/vnd.github+json"),
            ),
        ];
        let auth = secret_header(&format!("Bearer {}", ep.token.expose()));
        // Octocrab spawns its request buffer on the current runtime.
        let client = {
            let _runtime = http.runtime.enter();
            octocrab::OctocrabBuilder::new_empty()
                .with_service(http.client.clone())
                .with_layer(&ExtraHeadersLayer::new(Arc::new(headers)))
                .with_layer(&BaseUriLayer::new(base.clone()))
                .with_layer(&AuthHeaderLayer::new(auth, base.clone(), base))
                .with_auth(octocrab::AuthState::None)
                .build()
                .unwrap_or_else(|never| match never {})
        };
        Ok(GitHub {
            client,
            graphql_url: graphql_url.trim_end_matches('/').to_owned(),
            ep,
        })
    }

    /// The client for `repo` as the environment configures it (`GITHUB_API_URL`,
    /// the token variables, `gh`); `None` when there is no token.
    pub fn from_env(repo: RepoId, repo_source: RepoSource) -> Result<Option<GitHub>> {
        let Some((token, source)) = token_for_host(&repo.host) else {
            return Ok(None);
        };
        let api_url = std::env::var("GITHUB_API_URL").ok();
        let api = api_base(&repo.host, api_url.as_deref());
        let graphql = graphql_url(&repo.host, api_url.as_deref());
        GitHub::new(&api, &graphql, token, source, repo, repo_source).map(Some)
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> GitHub {
        self.ep.retry = retry;
        self
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> usize {
        self.ep.requests()
    }

    pub fn repo(&self) -> &RepoId {
        &self.ep.repo
    }

    pub fn api_base(&self) -> &str {
        &self.ep.api_base
    }

    pub fn token_source(&self) -> TokenSource {
        self.ep.token_source
    }

    // -- calls ---------------------------------------------------------------

    /// The repository (`GET /repos/OWNER/NAME`).
    pub fn repository(&self) -> Result<Repository> {
        let what = format!("read repository {}", self.ep.repo);
        let reply = self.call(Method::Get, &self.repo_url(""), None, &what)?;
        let reply = self.expect_ok(reply, &what, Scope::Repo)?;
        self.parse(&reply, &what)
    }

    /// The open pull request from `head_branch` (in this repository) into `base`.
    /// One request.
    pub fn find_open_pull(&self, head_branch: &str, base: &str) -> Result<Option<Change>> {
        let what = format!("look for the open pull request from {head_branch} into {base}");
        let url = format!(
            "{}?head={}&base={}&state=open",
            self.repo_url("/pulls"),
            encode(&format!("{}:{head_branch}", self.ep.repo.owner)),
            encode(base)
        );
        let reply = self.call(Method::Get, &url, None, &what)?;
        let reply = self.expect_ok(reply, &what, Scope::Repo)?;
        let pulls: Vec<RawPull> = self.parse(&reply, &what)?;
        Ok(pulls.into_iter().next().map(Change::from))
    }

    /// Opens a pull request from `head_branch` into `base`. When GitHub says one
    /// is already open (a rerun, or a retried create that had in fact succeeded),
    /// that one is returned.
    pub fn create_pull(
        &self,
        title: &str,
        body: &str,
        head_branch: &str,
        base: &str,
        draft: bool,
    ) -> Result<Change> {
        let what = format!("open the pull request from {head_branch} into {base}");
        let payload = json!({
            "title": title,
            "body": body,
            "head": head_branch,
            "base": base,
            "draft": draft,
        });
        let reply = self.call(
            Method::Post,
            &self.repo_url("/pulls"),
            Some(&payload),
            &what,
        )?;
        if reply.status == 422
            && reply
                .error_details()
                .iter()
                .chain(std::iter::once(&reply.message()))
                .any(|m| m.starts_with("A pull request already exists"))
        {
            if let Some(pull) = self.find_open_pull(head_branch, base)? {
                return Ok(pull);
            }
        }
        let reply = self.expect_ok(reply, &what, Scope::Repo)?;
        Ok(self.parse::<RawPull>(&reply, &what)?.into())
    }

    /// Sets a pull request's title and body.
    pub fn update_pull(&self, number: u64, title: &str, body: &str) -> Result<Change> {
        let what = format!("update pull request #{number}");
        let payload = json!({ "title": title, "body": body });
        let url = self.repo_url(&format!("/pulls/{number}"));
        let reply = self.call(Method::Patch, &url, Some(&payload), &what)?;
        let reply = self.expect_ok(reply, &what, Scope::Pull(number))?;
        Ok(self.parse::<RawPull>(&reply, &what)?.into())
    }

    /// Adds labels (labels already there stay; unknown ones are created by
    /// GitHub). Nothing to add: no request.
    pub fn add_labels(&self, number: u64, labels: &[String]) -> Result<()> {
        if labels.is_empty() {
            return Ok(());
        }
        let what = format!("label pull request #{number}");
        let url = self.repo_url(&format!("/issues/{number}/labels"));
        let reply = self.call(
            Method::Post,
            &url,
            Some(&json!({ "labels": labels })),
            &what,
        )?;
        self.expect_ok(reply, &what, Scope::Pull(number))?;
        Ok(())
    }

    /// Requests reviews: `alice` is a user, `shop/platform` the team `platform`
    /// (of the repository's organisation). Nobody to ask: no request.
    pub fn request_reviewers(&self, number: u64, reviewers: &[String]) -> Result<()> {
        let (users, teams) = split_reviewers(reviewers);
        if users.is_empty() && teams.is_empty() {
            return Ok(());
        }
        let what = format!("request reviews on pull request #{number}");
        let url = self.repo_url(&format!("/pulls/{number}/requested_reviewers"));
        let payload = json!({ "reviewers": users, "team_reviewers": teams });
        let reply = self.call(Method::Post, &url, Some(&payload), &what)?;
        self.expect_ok(reply, &what, Scope::Pull(number))?;
        Ok(())
    }

    /// The combined status of a commit or branch: `success`, `pending`,
    /// `failure` or `error` (`pending` when nothing reported).
    pub fn combined_status(&self, reference: &str) -> Result<String> {
        let what = format!("read the status of {reference}");
        let url = self.repo_url(&format!("/commits/{}/status", encode(reference)));
        let reply = self.call(Method::Get, &url, None, &what)?;
        let reply = self.expect_ok(reply, &what, Scope::Repo)?;
        #[derive(Deserialize)]
        struct Combined {
            state: String,
        }
        Ok(self.parse::<Combined>(&reply, &what)?.state)
    }

    /// Enables auto-merge (GraphQL `enablePullRequestAutoMerge`). A repository
    /// that does not allow it, or a pull request that can be merged right now, is
    /// an answer, not an error.
    pub fn enable_auto_merge(&self, pull_node_id: &str, method: MergeMethod) -> Result<AutoMerge> {
        let what = "enable auto-merge".to_owned();
        let payload = json!({
            "query": "mutation($id: ID!, $method: PullRequestMergeMethod!) { \
                enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method}) { \
                pullRequest { autoMergeRequest { enabledAt mergeMethod } } } }",
            "variables": { "id": pull_node_id, "method": method.graphql() },
        });
        let reply = self.call(Method::Post, &self.graphql_url, Some(&payload), &what)?;
        let reply = self.expect_ok(reply, &what, Scope::GraphQl)?;
        let value: Value = self.parse(&reply, &what)?;
        let messages: Vec<String> = value
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e.get("message").and_then(Value::as_str))
                    .map(|m| self.redact(m))
                    .collect()
            })
            .unwrap_or_default();
        if messages.is_empty() {
            return Ok(AutoMerge::Enabled);
        }
        let joined = messages.join("; ");
        let lower = joined.to_ascii_lowercase();
        if lower.contains("auto merge is not allowed")
            || lower.contains("auto-merge is not allowed")
        {
            return Ok(AutoMerge::NotAllowed(joined));
        }
        if lower.contains("clean status") {
            return Ok(AutoMerge::Clean(joined));
        }
        Err(remote(format!("GitHub refused to {what}: {joined}"))
            .hint("check the pull request on GitHub; `gh pr merge --auto` shows the same answer")
            .into())
    }

    /// The open pull request from `head_branch` into `base` with the combined
    /// state of its checks (`SUCCESS`, `PENDING`, `FAILURE`, ...; `None` when it
    /// has none) — one GraphQL request.
    pub fn open_pull_with_checks(
        &self,
        head_branch: &str,
        base: &str,
    ) -> Result<Option<ChangeChecks>> {
        let what = format!("look for the open pull request from {head_branch} into {base}");
        let payload = json!({
            "query": "query($owner: String!, $name: String!, $head: String!, $base: String!) { \
                repository(owner: $owner, name: $name) { \
                pullRequests(headRefName: $head, baseRefName: $base, states: OPEN, first: 1) { \
                nodes { number url state isDraft \
                commits(last: 1) { nodes { commit { statusCheckRollup { state } } } } } } } }",
            "variables": { "owner": self.ep.repo.owner, "name": self.ep.repo.name, "head": head_branch, "base": base },
        });
        let reply = self.call(Method::Post, &self.graphql_url, Some(&payload), &what)?;
        let reply = self.expect_ok(reply, &what, Scope::GraphQl)?;
        let value: Value = self.parse(&reply, &what)?;
        if let Some(errors) = value.get("errors").and_then(Value::as_array) {
            let messages: Vec<String> = errors
                .iter()
                .filter_map(|e| e.get("message").and_then(Value::as_str))
                .map(|m| self.redact(m))
                .collect();
            if !messages.is_empty() {
                return Err(
                    remote(format!("GitHub could not {what}: {}", messages.join("; ")))
                        .hint(format!(
                            "check that the token from {} can read {}",
                            self.ep.token_source, self.ep.repo
                        ))
                        .into(),
                );
            }
        }
        let node = value
            .pointer("/data/repository/pullRequests/nodes/0")
            .cloned();
        let Some(node) = node else {
            return Ok(None);
        };
        Ok(Some(ChangeChecks {
            forge: Kind::GitHub,
            number: node.get("number").and_then(Value::as_u64).unwrap_or(0),
            url: node
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            state: node
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase(),
            draft: node
                .get("isDraft")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            checks: node
                .pointer("/commits/nodes/0/commit/statusCheckRollup/state")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase),
        }))
    }

    /// The protection of `branch`, or `None` when it is not protected. Reading it
    /// needs admin rights on the repository.
    pub fn branch_protection(&self, branch: &str) -> Result<Option<Value>> {
        let what = format!("read the protection of branch {branch}");
        let url = self.repo_url(&format!("/branches/{}/protection", encode(branch)));
        let reply = self.call(Method::Get, &url, None, &what)?;
        if reply.status == 404 && reply.message() == "Branch not protected" {
            return Ok(None);
        }
        let reply = self.expect_ok(reply, &what, Scope::Repo)?;
        self.parse(&reply, &what).map(Some)
    }

    // -- plumbing ------------------------------------------------------------

    fn repo_url(&self, rest: &str) -> String {
        format!(
            "{}/repos/{}/{}{rest}",
            self.ep.api_base,
            encode(&self.ep.repo.owner),
            encode(&self.ep.repo.name)
        )
    }

    fn redact(&self, text: &str) -> String {
        self.ep.redact(text)
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, reply: &Reply, what: &str) -> Result<T> {
        serde_json::from_str(&reply.body).map_err(|e| {
            remote(format!(
                "could not {what}: GitHub's answer was not understood ({e})"
            ))
            .hint(format!("check that {} is a GitHub API", self.ep.api_base))
            .into()
        })
    }

    /// Sends one request with retries. Returns the first answer that is not to be
    /// retried (any 2xx or 4xx but rate limits); errors when the tries run out or
    /// GitHub asks for a longer wait than the policy allows.
    fn call(&self, method: Method, url: &str, body: Option<&Value>, what: &str) -> Result<Reply> {
        let method = &method;
        self.ep
            .http
            .runtime
            .block_on(self.ep.retry.run(|attempt, limit| async move {
                self.ep.sent();
                match tokio::time::timeout(limit, self.send(method, url, body)).await {
                    Err(_) => Attempt::Retry(Failed::Transport(no_answer(limit)), None),
                    Ok(Err(cause)) => Attempt::Retry(Failed::Transport(cause), None),
                    Ok(Ok(reply)) if reply.status >= 500 => {
                        let wait = reply.retry_after.map(Duration::from_secs);
                        Attempt::Retry(Failed::Reply(reply), wait)
                    }
                    Ok(Ok(reply)) if reply.rate_limited() => {
                        let wait = if let Some(secs) = reply.retry_after {
                            Duration::from_secs(secs)
                        } else if let (true, Some(reset)) = (reply.exhausted(), reply.reset) {
                            Duration::from_secs(reset.saturating_sub(now_epoch()))
                        } else {
                            // GitHub: without either header, wait at least a minute.
                            Duration::from_secs(60)
                                .min(self.ep.retry.max_wait)
                                .max(self.ep.retry.backoff(attempt))
                        };
                        Attempt::Retry(Failed::Reply(reply), Some(wait))
                    }
                    Ok(Ok(reply)) => Attempt::Done(reply),
                }
            }))
            .map_err(|gave_up| self.give_up(gave_up.failed, gave_up.attempts, gave_up.wait, what))
    }

    async fn send(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let response = match method {
            Method::Get => self.client._get(url).await,
            Method::Post => self.client._post(url, body).await,
            Method::Patch => self.client._patch(url, body).await,
        }
        .map_err(|e| root_cause(&e))?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        // Seconds or an HTTP-date (RFC 9110), rounded up to whole seconds.
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::http::retry::retry_after(v, SystemTime::now()))
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
        let (remaining, reset) = (header("x-ratelimit-remaining"), header("x-ratelimit-reset"));
        let body = self
            .client
            .body_to_string(response)
            .await
            .map_err(|e| root_cause(&e))?;
        Ok(Reply {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or(""),
            retry_after,
            remaining,
            reset,
            body,
        })
    }

    /// The error for a call whose last try failed.
    fn give_up(&self, failed: Failed, attempts: u32, wait: Duration, what: &str) -> anyhow::Error {
        let tries = Endpoint::tries(attempts);
        let failure = match failed {
            Failed::Transport(cause) => self.ep.unreachable(&cause, attempts),
            Failed::Reply(reply) if reply.rate_limited() && reply.exhausted() => {
                let when = match reply.reset {
                    Some(reset) => format!(
                        "; it resets {}",
                        when(Duration::from_secs(reset.saturating_sub(now_epoch())), reset)
                    ),
                    None => String::new(),
                };
                remote(format!(
                    "GitHub's API rate limit for the token from {} is used up{when}",
                    self.ep.token_source
                ))
                .hint("wait for the reset and run the command again")
            }
            Failed::Reply(reply) if reply.rate_limited() => remote(format!(
                "GitHub's secondary rate limit stopped the requests{tries} ({}); try again {}",
                self.redact(&reply.message()),
                when(wait, now_epoch() + wait.as_secs())
            ))
            .hint("wait a few minutes and run the command again"),
            Failed::Reply(reply) => remote(format!(
                "GitHub failed to {what}: {}{tries}",
                reply.status_line()
            ))
            .hint("GitHub may be having trouble (https://www.githubstatus.com); run the command again later"),
        };
        failure.into()
    }

    /// The answer if it is a success, else its error.
    fn expect_ok(&self, reply: Reply, what: &str, scope: Scope) -> Result<Reply> {
        if reply.ok() {
            return Ok(reply);
        }
        let message = self.redact(&reply.message());
        let failure = match reply.status {
            401 => remote(format!(
                "GitHub rejected the token from {} ({} {message})",
                self.ep.token_source, reply.status
            ))
            .hint(self.ep.token_hint()),
            404 => match scope {
                Scope::Repo => remote(format!(
                    "repository {} not found on GitHub ({})",
                    self.ep.repo,
                    self.ep.source()
                ))
                .hint(self.ep.repo_hint()),
                Scope::Pull(number) => remote(format!(
                    "pull request #{number} not found in {} ({})",
                    self.ep.repo,
                    self.ep.source()
                ))
                .hint(self.ep.repo_hint()),
                Scope::GraphQl => remote(format!(
                    "could not {what}: GitHub has no GraphQL API at {}",
                    self.graphql_url
                ))
                .hint("check GITHUB_API_URL"),
            },
            422 => {
                let details = reply
                    .error_details()
                    .into_iter()
                    .map(|d| self.redact(&d))
                    .collect::<Vec<_>>();
                let mut text = message;
                if !details.is_empty() {
                    text = format!("{text}: {}", details.join("; "));
                }
                remote(format!("GitHub refused to {what}: {text}"))
                    .hint("fix what GitHub names above and run the command again")
            }
            403 => remote(format!("GitHub refused to {what}: {message} (403)")).hint(format!(
                "the token from {} needs write access to {} (pull requests, issues and contents)",
                self.ep.token_source, self.ep.repo
            )),
            _ => remote(format!(
                "GitHub refused to {what}: {message} ({})",
                reply.status_line()
            ))
            .hint("run the command again; if it keeps failing, check the repository on GitHub"),
        };
        Err(failure.into())
    }
}

/// The seam: each call is the inherent method of the same name's, with
/// GitHub's shapes turned into the neutral ones.
impl Forge for GitHub {
    fn kind(&self) -> Kind {
        Kind::GitHub
    }

    fn repo(&self) -> &RepoId {
        &self.ep.repo
    }

    fn requests(&self) -> usize {
        GitHub::requests(self)
    }

    fn project(&self) -> Result<Project> {
        let r = self.repository()?;
        Ok(Project {
            default_branch: r.default_branch,
            web_url: r.html_url,
        })
    }

    fn find_open(&self, head: &str, base: &str) -> Result<Option<Change>> {
        self.find_open_pull(head, base)
    }

    fn open(&self, new: &NewChange) -> Result<Change> {
        self.create_pull(new.title, new.body, new.head, new.base, new.draft)
    }

    fn retitle(&self, change: &Change, title: &str, body: &str) -> Result<Change> {
        self.update_pull(change.number, title, body)
    }

    fn add_labels(&self, change: &Change, labels: &[String]) -> Result<()> {
        GitHub::add_labels(self, change.number, labels)
    }

    fn request_reviewers(&self, change: &Change, reviewers: &[String]) -> Result<Vec<String>> {
        GitHub::request_reviewers(self, change.number, reviewers)?;
        Ok(Vec::new())
    }

    fn enable_auto_merge(&self, change: &Change) -> Result<AutoMerge> {
        GitHub::enable_auto_merge(self, &change.id, MergeMethod::Merge)
    }

    fn open_with_checks(&self, head: &str, base: &str) -> Result<Option<ChangeChecks>> {
        self.open_pull_with_checks(head, base)
    }

    fn protection(&self, branch: &str) -> Result<Option<Protection>> {
        Ok(self.branch_protection(branch)?.map(|rule| Protection {
            required_approvals: rule
                .pointer("/required_pull_request_reviews/required_approving_review_count")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            push: ["users", "teams"]
                .iter()
                .flat_map(|k| {
                    rule.pointer(&format!("/restrictions/{k}"))
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                })
                .filter_map(|who| {
                    who.get("login")
                        .or_else(|| who.get("slug"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect(),
            // Required reviews hold every push to a pull request (admins aside).
            push_skips_review: rule.get("required_pull_request_reviews").is_none(),
        }))
    }
}

/// Users and team slugs: `org/team` is a team.
pub fn split_reviewers(reviewers: &[String]) -> (Vec<String>, Vec<String>) {
    let mut users = Vec::new();
    let mut teams = Vec::new();
    for r in reviewers {
        match r.split_once('/') {
            Some((_, team)) => teams.push(team.to_owned()),
            None => users.push(r.clone()),
        }
    }
    (users, teams)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn no_gh(_: &str) -> Option<String> {
        None
    }

    fn discovered(host: &str, vars: &[(&str, &str)], gh: Option<&str>) -> Option<TokenSource> {
        let gh = gh.map(str::to_owned);
        discover_token(host, env(vars), |_| gh.clone()).map(|(_, s)| s)
    }

    #[test]
    fn token_order() {
        use TokenSource::*;
        let all = [
            ("GH_TOKEN", "a"),
            ("GITHUB_TOKEN", "b"),
            ("GH_ENTERPRISE_TOKEN", "c"),
            ("GITHUB_ENTERPRISE_TOKEN", "d"),
        ];
        // host, environment, what gh prints, the source chosen
        type Case<'a> = (
            &'a str,
            &'a [(&'a str, &'a str)],
            Option<&'a str>,
            Option<TokenSource>,
        );
        let cases: &[Case] = &[
            ("github.com", &all, Some("g"), Some(Env("GH_TOKEN"))),
            (
                "github.com",
                &all[1..],
                Some("g"),
                Some(Env("GITHUB_TOKEN")),
            ),
            ("github.com", &all[2..], Some("g"), Some(GhCli)),
            ("github.com", &all[2..], None, None),
            (
                "github.com",
                &[("GH_TOKEN", ""), ("GITHUB_TOKEN", "b")],
                None,
                Some(Env("GITHUB_TOKEN")),
            ),
            ("github.com", &[("GH_TOKEN", "  \n")], Some("\n"), None),
            ("GitHub.com", &all, None, Some(Env("GH_TOKEN"))),
            ("octo.ghe.com", &all, None, Some(Env("GH_TOKEN"))),
            (
                "ghe.example.com",
                &all,
                None,
                Some(Env("GH_ENTERPRISE_TOKEN")),
            ),
            ("ghe.example.com", &all[..1], None, None),
            (
                "ghe.example.com",
                &all[3..],
                None,
                Some(Env("GITHUB_ENTERPRISE_TOKEN")),
            ),
            ("ghe.example.com", &all[..2], Some("g\n"), Some(GhCli)),
        ];
        for (host, vars, gh, want) in cases {
            assert_eq!(discovered(host, vars, *gh), *want, "{host} {vars:?} {gh:?}");
        }
    }

    #[test]
    fn token_is_trimmed_and_gh_gets_the_host() {
        let asked = std::cell::RefCell::new(Vec::new());
        let (token, source) = discover_token("ghe.example.com", no_gh_env, |h| {
            asked.borrow_mut().push(h.to_owned());
            Some("gho_abc\n".to_owned())
        })
        .unwrap();
        assert_eq!(token, Token::new("gho_abc"));
        assert_eq!(source, TokenSource::GhCli);
        assert_eq!(*asked.borrow(), ["ghe.example.com"]);
        let (token, _) =
            discover_token("github.com", env(&[("GH_TOKEN", " t1 \n")]), no_gh).unwrap();
        assert_eq!(token, Token::new("t1"));
    }

    fn no_gh_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = Token::new("ghp_verysecret");
        assert_eq!(format!("{token:?}"), "Token(***)");
        let found = discover_token("github.com", env(&[("GH_TOKEN", "ghp_verysecret")]), no_gh);
        assert!(!format!("{found:?}").contains("verysecret"));
    }

    #[test]
    fn urls() {
        let cases: &[(&str, Option<&str>, &str, &str)] = &[
            (
                "github.com",
                None,
                "https://api.github.com",
                "https://api.github.com/graphql",
            ),
            (
                "GitHub.com",
                Some(""),
                "https://api.github.com",
                "https://api.github.com/graphql",
            ),
            (
                "ghe.example.com",
                None,
                "https://ghe.example.com/api/v3",
                "https://ghe.example.com/api/graphql",
            ),
            (
                "ghe.example.com:8443",
                None,
                "https://ghe.example.com:8443/api/v3",
                "https://ghe.example.com:8443/api/graphql",
            ),
            (
                "octo.ghe.com",
                None,
                "https://api.octo.ghe.com",
                "https://api.octo.ghe.com/graphql",
            ),
            (
                "github.com",
                Some("https://api.github.com"),
                "https://api.github.com",
                "https://api.github.com/graphql",
            ),
            (
                "github.com",
                Some("http://127.0.0.1:4321/"),
                "http://127.0.0.1:4321",
                "http://127.0.0.1:4321/graphql",
            ),
            (
                "ghe.example.com",
                Some("https://ghe.example.com/api/v3"),
                "https://ghe.example.com/api/v3",
                "https://ghe.example.com/api/graphql",
            ),
            (
                "github.com",
                Some("http://127.0.0.1:4321/api/v3/"),
                "http://127.0.0.1:4321/api/v3",
                "http://127.0.0.1:4321/api/graphql",
            ),
        ];
        for (host, env, api, graphql) in cases {
            assert_eq!(api_base(host, *env), *api, "{host} {env:?}");
            assert_eq!(graphql_url(host, *env), *graphql, "{host} {env:?}");
        }
    }

    #[test]
    fn reviewers_split() {
        let (users, teams) =
            split_reviewers(&["alice".into(), "shop/platform".into(), "bob".into()]);
        assert_eq!(users, ["alice", "bob"]);
        assert_eq!(teams, ["platform"]);
    }
}
