//! A stateful GitLab double: one project's merge requests (list filtered by
//! state, source and target branch; create; read; update with title,
//! description, `add_labels` and `reviewer_ids`; merge when the pipeline
//! succeeds, accepted or refused), users by username, the project, its
//! protected branches and approval rules — kept across runs of the binary.
//! Every body is a documented example (`tests/fixtures/gitlab/README.md`)
//! with the merge request's own fields set; errors use GitLab's documented
//! `{"message": …}` envelope.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use super::Served;

/// A GitLab response body as GitLab documents it:
/// `tests/fixtures/gitlab/NAME.json`.
pub fn fixture(name: &str) -> Value {
    let file = format!(
        "{}/tests/fixtures/gitlab/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// GitLab's error envelope (`error-401.json`'s shape) with `message`.
fn error(status: u16, message: &str) -> ResponseTemplate {
    let mut body = fixture("error-401");
    body["message"] = json!(message);
    ResponseTemplate::new(status).set_body_json(body)
}

/// One merge request as the double keeps it.
#[derive(Clone, Debug, Default)]
pub struct Stored {
    pub iid: u64,
    /// As GitLab keeps it: a draft's starts with `Draft: `.
    pub title: String,
    pub description: String,
    pub source: String,
    pub target: String,
    pub labels: Vec<String>,
    pub reviewer_ids: Vec<u64>,
    pub auto_merge: bool,
    /// The head pipeline's status; `None`: no pipeline.
    pub pipeline: Option<String>,
    /// Opened from a fork (the documented example's source project 2).
    pub fork: bool,
}

/// What `PUT …/merge` answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Set to merge when the pipeline succeeds.
    Accept,
    /// 405 Method Not Allowed: the merge request cannot merge.
    Refuse,
}

/// The project's state.
#[derive(Clone)]
pub struct Project {
    /// `shop/team/config`.
    pub path: Arc<str>,
    pub host: Arc<str>,
    open: Arc<Mutex<Vec<Stored>>>,
    merge: Merge,
    default_branch: Arc<str>,
    protected: Arc<[String]>,
}

impl Project {
    /// `/api/v4/projects/shop%2Fteam%2Fconfig`.
    pub fn base(&self) -> String {
        format!("/api/v4/projects/{}", self.path.replace('/', "%2F"))
    }

    pub fn open(&self) -> Vec<Stored> {
        self.open.lock().unwrap().clone()
    }

    /// Adds a merge request as if someone opened it earlier.
    pub fn insert(&self, mut mr: Stored) {
        let mut open = self.open.lock().unwrap();
        mr.iid = open.len() as u64 + 1;
        open.push(mr);
    }

    /// Sets every open merge request's head pipeline status.
    pub fn set_pipeline(&self, status: &str) {
        for mr in self.open.lock().unwrap().iter_mut() {
            mr.pipeline = Some(status.to_owned());
        }
    }

    fn web_url(&self, iid: u64) -> String {
        format!("https://{}/{}/-/merge_requests/{iid}", self.host, self.path)
    }

    /// `template` (a documented example) describing `mr`.
    fn render(&self, mr: &Stored, mut t: Value) -> Value {
        t["iid"] = json!(mr.iid);
        t["id"] = json!(1000 + mr.iid);
        t["title"] = json!(mr.title);
        t["description"] = json!(mr.description);
        t["state"] = json!("opened");
        t["source_branch"] = json!(mr.source);
        t["target_branch"] = json!(mr.target);
        t["labels"] = json!(mr.labels);
        let draft = mr.title.starts_with("Draft:");
        t["draft"] = json!(draft);
        t["work_in_progress"] = json!(draft);
        t["merge_when_pipeline_succeeds"] = json!(mr.auto_merge);
        t["web_url"] = json!(self.web_url(mr.iid));
        // The documented examples' project is 3 and their source project 2.
        t["project_id"] = json!(3);
        t["target_project_id"] = json!(3);
        t["source_project_id"] = json!(if mr.fork { 2 } else { 3 });
        let users = fixture("users-by-username");
        t["reviewers"] = json!(users
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| mr.reviewer_ids.contains(&u["id"].as_u64().unwrap()))
            .collect::<Vec<_>>());
        if t.get("head_pipeline").is_some() {
            t["head_pipeline"] = match &mr.pipeline {
                Some(status) => {
                    let mut p = t["head_pipeline"].clone();
                    p["status"] = json!(status);
                    p
                }
                None => Value::Null,
            };
        }
        t
    }

    fn find(&self, iid: u64) -> Option<Stored> {
        self.open().into_iter().find(|m| m.iid == iid)
    }
}

