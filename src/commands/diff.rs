//! `gitops diff ENV`: what `gitops promote ENV` would change.

use anyhow::Result;
use serde::Serialize;

use super::status::{drift_commits, drift_out, DriftOut};
use super::workspace::{Workspace, REMOTE};
use super::{age, now};
use crate::cli::Global;
use crate::error::{refused, Exit};
use crate::git;
use crate::manifest::Unparseable;
use crate::semdiff::{Change, Kept, ResourceChange};
use crate::ui::{Tone, Ui};

/// Show what promoting ENV would change: the commits waiting in its upstream, the
/// files, and a semantic diff of the manifests (resources matched by apiVersion,
/// kind, namespace and name; each changed field with its old and new value).
/// Pinned values (image tags and the config's `pinned` keys) are listed apart as
/// kept.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment to promote into.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    pub env: String,
    /// Promote from this environment instead of ENV's upstream.
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    pub from: Option<String>,
    /// Also print the unified text diff of the changed files.
    #[arg(long)]
    pub patch: bool,
    /// Print one JSON document (see the README for its shape).
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when there is something to promote.
    #[arg(long)]
    pub exit_code: bool,
    /// Do not fetch origin; use what was fetched last.
    #[arg(long)]
    pub no_fetch: bool,
}

#[derive(Debug, Serialize)]
pub struct Diff {
    pub from: String,
    pub to: String,
    pub commits: Vec<CommitOut>,
    pub files: Vec<FileOut>,
    pub resources: Vec<ResourceChange>,
    pub kept: Vec<Kept>,
    pub drift: Vec<DriftOut>,
    pub unparseable: Vec<Unparseable>,
}

#[derive(Debug, Serialize)]
pub struct CommitOut {
    pub id: String,
    pub summary: String,
    pub author: String,
    pub time: i64,
}

#[derive(Debug, Serialize)]
pub struct FileOut {
    pub path: String,
    /// added | modified | deleted
    pub change: &'static str,
}

pub fn run(global: &Global, args: Args, ui: &Ui) -> Result<()> {
    let mut ws = Workspace::open(global, ui, !args.no_fetch)?;
    let (from, to) = source_and_target(&ws, &args.env, args.from.as_deref(), "diff")?;
    let diff = gather(&mut ws, from, to)?;
    let repo_dir = ws.repo.dir.clone();
    let branches: Vec<String> = ws
        .config
        .environments
        .iter()
        .map(|e| e.branch.clone())
        .collect();
    // Freeing the workspace just before exiting is wasted time.
    std::mem::forget(ws);
    if args.json {
        ui.json(&diff)?;
    } else {
        ui.out(&render(&diff, ui, now()));
        if args.patch && !diff.files.is_empty() {
            let to_ref = format!("refs/remotes/{REMOTE}/{}", branches[to]);
            let from_ref = format!("refs/remotes/{REMOTE}/{}", branches[from]);
            let mut argv = vec![
                "diff",
                "--no-color",
                "--no-ext-diff",
                to_ref.as_str(),
                from_ref.as_str(),
                "--",
            ];
            let paths: Vec<&str> = diff.files.iter().map(|f| f.path.as_str()).collect();
            argv.extend(paths);
            ui.out("\n");
            ui.out(&git::cli::run(&repo_dir, &argv)?);
        }
    }
    if args.exit_code && !diff.commits.is_empty() {
        return Err(Exit(crate::error::exit::FOUND).into());
    }
    Ok(())
}

/// The environments a promotion goes from and to (indexes): `env`, from its
/// upstream or from `from`. `command` names the command in hints.
pub fn source_and_target(
    ws: &Workspace,
    env: &str,
    from: Option<&str>,
    command: &str,
) -> Result<(usize, usize)> {
    let (to, _) = ws.config.environment(env)?;
    let from = match from {
        Some(name) => {
            let (from, _) = ws.config.environment(name)?;
            if from == to {
                return Err(refused(format!("cannot promote `{name}` into itself"))
                    .hint(format!(
                        "name another source: gitops {command} {env} --from ENV"
                    ))
                    .into());
            }
            from
        }
        None => match to.checked_sub(1) {
            Some(u) => u,
            None => {
                return Err(refused(format!(
                    "`{env}` is the first environment: it has no upstream to promote from"
                ))
                .hint(match ws.config.environments.get(1) {
                    Some(next) => format!(
                        "gitops {command} {} brings {} what {env} has",
                        next.name, next.name
                    ),
                    None => "add environments to .gitops.yaml".to_owned(),
                })
                .into())
            }
        },
    };
    Ok((from, to))
}

