//! A stateful GitHub double for pull requests, shared by the tests that reach
//! GitHub: the pulls endpoints (list filtered by head, base and state; create,
//! with GitHub's 422 when one is open for the same branches; update), labels
//! and GraphQL's auto-merge, over one list of pull requests kept across runs
//! of the binary. Every body is a documented example
//! (`tests/fixtures/github/README.md`) with the pull request's own fields set.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use super::github_fixture as fixture;
use super::Served;

/// The first number the double gives a pull request (the documented example's).
pub const FIRST: u64 = 1347;

/// The pull requests open on one repository (`owner/name`) of the double.
#[derive(Clone)]
pub struct Pulls {
    owner: Arc<str>,
    name: Arc<str>,
    open: Arc<Mutex<Vec<Stored>>>,
}

/// One pull request as the double keeps it.
#[derive(Clone, Debug)]
pub struct Stored {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub head: String,
    pub base: String,
    pub draft: bool,
    pub labels: Vec<String>,
    pub auto_merge: bool,
}

impl Pulls {
    pub fn new(owner: &str, name: &str) -> Pulls {
        Pulls {
            owner: owner.into(),
            name: name.into(),
            open: Arc::default(),
        }
    }

    /// `/repos/OWNER/NAME/pulls`.
    pub fn path(&self) -> String {
        format!("/repos/{}/{}/pulls", self.owner, self.name)
    }

    /// The pull requests open now.
    pub fn open(&self) -> Vec<Stored> {
        self.open.lock().unwrap().clone()
    }

    /// Adds a pull request as if opened earlier (a rerun finds it).
    pub fn insert(&self, pull: Stored) {
        self.open.lock().unwrap().push(pull);
    }

    /// `template` (a documented example) describing `pull`.
    fn render(&self, pull: &Stored, mut template: Value) -> Value {
        let n = pull.number;
        template["number"] = json!(n);
        template["title"] = json!(pull.title);
        template["body"] = json!(pull.body);
        template["draft"] = json!(pull.draft);
        template["html_url"] = json!(format!(
            "https://github.com/{}/{}/pull/{n}",
            self.owner, self.name
        ));
        template["head"]["ref"] = json!(pull.head);
        template["head"]["label"] = json!(format!("{}:{}", self.owner, pull.head));
        template["base"]["ref"] = json!(pull.base);
        // The documented label object, renamed; the documented auto-merge object.
        let label = template["labels"][0].clone();
        template["labels"] = json!(pull
            .labels
            .iter()
            .map(|name| {
                let mut l = label.clone();
                l["name"] = json!(name);
                l
            })
            .collect::<Vec<_>>());
        template["auto_merge"] = if pull.auto_merge {
            json!({"enabled_by": template["user"].clone(), "merge_method": "merge", "commit_title": "", "commit_message": ""})
        } else {
            Value::Null
        };
        template
    }

    /// Mounts the pulls endpoints (list, create, update) with `mount`.
    pub fn mount_pulls(&self, mount: impl Fn(Mock)) {
        let pulls = self.path();
        mount(
            Mock::given(method("GET"))
                .and(path(pulls.as_str()))
                .respond_with(List(self.clone())),
        );
        mount(
            Mock::given(method("POST"))
                .and(path(pulls.as_str()))
                .respond_with(Create(self.clone())),
        );
        mount(
            Mock::given(method("PATCH"))
                .and(path_regex(format!("^{}/[0-9]+$", regex::escape(&pulls))))
                .respond_with(Update(self.clone())),
        );
    }

