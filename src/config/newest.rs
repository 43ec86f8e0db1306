//! Which of a registry's tags an environment would take: the tags its policy
//! accepts, the newest of them, and whether that one is newer than every tag
//! the environment runs (never a downgrade). Pure: the tags, what runs and, for
//! `commit-sha` (whose ids have no order), the images' creation times come in.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::policy::{parse_semver, TagPolicy, Version};

/// Why an environment would take a tag, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Why {
    /// The newest accepted tag is newer than what runs: `pick` is it.
    Newer,
    /// The environment runs the newest accepted tag (or a newer one).
    Current,
    /// The policy accepts none of the registry's tags.
    NoneAccepted,
    /// The environment runs no such image: there is nothing to update.
    NotRunning,
    /// The tags cannot be ordered: `commit-sha` tags without creation times, or
    /// a running tag that does not compare with the registry's.
    Unordered,
}

/// What an environment would take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The tags the policy accepts, in the order given.
    pub accepted: Vec<String>,
    /// The newest of them, when they can be ordered.
    pub newest: Option<String>,
    /// The tag `image update` would set: the newest, when newer than every tag
    /// the environment runs.
    pub pick: Option<String>,
    pub why: Why,
}

/// The order of two tags under `policy`: its version order, or for
/// `commit-sha` the images' creation times (`created`, seconds and nanoseconds
/// since the epoch; `None` when unknown).
fn order(
    policy: &TagPolicy,
    created: &dyn Fn(&str) -> Option<(i64, u32)>,
    a: &str,
    b: &str,
) -> Option<Ordering> {
    if a == b {
        return Some(Ordering::Equal);
    }
    match policy {
        TagPolicy::CommitSha => Some(created(a)?.cmp(&created(b)?)),
        _ => policy.compare(a, b),
    }
}

/// What an environment whose tags follow `policy` and which runs `running`
/// (empty: not at all) would take from `tags`.
pub fn choose(
    policy: &TagPolicy,
    tags: &[String],
    running: &[String],
    created: &dyn Fn(&str) -> Option<(i64, u32)>,
) -> Choice {
    let accepted: Vec<String> = tags.iter().filter(|t| policy.allows(t)).cloned().collect();
    let mut newest: Option<&String> = None;
    for tag in &accepted {
        // A tag that cannot be ordered (a commit id without a creation time,
        // `latest` under `any`) is never the newest.
        let orderable = match policy {
            TagPolicy::CommitSha => created(tag).is_some(),
            _ => parse_semver(tag.strip_prefix('v').unwrap_or(tag)).is_some(),
        };
        if !orderable {
            continue;
        }
        newest = match newest {
            None => Some(tag),
            Some(best) => match order(policy, created, tag, best) {
                Some(Ordering::Greater) => Some(tag),
                _ => Some(best),
            },
        };
    }
    let newest = newest.cloned();
    let (pick, why) = match (&newest, running.is_empty()) {
        (None, _) if accepted.is_empty() => (None, Why::NoneAccepted),
        (None, _) => (None, Why::Unordered),
        (Some(_), true) => (None, Why::NotRunning),
        (Some(tag), false) => {
            let orders: Vec<Option<Ordering>> = running
                .iter()
                .map(|r| order(policy, created, tag, r))
                .collect();
            if orders.iter().all(|o| *o == Some(Ordering::Greater)) {
                (Some(tag.clone()), Why::Newer)
            } else if orders
                .iter()
                .any(|o| matches!(o, Some(Ordering::Less | Ordering::Equal)))
            {
                (None, Why::Current)
            } else {
                (None, Why::Unordered)
            }
        }
    };
    Choice {
        accepted,
        newest,
        pick,
        why,
    }
}

/// The tags whose creation times the decision needs: for each `commit-sha`
/// environment of `judged` (a policy and the tags it runs), the tags it
/// accepts and those it runs that the registry has. Sorted, each once.
pub fn wanted(tags: &[String], judged: &[(TagPolicy, Vec<String>)]) -> Vec<String> {
    let in_registry: BTreeSet<&String> = tags.iter().collect();
    let mut wanted = BTreeSet::new();
    for (policy, running) in judged {
        if *policy == TagPolicy::CommitSha {
            wanted.extend(tags.iter().filter(|t| policy.allows(t)).cloned());
            wanted.extend(running.iter().filter(|t| in_registry.contains(t)).cloned());
        }
    }
    wanted.into_iter().collect()
}