/// The merge request number in a request's path (`…/merge_requests/N[/merge]`).
fn iid(request: &Request) -> u64 {
    let segments: Vec<&str> = request.url.path().split('/').collect();
    let at = segments
        .iter()
        .position(|s| *s == "merge_requests")
        .unwrap();
    segments[at + 1].parse().unwrap()
}

fn query(request: &Request) -> HashMap<String, String> {
    request.url.query_pairs().into_owned().collect()
}

fn asked(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}

struct List(Project);
impl Respond for List {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let q = query(request);
        let item = fixture("mr-list")[0].clone();
        let found: Vec<Value> = self
            .0
            .open()
            .iter()
            .filter(|m| {
                q.get("state").map(String::as_str) == Some("opened")
                    && q.get("source_branch") == Some(&m.source)
                    && q.get("target_branch") == Some(&m.target)
            })
            .map(|m| self.0.render(m, item.clone()))
            .collect();
        ResponseTemplate::new(200).set_body_json(found)
    }
}

struct Create(Project);
impl Respond for Create {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let a = asked(request);
        let text = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
        let (source, target) = (text("source_branch"), text("target_branch"));
        let mut open = self.0.open.lock().unwrap();
        if let Some(m) = open
            .iter()
            .find(|m| !m.fork && m.source == source && m.target == target)
        {
            let message = format!(
                "Another open merge request already exists for this source branch: !{}",
                m.iid
            );
            drop(open);
            return error(409, &message);
        }
        let mr = Stored {
            iid: open.len() as u64 + 1,
            title: text("title"),
            description: text("description"),
            source,
            target,
            ..Stored::default()
        };
        open.push(mr.clone());
        ResponseTemplate::new(201).set_body_json(self.0.render(&mr, fixture("mr-create")))
    }
}

struct Single(Project);
impl Respond for Single {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match self.0.find(iid(request)) {
            Some(mr) => {
                ResponseTemplate::new(200).set_body_json(self.0.render(&mr, fixture("mr-single")))
            }
            None => error(404, "404 Not found"),
        }
    }
}

struct Update(Project);
impl Respond for Update {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let a = asked(request);
        let n = iid(request);
        let mut open = self.0.open.lock().unwrap();
        let Some(mr) = open.iter_mut().find(|m| m.iid == n) else {
            drop(open);
            return error(404, "404 Not found");
        };
        if let Some(title) = a["title"].as_str() {
            mr.title = title.to_owned();
        }
        if let Some(d) = a["description"].as_str() {
            mr.description = d.to_owned();
        }
        if let Some(labels) = a["add_labels"].as_str() {
            for l in labels.split(',').filter(|l| !l.is_empty()) {
                if !mr.labels.iter().any(|x| x == l) {
                    mr.labels.push(l.to_owned());
                }
            }
        }
        if let Some(ids) = a["reviewer_ids"].as_array() {
            mr.reviewer_ids = ids.iter().filter_map(Value::as_u64).collect();
        }
        let mr = mr.clone();
        drop(open);
        ResponseTemplate::new(200).set_body_json(self.0.render(&mr, fixture("mr-update")))
    }
}

struct MergeWhenPipelineSucceeds(Project);
impl Respond for MergeWhenPipelineSucceeds {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if self.0.merge == Merge::Refuse {
            return error(405, "405 Method Not Allowed");
        }
        let a = asked(request);
        assert!(
            a["auto_merge"] == json!(true) || a["merge_when_pipeline_succeeds"] == json!(true),
            "{a}"
        );
        let n = iid(request);
        let mut open = self.0.open.lock().unwrap();
        let Some(mr) = open.iter_mut().find(|m| m.iid == n) else {
            drop(open);
            return error(404, "404 Not found");
        };
        mr.auto_merge = true;
        let mr = mr.clone();
        drop(open);
        ResponseTemplate::new(200).set_body_json(self.0.render(&mr, fixture("mr-merge")))
    }
}