    /// Mounts all of GitHub a promotion uses: the pulls endpoints, labels,
    /// reviewers, and GraphQL answering `graphql` (a fixture's name;
    /// `graphql-auto-merge-enabled` turns auto-merge on for every open pull
    /// request).
    pub fn mount_all(&self, graphql: &str, mount: impl Fn(Mock)) {
        self.mount_pulls(&mount);
        let repo = regex::escape(&format!("/repos/{}/{}", self.owner, self.name));
        mount(
            Mock::given(method("POST"))
                .and(path_regex(format!("^{repo}/issues/[0-9]+/labels$")))
                .respond_with(AddLabels(self.clone())),
        );
        mount(
            Mock::given(method("POST"))
                .and(path_regex(format!(
                    "^{repo}/pulls/[0-9]+/requested_reviewers$"
                )))
                .respond_with(
                    ResponseTemplate::new(201).set_body_json(fixture("review-requested")),
                ),
        );
        mount(
            Mock::given(method("POST"))
                .and(path("/graphql"))
                .respond_with(GraphQl(self.clone(), graphql.to_owned())),
        );
    }
}

/// The number at `segment` of a request's path.
fn number_at(request: &Request, segment: usize) -> u64 {
    request
        .url
        .path()
        .split('/')
        .nth(segment)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no number in {}", request.url))
}

/// `GET /repos/OWNER/NAME/pulls?head=OWNER:BRANCH&base=BASE&state=open`.
pub struct List(pub Pulls);

impl Respond for List {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let item = fixture("pulls-list")[0].clone();
        let pulls = &self.0;
        let found: Vec<Value> = pulls
            .open()
            .iter()
            .filter(|p| {
                query.get("head") == Some(&format!("{}:{}", pulls.owner, p.head))
                    && query.get("base") == Some(&p.base)
                    && query.get("state").map(String::as_str) == Some("open")
            })
            .map(|p| pulls.render(p, item.clone()))
            .collect();
        ResponseTemplate::new(200).set_body_json(found)
    }
}

/// `POST /repos/OWNER/NAME/pulls`: 201, or GitHub's 422 when one is open.
pub struct Create(pub Pulls);

impl Respond for Create {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let asked: Value = serde_json::from_slice(&request.body).unwrap();
        let head = asked["head"].as_str().unwrap().to_owned();
        let base = asked["base"].as_str().unwrap().to_owned();
        let pulls = &self.0;
        let mut open = pulls.open.lock().unwrap();
        if open.iter().any(|p| p.head == head && p.base == base) {
            let mut exists = fixture("error-pull-request-exists");
            exists["errors"][0]["message"] = json!(format!(
                "A pull request already exists for {}:{head}.",
                pulls.owner
            ));
            return ResponseTemplate::new(422).set_body_json(exists);
        }
        let pull = Stored {
            number: FIRST + open.len() as u64,
            title: asked["title"].as_str().unwrap().to_owned(),
            body: asked["body"].as_str().unwrap().to_owned(),
            head,
            base,
            draft: asked["draft"].as_bool().unwrap_or(false),
            labels: Vec::new(),
            auto_merge: false,
        };
        open.push(pull.clone());
        ResponseTemplate::new(201).set_body_json(pulls.render(&pull, fixture("pull-request")))
    }
}

/// `PATCH /repos/OWNER/NAME/pulls/N`: 200, or GitHub's 404.
pub struct Update(pub Pulls);

impl Respond for Update {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let number = number_at(request, 5);
        let asked: Value = serde_json::from_slice(&request.body).unwrap();
        let pulls = &self.0;
        let mut open = pulls.open.lock().unwrap();
        let Some(pull) = open.iter_mut().find(|p| p.number == number) else {
            return ResponseTemplate::new(404).set_body_json(fixture("error-not-found"));
        };
        if let Some(title) = asked["title"].as_str() {
            pull.title = title.to_owned();
        }
        if let Some(body) = asked["body"].as_str() {
            pull.body = body.to_owned();
        }
        let pull = pull.clone();
        ResponseTemplate::new(200).set_body_json(pulls.render(&pull, fixture("pull-request")))
    }
}

/// `POST /repos/OWNER/NAME/issues/N/labels`: the labels stay on the pull request.
pub struct AddLabels(pub Pulls);