/// Plans the promotion of environment `from` into `to` (indexes).
pub fn gather(ws: &mut Workspace, from: usize, to: usize) -> Result<Diff> {
    let from_b = ws.branches[from].clone();
    let to_b = ws.branches[to].clone();
    let mut commits = Vec::new();
    for id in ws.graph.only_in(from_b.tip, to_b.tip) {
        let c = ws.commit(id)?;
        commits.push(CommitOut {
            id: id.to_string(),
            summary: c.summary,
            author: c.author,
            time: c.time,
        });
    }
    let base = ws.graph.merge_base(to_b.tip, from_b.tip);
    let base_tree = base.map(|b| ws.tree_of(b));

    let mut files = Vec::new();
    let mut resources = Vec::new();
    let mut kept = Vec::new();
    let mut unparseable = Vec::new();
    let deltas = ws.repo.changes(base_tree, Some(from_b.tree))?;
    let paths: Vec<&str> = deltas.iter().map(|d| d.path.as_str()).collect();
    let in_to_blobs = ws.repo.files_at(to_b.tree, &paths)?;
    for (delta, in_to) in deltas.into_iter().zip(in_to_blobs) {
        if in_to == delta.new {
            continue;
        }
        let change = match (in_to, delta.new) {
            (None, _) => "added",
            (_, None) => "deleted",
            _ => "modified",
        };
        let file = FileOut {
            path: delta.path.clone(),
            change,
        };
        if !ws.config.is_manifest(&delta.path) {
            files.push(file);
            continue;
        }
        match ws.promotion_file(&delta.path, delta.old, in_to, delta.new)? {
            Ok(d) => {
                // A manifest changes when a resource does, or when the target never
                // touched it and the source changed more than pinned values (comments,
                // say): then the merge takes the source's text as it is.
                let untouched = in_to == delta.old && d.kept.is_empty();
                if !d.resources.is_empty() || untouched {
                    files.push(file);
                }
                resources.extend(d.resources);
                kept.extend(d.kept);
            }
            Err((path, e)) => {
                files.push(file);
                unparseable.push(Unparseable::new(&path, &e));
            }
        }
    }
    let drift = if from + 1 == to {
        ws.drift(to, from)?
    } else {
        Vec::new()
    };
    ws.save_cache();
    Ok(Diff {
        from: ws.config.environments[from].name.clone(),
        to: ws.config.environments[to].name.clone(),
        commits,
        files,
        resources,
        kept,
        drift: drift.into_iter().map(drift_out).collect(),
        unparseable,
    })
}

fn show(v: &Option<serde_json::Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(v) => v.to_string(),
    }
}

fn resource_name(r: &ResourceChange) -> String {
    let mut s = String::new();
    if let Some(kind) = &r.kind {
        s.push_str(kind);
        s.push(' ');
    }
    if let Some(ns) = &r.namespace {
        s.push_str(ns);
        s.push('/');
    }
    s.push_str(&r.name);
    s
}

/// The human view of a promotion plan.
pub fn render(d: &Diff, ui: &Ui, now: i64) -> String {
    let mut out = String::new();
    if d.commits.is_empty() {
        out.push_str(&format!(
            "Nothing to promote: {} has everything {} has.\n",
            d.to, d.from
        ));
    } else {
        out.push_str(&format!(
            "{} {} → {}: {} commit{}\n",
            ui.paint(Tone::Bold, "Promote"),
            d.from,
            d.to,
            d.commits.len(),
            if d.commits.len() == 1 { "" } else { "s" }
        ));
        for c in &d.commits {
            out.push_str(&format!(
                "  {}  {}  {}\n",
                ui.paint(Tone::Id, &c.id[..7]),
                c.summary,
                ui.paint(Tone::Dim, &format!("({}, {})", c.author, age(now, c.time)))
            ));
        }
    }
    if !d.files.is_empty() {
        out.push_str(&format!("\n{}\n", ui.paint(Tone::Bold, "Files")));
        for f in &d.files {
            let (mark, tone) = match f.change {
                "added" => ("A", Tone::Good),
                "deleted" => ("D", Tone::Bad),
                _ => ("M", Tone::Warn),
            };
            out.push_str(&format!("  {} {}\n", ui.paint(tone, mark), f.path));
        }
    }
    if !d.resources.is_empty() {
        out.push_str(&format!("\n{}\n", ui.paint(Tone::Bold, "Resources")));
        for r in &d.resources {
            let (mark, tone) = match r.change {
                Change::Added => ("+", Tone::Good),
                Change::Removed => ("-", Tone::Bad),
                Change::Changed => ("~", Tone::Warn),
            };
            out.push_str(&format!(
                "  {} {}  {}\n",
                ui.paint(tone, mark),
                resource_name(r),
                ui.paint(Tone::Dim, &format!("({})", r.file))
            ));
            for f in &r.fields {
                out.push_str(&format!(
                    "      {}: {} → {}\n",
                    f.path,
                    show(&f.from),
                    show(&f.to)
                ));
            }
        }
    }
    if !d.kept.is_empty() {
        out.push_str(&format!(
            "\n{} ({}'s own values, not promoted)\n",
            ui.paint(Tone::Bold, "Kept"),
            d.to
        ));
        for k in &d.kept {
            let kind = k
                .kind
                .as_deref()
                .map(|k| format!("{k} "))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {kind}{} {}: {}  {}\n",
                k.name,
                k.path,
                k.value,
                ui.paint(Tone::Dim, &format!("({} has {})", d.from, k.upstream))
            ));
        }
    }
    if !d.drift.is_empty() {
        out.push_str(&format!(
            "\n{} on {}: changes {from} does not have. This promotion keeps them (a three-way merge) unless {from} changed the same lines, which conflicts; bring them to {from} through a pull request so they are not lost.\n",
            ui.paint(Tone::Bad, "Drift"),
            d.to,
            from = d.from
        ));
        out.push_str(&drift_commits(ui, &d.drift, &d.from));
    }
    for u in &d.unparseable {
        out.push_str(&format!(
            "{} {}:{}: does not parse: {}\n",
            ui.paint(Tone::Bad, "!"),
            u.file,
            u.line,
            u.message
        ));
    }
    out
}