/// A registry's tags ordered and judged for several environments at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The tags, newest first ([`newest_first`]).
    pub ordered: Vec<String>,
    /// What each (policy, running tags) given would take, in their order.
    pub choices: Vec<Choice>,
}

/// What each of `judged` (an environment's policy and the tags it runs) would
/// take from `tags`, one image's tags listed once; `created` gives the
/// creation times read (of [`wanted`]'s tags). `image tags` and `image update`
/// both decide here.
pub fn decide(
    tags: &[String],
    judged: &[(TagPolicy, Vec<String>)],
    created: &dyn Fn(&str) -> Option<(i64, u32)>,
) -> Decision {
    // Newest first (a registry lists in no promised order); each tag's
    // version and creation time read once, not at every comparison.
    let mut keyed: Vec<(Key, &String)> = tags.iter().map(|t| (key(t, created), t)).collect();
    keyed.sort_by(|(a, ta), (b, tb)| by_keys(a, ta, b, tb));
    let ordered: Vec<String> = keyed.into_iter().map(|(_, t)| t.clone()).collect();
    let choices = judged
        .iter()
        .map(|(policy, running)| choose(policy, &ordered, running, created))
        .collect();
    Decision { ordered, choices }
}

/// Versions newest first, then tags with a creation time newest first, then
/// the rest by name.
pub fn newest_first(a: &str, b: &str, created: &dyn Fn(&str) -> Option<(i64, u32)>) -> Ordering {
    by_keys(&key(a, created), a, &key(b, created), b)
}

/// What [`newest_first`] orders a tag by: its version (a leading `v` aside)
/// and its creation time.
type Key = (Option<Version>, Option<(i64, u32)>);

fn key(tag: &str, created: &dyn Fn(&str) -> Option<(i64, u32)>) -> Key {
    (
        parse_semver(tag.strip_prefix('v').unwrap_or(tag)),
        created(tag),
    )
}