impl Respond for AddLabels {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let number = number_at(request, 5);
        let asked: Value = serde_json::from_slice(&request.body).unwrap();
        if let Some(pull) = self
            .0
            .open
            .lock()
            .unwrap()
            .iter_mut()
            .find(|p| p.number == number)
        {
            for l in asked["labels"].as_array().unwrap() {
                let l = l.as_str().unwrap().to_owned();
                if !pull.labels.contains(&l) {
                    pull.labels.push(l);
                }
            }
        }
        ResponseTemplate::new(200).set_body_json(fixture("labels-added"))
    }
}

/// `POST /graphql` answering a fixture; `graphql-auto-merge-enabled` turns
/// auto-merge on.
pub struct GraphQl(pub Pulls, pub String);

impl Respond for GraphQl {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.1 == "graphql-auto-merge-enabled" {
            for pull in self.0.open.lock().unwrap().iter_mut() {
                pull.auto_merge = true;
            }
        }
        ResponseTemplate::new(200).set_body_json(fixture(&self.1))
    }
}

/// A GitHub double on its own server ([`Served`]): [`Pulls::mount_all`], or
/// the pieces a test asks for.
pub struct Double {
    pub served: Served,
    pub pulls: Pulls,
}

impl std::ops::Deref for Double {
    type Target = Served;
    fn deref(&self) -> &Served {
        &self.served
    }
}

impl Double {
    /// A double of repository `owner/name` whose GraphQL answers `graphql`
    /// (a fixture's name).
    pub fn start(owner: &str, name: &str, graphql: &str) -> Double {
        let double = Double::empty(owner, name);
        double.pulls.mount_all(graphql, |m| double.mount(m));
        double
    }

    /// A double of `owner/name` with nothing mounted: every request gets
    /// wiremock's 404.
    pub fn empty(owner: &str, name: &str) -> Double {
        Double {
            served: Served::start(),
            pulls: Pulls::new(owner, name),
        }
    }

    /// What `check protection` reads: the repository (its default branch
    /// `default_branch`) and each branch's protection — the documented one for
    /// `protected`, GitHub's documented 404 "Branch not protected" for any
    /// other.
    pub fn mount_protection(&self, default_branch: &str, protected: &[&str]) {
        let repo = format!("/repos/{}/{}", self.pulls.owner, self.pulls.name);
        let mut repository = fixture("repository");
        repository["default_branch"] = json!(default_branch);
        self.mount(
            Mock::given(method("GET"))
                .and(path(repo.as_str()))
                .respond_with(ResponseTemplate::new(200).set_body_json(repository)),
        );
        for branch in protected {
            self.mount(
                Mock::given(method("GET"))
                    .and(path(
                        format!("{repo}/branches/{branch}/protection").as_str(),
                    ))
                    .respond_with(
                        ResponseTemplate::new(200).set_body_json(fixture("branch-protection")),
                    ),
            );
        }
        self.mount(
            Mock::given(method("GET"))
                .and(path_regex(format!(
                    "^{}/branches/[^/]+/protection$",
                    regex::escape(&repo)
                )))
                .respond_with(
                    ResponseTemplate::new(404).set_body_json(fixture("error-branch-not-protected")),
                )
                .with_priority(10),
        );
    }

    /// What `status` asks GraphQL: the documented open pull request with its
    /// checks for the promotion from `head` into `into`, none for any other.
    pub fn mount_open_pull_with_checks(&self, head: &str, into: &str) {
        self.mount(
            Mock::given(method("POST"))
                .and(path("/graphql"))
                .and(wiremock::matchers::body_partial_json(
                    json!({"variables": {"head": head, "base": into}}),
                ))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(fixture("graphql-open-pull-with-checks")),
                ),
        );
        self.mount(
            Mock::given(method("POST"))
                .and(path("/graphql"))
                .respond_with(ResponseTemplate::new(200).set_body_json(
                    json!({"data": {"repository": {"pullRequests": {"nodes": []}}}}),
                ))
                .with_priority(10),
        );
    }
}