struct Users;
impl Respond for Users {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let wanted = query(request).get("username").cloned().unwrap_or_default();
        let found: Vec<Value> = fixture("users-by-username")
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| {
                u["username"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(&wanted)
            })
            .cloned()
            .collect();
        ResponseTemplate::new(200).set_body_json(found)
    }
}

struct ProtectedBranch(Project);
impl Respond for ProtectedBranch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let name = request
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap()
            .replace("%2F", "/");
        if !self.0.protected.contains(&name) {
            return error(404, "404 Not found");
        }
        let mut body = fixture("protected-branch");
        body["name"] = json!(name);
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// A GitLab double on its own server ([`Served`]).
pub struct Double {
    pub served: Served,
    pub project: Project,
}

impl std::ops::Deref for Double {
    type Target = Served;
    fn deref(&self) -> &Served {
        &self.served
    }
}

impl Double {
    /// The project `path` on `host`, whose default branch is `default_branch`;
    /// `protected` branches are protected, and the documented approval rule
    /// (3 approvals) applies to the first of them; `merge` says what setting
    /// auto-merge gets.
    pub fn start(
        host: &str,
        path: &str,
        default_branch: &str,
        protected: &[&str],
        merge: Merge,
    ) -> Double {
        let project = Project {
            path: path.into(),
            host: host.into(),
            open: Arc::default(),
            merge,
            default_branch: default_branch.into(),
            protected: protected.iter().map(|s| s.to_string()).collect(),
        };
        let double = Double {
            served: Served::start(),
            project,
        };
        double.mount_all();
        double
    }

    fn mount_all(&self) {
        let p = &self.project;
        let base = p.base();
        let mrs = format!("{base}/merge_requests");
        let one = format!("^{}/[0-9]+$", regex::escape(&mrs));
        let mut project = fixture("project");
        project["default_branch"] = json!(&*p.default_branch);
        project["path_with_namespace"] = json!(&*p.path);
        project["web_url"] = json!(format!("https://{}/{}", p.host, p.path));
        self.mount(
            Mock::given(method("GET"))
                .and(path(base.as_str()))
                .respond_with(ResponseTemplate::new(200).set_body_json(project)),
        );
        self.mount(
            Mock::given(method("GET"))
                .and(path(mrs.as_str()))
                .respond_with(List(p.clone())),
        );
        self.mount(
            Mock::given(method("POST"))
                .and(path(mrs.as_str()))
                .respond_with(Create(p.clone())),
        );
        self.mount(
            Mock::given(method("GET"))
                .and(path_regex(one.as_str()))
                .respond_with(Single(p.clone())),
        );
        self.mount(
            Mock::given(method("PUT"))
                .and(path_regex(one.as_str()))
                .respond_with(Update(p.clone())),
        );
        self.mount(
            Mock::given(method("PUT"))
                .and(path_regex(format!(
                    "^{}/[0-9]+/merge$",
                    regex::escape(&mrs)
                )))
                .respond_with(MergeWhenPipelineSucceeds(p.clone())),
        );
        self.mount(
            Mock::given(method("GET"))
                .and(path("/api/v4/users"))
                .respond_with(Users),
        );
        self.mount(
            Mock::given(method("GET"))
                .and(path_regex(format!(
                    "^{}/protected_branches/[^/]+$",
                    regex::escape(&base)
                )))
                .respond_with(ProtectedBranch(p.clone())),
        );
        let mut rules = fixture("approval-rules");
        if let Some(first) = p.protected.first() {
            rules[0]["protected_branches"][0]["name"] = json!(first);
        }
        self.mount(
            Mock::given(method("GET"))
                .and(path(format!("{base}/approval_rules").as_str()))
                .respond_with(ResponseTemplate::new(200).set_body_json(rules)),
        );
    }

    /// `CI_API_V4_URL` for the binary.
    pub fn api(&self) -> String {
        format!("{}/api/v4", self.server.uri())
    }
}