fn by_keys(a: &Key, a_tag: &str, b: &Key, b_tag: &str) -> Ordering {
    match (&a.0, &b.0) {
        (Some(x), Some(y)) => y.cmp(x).then_with(|| a_tag.cmp(b_tag)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => match (a.1, b.1) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a_tag.cmp(b_tag),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &str) -> Vec<String> {
        list.split_whitespace().map(str::to_owned).collect()
    }

    fn none(_: &str) -> Option<(i64, u32)> {
        None
    }

    #[test]
    fn versions_pick_the_newest_newer_than_what_runs() {
        let registry = tags("latest 1.2.0 1.3.0-rc.1 1.3.0-rc.9 1.3.0-rc.10 1.3.0-rc.2 1.3.0 1.4.0-beta v2.0.0 3f9c2ab");
        // policy, running, accepted, newest, pick, why
        type Case = (
            &'static str,
            &'static str,
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Why,
        );
        let cases: &[Case] = &[
            ("semver-rc", "1.3.0-rc.2", "1.3.0-rc.1 1.3.0-rc.9 1.3.0-rc.10 1.3.0-rc.2", Some("1.3.0-rc.10"), Some("1.3.0-rc.10"), Why::Newer),
            ("semver-rc", "1.3.0-rc.10", "1.3.0-rc.1 1.3.0-rc.9 1.3.0-rc.10 1.3.0-rc.2", Some("1.3.0-rc.10"), None, Why::Current),
            // Never a downgrade: what runs is newer than anything accepted.
            ("semver", "1.5.0", "1.2.0 1.3.0", Some("1.3.0"), None, Why::Current),
            ("semver", "1.2.0", "1.2.0 1.3.0", Some("1.3.0"), Some("1.3.0"), Why::Newer),
            // Several tags run: newer than all of them.
            ("semver", "1.2.0 1.3.0", "1.2.0 1.3.0", Some("1.3.0"), None, Why::Current),
            ("semver", "", "1.2.0 1.3.0", Some("1.3.0"), None, Why::NotRunning),
            ("regex:v[0-9.]+", "v1.0.0", "v2.0.0", Some("v2.0.0"), Some("v2.0.0"), Why::Newer),
            ("regex:nothing", "x", "", None, None, Why::NoneAccepted),
            // A running tag that is no version does not order.
            ("any", "latest", "latest 1.2.0 1.3.0-rc.1 1.3.0-rc.9 1.3.0-rc.10 1.3.0-rc.2 1.3.0 1.4.0-beta v2.0.0 3f9c2ab", Some("1.3.0"), None, Why::Unordered),
            // Commit ids without creation times have no order.
            ("commit-sha", "1234567", "3f9c2ab", None, None, Why::Unordered),
        ];
        for (policy, running, accepted, newest, pick, why) in cases {
            let p = TagPolicy::parse(policy).unwrap();
            let c = choose(&p, &registry, &tags(running), &none);
            let label = format!("{policy} running {running}");
            assert_eq!(c.accepted, tags(accepted), "{label}");
            assert_eq!(c.newest.as_deref(), *newest, "{label}");
            assert_eq!(c.pick.as_deref(), *pick, "{label}");
            assert_eq!(c.why, *why, "{label}");
        }
    }

    #[test]
    fn commit_ids_order_by_creation_time() {
        let registry = tags("aaaaaaa bbbbbbb ccccccc ddddddd 1.0.0");
        let created = |t: &str| match t {
            "aaaaaaa" => Some((100, 0)),
            "bbbbbbb" => Some((300, 0)),
            "ccccccc" => Some((200, 5)),
            _ => None,
        };
        let p = TagPolicy::CommitSha;
        let c = choose(&p, &registry, &tags("ccccccc"), &created);
        assert_eq!(c.accepted, tags("aaaaaaa bbbbbbb ccccccc ddddddd"));
        assert_eq!(
            (c.newest.as_deref(), c.pick.as_deref(), c.why),
            (Some("bbbbbbb"), Some("bbbbbbb"), Why::Newer)
        );
        let c = choose(&p, &registry, &tags("bbbbbbb"), &created);
        assert_eq!((c.pick, c.why), (None, Why::Current));
        // What runs has no known time (not in the registry): no order, no pick.
        let c = choose(&p, &registry, &tags("eeeeeee"), &created);
        assert_eq!((c.pick, c.why), (None, Why::Unordered));
    }

    #[test]
    fn tags_order_versions_then_creation_times_then_names() {
        let registry = tags("zzz 3f9c2ab 1.2.0 v1.10.0 1.3.0-rc.10 1.3.0-rc.9 9e1d2c4 latest");
        let created = |t: &str| match t {
            "3f9c2ab" => Some((100, 0)),
            "9e1d2c4" => Some((200, 0)),
            _ => None,
        };
        let judged = vec![
            (TagPolicy::CommitSha, tags("3f9c2ab")),
            (TagPolicy::parse("semver-rc").unwrap(), tags("1.3.0-rc.9")),
        ];
        assert_eq!(
            wanted(&registry, &judged),
            tags("3f9c2ab 9e1d2c4"),
            "the commit ids the commit-sha environment accepts (and runs)"
        );
        let d = decide(&registry, &judged, &created);
        assert_eq!(
            d.ordered,
            tags("v1.10.0 1.3.0-rc.10 1.3.0-rc.9 1.2.0 9e1d2c4 3f9c2ab latest zzz")
        );
        let picks: Vec<Option<&str>> = d.choices.iter().map(|c| c.pick.as_deref()).collect();
        assert_eq!(picks, [Some("9e1d2c4"), Some("1.3.0-rc.10")]);
        // Without times the commit ids fall back to their names.
        let d = decide(&registry, &judged, &none);
        assert_eq!(d.ordered[4..], tags("3f9c2ab 9e1d2c4 latest zzz")[..]);
        assert_eq!(d.choices[0].why, Why::Unordered);
    }
}
