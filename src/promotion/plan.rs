//! The promotion's decisions, without a repository: which tag each image new to
//! the target environment gets (`--set-image`, or a source tag the target's
//! policy accepts), when a promotion is refused and what the refusal says, and
//! what the plan warns about. The gatherer (`crate::cli::commands::plan`) feeds these
//! functions what it read and applies what they decide. Pure: data in, data out.

use crate::config::policy::{self, TagPolicy};
use crate::model::edit::Blocked;

/// A refused promotion: one line saying what is wrong, one hint saying what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub hint: String,
}

/// `--set-image NAME=TAG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetImage {
    pub name: String,
    pub tag: String,
}

/// Parses the `--set-image` values.
pub fn parse_set_images(values: &[String]) -> Result<Vec<SetImage>, Refusal> {
    let mut out = Vec::new();
    for v in values {
        let Some((name, tag)) = v.split_once('=') else {
            return Err(Refusal {
                message: format!("--set-image `{v}` is not NAME=TAG"),
                hint: "e.g. --set-image registry.example.com/shop/search=1.0.0 (or the last path part: search=1.0.0)".to_owned(),
            });
        };
        if name.is_empty() || !policy::is_valid_tag(tag) {
            return Err(Refusal {
                message: format!("--set-image `{v}`: `{tag}` is not a valid image tag"),
                hint:
                    "a tag is letters, digits, `_`, `.` and `-`, up to 128 characters, e.g. 1.2.3"
                        .to_owned(),
            });
        }
        out.push(SetImage {
            name: name.to_owned(),
            tag: tag.to_owned(),
        });
    }
    Ok(out)
}

/// A place in the merged tree that runs one of the team's images with a tag the
/// target environment does not run: an image new to it, or renamed (a registry
/// move), or a new site whose tag the target has nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImage {
    pub file: String,
    pub line: usize,
    /// The image as written (`new-registry.example.com/shop/app`).
    pub name: String,
    /// The tag it has after the merge (the source's), if any.
    pub tag: Option<String>,
    /// Why its tag cannot be replaced in place, if it cannot.
    pub blocked: Option<Blocked>,
}

/// Whether `--set-image NAME` names `image`: the full name as written, its
/// normalised form, or its last path part.
pub fn names(set: &str, image: &str) -> bool {
    set == image
        || crate::model::image::canonical_name(set) == crate::model::image::canonical_name(image)
        || image.rsplit('/').next() == Some(set)
}

/// The tag each new image gets: `Some(tag)` to write, `None` to keep the tag it
/// has. Refused when a `--set-image` names no new image or gives a tag the
/// target's policy refuses, when a new image's tag breaks the policy and no
/// `--set-image` gives one, or when a tag cannot be written in place.
pub fn new_image_tags(
    env: &str,
    policy: &TagPolicy,
    new: &[NewImage],
    set: &[SetImage],
) -> Result<Vec<Option<String>>, Refusal> {
    for s in set {
        if !new.iter().any(|n| names(&s.name, &n.name)) {
            let mut listed: Vec<String> = new.iter().map(|n| n.name.clone()).collect();
            listed.sort();
            listed.dedup();
            return Err(Refusal {
                message: format!(
                    "--set-image {}: no image new to {env} is named `{}`",
                    s.name, s.name
                ),
                hint: if listed.is_empty() {
                    format!(
                        "this promotion brings {env} no new image; to change the tag of an image {env} runs, use gitops image set {} {} --env {env}",
                        s.name, s.tag
                    )
                } else {
                    format!("images new to {env} here: {}", listed.join(", "))
                },
            });
        }
        if let Err(why) = policy.check(Some(&s.tag)) {
            return Err(Refusal {
                message: format!("--set-image {}={}: {why}", s.name, s.tag),
                hint: format!("{env} takes tags like {}", policy.accepts()),
            });
        }
    }
    let mut out = Vec::with_capacity(new.len());
    let mut refused = Vec::new();
    for n in new {
        match set.iter().find(|s| names(&s.name, &n.name)) {
            Some(s) => {
                if n.tag.as_deref() == Some(s.tag.as_str()) {
                    out.push(None);
                    continue;
                }
                if let Some(why) = n.blocked {
                    return Err(Refusal {
                        message: format!(
                            "--set-image {}: the image in {} line {} {}",
                            s.name,
                            n.file,
                            n.line,
                            why.reason()
                        ),
                        hint: format!("set the tag in {} by hand, then promote again", n.file),
                    });
                }
                out.push(Some(s.tag.clone()));
            }
            None => {
                if let Err(why) = policy.check(n.tag.as_deref()) {
                    refused.push(format!(
                        "{}{} ({} line {}): {why}",
                        n.name,
                        n.tag
                            .as_deref()
                            .map(|t| format!(":{t}"))
                            .unwrap_or_default(),
                        n.file,
                        n.line
                    ));
                }
                out.push(None);
            }
        }
    }
    if !refused.is_empty() {
        refused.dedup();
        let first = new
            .iter()
            .find(|n| policy.check(n.tag.as_deref()).is_err())
            .map(|n| n.name.rsplit('/').next().unwrap_or(&n.name).to_owned())
            .unwrap_or_default();
        return Err(Refusal {
            message: format!(
                "{env} would get image{} it does not run yet, with tags its policy ({policy}) refuses: {}",
                if refused.len() == 1 { "" } else { "s" },
                refused.join("; ")
            ),
            hint: format!(
                "give each one a tag {env} accepts ({}): --set-image NAME=TAG, e.g. --set-image {first}={}",
                policy.accepts(),
                policy.example().unwrap_or("TAG")
            ),
        });
    }
    Ok(out)
}

/// The refusal for a merge that conflicts beyond pinned values: the files, the
/// target's commits on them (its drift there, else its own commits that changed
/// them since the environments last met), and what to do; `change` is what the
/// forge calls a change request.
pub fn conflict_refusal(
    from: &str,
    to: &str,
    files: &[String],
    commits: &[String],
    change: &str,
) -> Refusal {
    let message = format!(
        "promoting {from} into {to} conflicts in {}: {to} changed the same lines on its own",
        files.join(", ")
    );
    let hint = if commits.is_empty() {
        format!("make {to}'s version of those lines reach {from} through a {change}, then promote again")
    } else {
        format!(
            "{to}'s commits on those files: {}; bring the change to {from} through a {change} (or revert it on {to}), then promote again",
            commits.join("; ")
        )
    };
    Refusal { message, hint }
}

/// A third-party image's upgrade that the target keeps back because, without
/// `images:` in the config, every image is pinned: the warning that says so.
/// `source_policy` is the source environment's: a tag it refuses (a `7.4.0`
/// where dev runs commit ids) marks an image that is not the team's.
pub fn held_back(
    image: &str,
    kept: &str,
    upstream: &str,
    from: &str,
    to: &str,
    source_policy: &TagPolicy,
) -> Option<String> {
    source_policy.check(Some(upstream)).err()?;
    Some(format!(
        "{image}: {from}'s {upstream} is held back, {to} keeps {kept}. Every image is pinned per environment because .gitops.yaml has no `images:`; list the team's images there (e.g. images: [\"registry.example.com/team/*\"]) and third-party images travel with promotions"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, tag: &str) -> NewImage {
        NewImage {
            file: "apps/x.yaml".into(),
            line: 9,
            name: name.into(),
            tag: Some(tag.into()),
            blocked: None,
        }
    }

    fn set(name: &str, tag: &str) -> SetImage {
        SetImage {
            name: name.into(),
            tag: tag.into(),
        }
    }

    #[test]
    fn new_images_take_set_image_or_a_policy_valid_source_tag() {
        let rc = TagPolicy::parse("semver-rc").unwrap();
        let images = [
            new("new-registry.example.com/shop/app", "4f2c9ab"),
            new("registry.example.com/shop/search", "1.0.0-rc.2"),
        ];
        // The renamed image gets the given tag; the valid one keeps its tag.
        assert_eq!(
            new_image_tags("stage", &rc, &images, &[set("app", "2.0.0-rc.1")]),
            Ok(vec![Some("2.0.0-rc.1".into()), None])
        );
        assert_eq!(
            new_image_tags(
                "stage",
                &rc,
                &images,
                &[set("new-registry.example.com/shop/app", "2.0.0-rc.1")]
            ),
            Ok(vec![Some("2.0.0-rc.1".into()), None])
        );
    }

    #[test]
    fn refusals_name_the_image_and_the_flag() {
        let rc = TagPolicy::parse("semver-rc").unwrap();
        let images = [new("new-registry.example.com/shop/app", "4f2c9ab")];
        let r = new_image_tags("stage", &rc, &images, &[]).unwrap_err();
        assert!(
            r.message
                .contains("new-registry.example.com/shop/app:4f2c9ab"),
            "{r:?}"
        );
        assert!(
            !r.message.contains("drift") && !r.hint.contains("hotfix"),
            "{r:?}"
        );
        assert!(r.hint.contains("--set-image app="), "{r:?}");

        // A tag the policy refuses.
        let r = new_image_tags("stage", &rc, &images, &[set("app", "latest")]).unwrap_err();
        assert!(r.message.starts_with("--set-image app=latest"), "{r:?}");

        // A name that matches no new image.
        let r = new_image_tags("stage", &rc, &images, &[set("cart", "1.0.0-rc.1")]).unwrap_err();
        assert!(r.message.contains("no image new to stage"), "{r:?}");
        assert!(
            r.hint.contains("new-registry.example.com/shop/app"),
            "{r:?}"
        );
        let r = new_image_tags("stage", &rc, &[], &[set("cart", "1.0.0-rc.1")]).unwrap_err();
        assert!(r.hint.contains("gitops image set cart"), "{r:?}");

        // A site that cannot be edited in place.
        let mut blocked = images[0].clone();
        blocked.blocked = Some(Blocked::Alias);
        let r = new_image_tags("stage", &rc, &[blocked], &[set("app", "2.0.0-rc.1")]).unwrap_err();
        assert!(r.message.contains("alias"), "{r:?}");
    }

    #[test]
    fn parse_set_images_refuses_what_is_not_name_eq_tag() {
        assert!(parse_set_images(&["app".into()]).is_err());
        assert!(parse_set_images(&["app=".into()]).is_err());
        assert!(parse_set_images(&["=1.0".into()]).is_err());
        assert_eq!(
            parse_set_images(&["a/b=1.0".into()]).unwrap(),
            [set("a/b", "1.0")]
        );
    }

    #[test]
    fn conflicts_name_the_files_and_commits() {
        let r = conflict_refusal(
            "stage",
            "prod",
            &["apps/checkout/deployment.yaml".into()],
            &["8bf511e Hotfix: timeouts (Chloé)".into()],
            "merge request",
        );
        assert!(r.message.contains("apps/checkout/deployment.yaml"));
        assert!(r.hint.contains("8bf511e Hotfix"));
        assert!(
            r.hint.contains("to stage through a merge request"),
            "{}",
            r.hint
        );
    }

    #[test]
    fn third_party_upgrades_held_back_are_warned_about() {
        let sha = TagPolicy::parse("commit-sha").unwrap();
        assert!(held_back("redis", "7.2.4", "7.4.0", "dev", "stage", &sha)
            .unwrap()
            .contains("images:"));
        // A tag that follows the source's policy is the team's own: no warning.
        assert_eq!(
            held_back("shop/web", "1.2.3", "4f2c9ab", "dev", "stage", &sha),
            None
        );
    }
}
