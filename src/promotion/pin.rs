//! Pinning before merging: a version of a file (the source environment's, or the
//! merge base's) with every pinned value it shares with the target environment
//! set to the target's, byte-exactly. Merging the pinned source into the target
//! against the pinned base then has nothing to say about pinned values — no
//! conflict on image tags, no source tag carried over — while every other change
//! merges as git merges it. Pure: bytes in, bytes out.
//!
//! What is pinned:
//! - the tag of every image of the team's (`is_team`) in a container's `image`:
//!   the target's tag at the same field of the same resource when it runs the same
//!   image there, else the target's tag for that image anywhere (`env_tags`); an
//!   image the target does not run is left alone (it is new to the target, and
//!   the plan decides its tag);
//! - a kustomization `images:` entry's `newTag`, `digest` and `tagSuffix`, for the
//!   team's images, copied from the same entry of the target;
//! - the config's pinned keys: each scalar at a pinned path (or under it) copied
//!   from the same path of the same resource of the target.
//!
//! A copied scalar keeps the target's exact token (its quotes too), so `"1.10"`
//! stays a string. A value that cannot be edited in place (an alias, a block
//! scalar) is left as it is and reported in [`Pinning::missed`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Range;

use crate::model::edit::{self, ScalarSite};
use crate::model::image::canonical_name;
use crate::model::manifest::{parse_documents, resources, DocCache, Document, ResourceKey};
#[cfg(test)]
use crate::model::semdiff::key_pins;
use crate::model::semdiff::Pinned;

/// What decides which values are pinned.
pub struct PinRules<'a> {
    /// The config's pinned keys (by file glob and key path).
    pub pinned: &'a Pinned,
    /// Whether an image (by name as written) is one of the team's, whose tags are
    /// pinned per environment.
    pub is_team: &'a (dyn Fn(&str) -> bool + Sync),
}

/// A pinned value that could not be set to the target's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missed {
    pub line: usize,
    pub field: String,
    pub why: &'static str,
}

/// The pinned version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinning {
    pub text: Vec<u8>,
    pub missed: Vec<Missed>,
}

/// A kustomization entry's tag fields: `images[name=X].newTag` (and `digest`,
/// `tagSuffix`) → `X`.
fn kustomize_tag_field(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("images[name=")?;
    let (name, field) = rest.split_once("].")?;
    matches!(field, "newTag" | "digest" | "tagSuffix").then_some(name)
}

/// The target environment's version of a file, read once for pinning the
/// source's and the merge base's versions.
pub struct Target<'a> {
    text: &'a [u8],
    docs: Vec<Document>,
    /// The tag of the first image site of each (document, field, image by
    /// [`canonical_name`]).
    tags: HashMap<(usize, String, String), Option<String>>,
    scalars: Vec<ScalarSite>,
    /// The scalars of each (document, path), in order.
    scalars_at: HashMap<(usize, String), Vec<usize>>,
}

impl<'a> Target<'a> {
    /// `None` when it does not parse (then only `env_tags` pin).
    pub fn read(file: &str, text: &'a [u8], rules: &PinRules) -> Option<Target<'a>> {
        Target::read_with(file, text, rules, None)
    }

    /// [`Target::read`], its documents read through `cache`.
    pub fn read_with(
        file: &str,
        text: &'a [u8],
        rules: &PinRules,
        cache: Option<&DocCache>,
    ) -> Option<Target<'a>> {
        let sites = edit::Sites::read_with(text, needs_scalars(file, text, rules), cache).ok()?;
        let mut tags = HashMap::new();
        for t in sites.tags {
            tags.entry((t.doc, t.field, canonical_name(&t.image.name)))
                .or_insert(t.image.tag);
        }
        let mut scalars_at: HashMap<(usize, String), Vec<usize>> = HashMap::new();
        for (k, s) in sites.scalars.iter().enumerate() {
            scalars_at
                .entry((s.doc, s.path.clone()))
                .or_default()
                .push(k);
        }
        Some(Target {
            text,
            docs: sites.docs,
            tags,
            scalars: sites.scalars,
            scalars_at,
        })
    }
}

/// Whether pinning `file` copies whole scalars: the config pins keys in it, or it
/// may hold kustomization `images:` entries.
fn needs_scalars(file: &str, text: &[u8], rules: &PinRules) -> bool {
    rules.pinned.rules.iter().any(|r| r.files.is_match(file))
        || text.windows(7).any(|w| w == b"images:")
}

/// `text` (a version of the file at `file`) with the pinned values it shares with
/// `target` (the target environment's version, `None` when it has none) set to
/// the target's; `env_tags` maps [`canonical_name`] to the tag the target runs.
/// A file that does not parse is returned as it is.
pub fn pin_to_target(
    file: &str,
    text: &[u8],
    target: Option<&[u8]>,
    env_tags: &BTreeMap<String, String>,
    rules: &PinRules,
) -> Pinning {
    let target = target.and_then(|t| Target::read(file, t, rules));
    pin_to(file, text, target.as_ref(), env_tags, rules)
}

/// [`pin_to_target`] with the target's version already read.
pub fn pin_to(
    file: &str,
    text: &[u8],
    target: Option<&Target>,
    env_tags: &BTreeMap<String, String>,
    rules: &PinRules,
) -> Pinning {
    pin_to_with(file, text, target, env_tags, rules, None)
}

/// [`pin_to`], documents read through `cache`.
pub fn pin_to_with(
    file: &str,
    text: &[u8],
    target: Option<&Target>,
    env_tags: &BTreeMap<String, String>,
    rules: &PinRules,
    cache: Option<&DocCache>,
) -> Pinning {
    let unchanged = || Pinning {
        text: text.to_vec(),
        missed: Vec::new(),
    };
    let wants_keys = rules.pinned.rules.iter().any(|r| r.files.is_match(file));
    let mentions_images = text.windows(5).any(|w| w == b"image");
    if !wants_keys && !mentions_images {
        return unchanged();
    }
    let Ok(sites) = edit::Sites::read_with(text, needs_scalars(file, text, rules), cache) else {
        return unchanged();
    };
    let edit::Sites {
        docs,
        tags,
        scalars,
    } = sites;
    let pairs = match target {
        Some(t) => pair_docs(file, &docs, &t.docs),
        None => BTreeMap::new(),
    };
    let mut edits: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
    let mut missed = Vec::new();

    // Scalars copied whole: pinned keys and kustomization tag fields.
    if let Some(Target {
        text: target_text,
        scalars: target_scalars,
        scalars_at,
        ..
    }) = target
    {
        // The next unused scalar of each (document, path): taken in order.
        let mut next: HashMap<(usize, &str), usize> = HashMap::new();
        for site in &scalars {
            let pinned = rules.pinned.rule_pins(file, &site.path)
                || kustomize_tag_field(&site.path).is_some_and(|name| {
                    let entry = tags.iter().find(|t| {
                        t.doc == site.doc && t.field.starts_with(&format!("images[name={name}]."))
                    });
                    entry.is_some_and(|t| (rules.is_team)(&t.image.name)) || (rules.is_team)(name)
                });
            if !pinned {
                continue;
            }
            let Some(&target_doc) = pairs.get(&site.doc) else {
                continue;
            };
            let Some(candidates) = scalars_at.get(&(target_doc, site.path.clone())) else {
                continue;
            };
            let taken = next.entry((target_doc, site.path.as_str())).or_default();
            let Some(&k) = candidates.get(*taken) else {
                continue;
            };
            *taken += 1;
            let theirs: &ScalarSite = &target_scalars[k];
            let ours_bytes = &text[site.span.clone()];
            let theirs_bytes = &target_text[theirs.span.clone()];
            if site.blocked.is_none() && theirs.blocked.is_none() {
                if ours_bytes != theirs_bytes {
                    edits.push((site.span.clone(), theirs_bytes.to_vec()));
                }
            } else {
                missed.push(Missed {
                    line: site.line,
                    field: site.path.clone(),
                    why: site
                        .blocked
                        .or(theirs.blocked)
                        .map_or("cannot be copied", edit::Blocked::reason),
                });
            }
        }
    }

    // Image tags in containers' `image` fields, unless an edit already holds
    // them: a scalar copied whole, or the same tag reached twice (an alias).
    // The scalars copied, by start, with the furthest end reached so far.
    let mut copied: Vec<(usize, usize)> = edits.iter().map(|(r, _)| (r.start, r.end)).collect();
    copied.sort_unstable();
    let reach: Vec<usize> = copied
        .iter()
        .scan(0, |furthest, &(_, end)| {
            *furthest = end.max(*furthest);
            Some(*furthest)
        })
        .collect();
    // The tags edited: start → end, and the longest.
    let mut tagged: BTreeMap<usize, usize> = BTreeMap::new();
    let mut longest = 0;
    let held = |span: &Range<usize>, tagged: &BTreeMap<usize, usize>, longest: usize| {
        let i = copied.partition_point(|&(start, _)| start <= span.start);
        (i > 0 && reach[i - 1] >= span.end)
            || tagged
                .range(span.start.saturating_sub(longest)..=span.start)
                .any(|(_, &end)| end >= span.end)
    };
    for site in tags.iter().filter(|t| t.field.ends_with(".image")) {
        if !(rules.is_team)(&site.image.name) {
            continue;
        }
        if held(&site.span, &tagged, longest) {
            continue;
        }
        let key = canonical_name(&site.image.name);
        let same_site = target.and_then(|t| {
            let doc = pairs.get(&site.doc)?;
            t.tags
                .get(&(*doc, site.field.clone(), key.clone()))
                .cloned()
                .flatten()
        });
        let Some(wanted) = same_site.or_else(|| env_tags.get(&key).cloned()) else {
            continue;
        };
        if site.image.tag.as_deref() == Some(wanted.as_str()) {
            continue;
        }
        if let Some(why) = site.blocked {
            missed.push(Missed {
                line: site.line,
                field: site.field.clone(),
                why: why.reason(),
            });
            continue;
        }
        let bytes = if site.image.tag.is_none() && site.span.is_empty() {
            format!(":{wanted}").into_bytes()
        } else {
            wanted.into_bytes()
        };
        let end = tagged.entry(site.span.start).or_default();
        *end = site.span.end.max(*end);
        longest = longest.max(site.span.len());
        edits.push((site.span.clone(), bytes));
    }

    if edits.is_empty() {
        return Pinning {
            text: text.to_vec(),
            missed,
        };
    }
    let out = edit::replace_spans(text, &edits);
    let parses = match cache {
        Some(cache) => cache.parse(&out).is_ok(),
        None => parse_documents(&out).is_ok(),
    };
    if !parses {
        return Pinning {
            text: text.to_vec(),
            missed: vec![Missed {
                line: 0,
                field: file.to_owned(),
                why: "does not parse once pinned; left as it is",
            }],
        };
    }
    Pinning { text: out, missed }
}

/// Each document of `ours` with the document of `theirs` that holds the same
/// resources (by [`crate::model::manifest::resources`]' identity, occurrence by
/// occurrence; plain documents by their position), by document index.
fn pair_docs(file: &str, ours: &[Document], theirs: &[Document]) -> BTreeMap<usize, usize> {
    // Each document's resource keys, with its index, in order.
    let keys = |docs: &[Document]| -> Vec<(Vec<ResourceKey>, usize)> {
        let mut by_doc: HashMap<usize, Vec<ResourceKey>> = HashMap::new();
        for r in resources(file, docs, true) {
            by_doc.entry(r.doc).or_default().push(r.key);
        }
        docs.iter()
            .map(|d| (by_doc.remove(&d.index).unwrap_or_default(), d.index))
            .collect()
    };
    // Their documents of each list of keys, in order; taken from the front.
    let mut free: HashMap<Vec<ResourceKey>, VecDeque<usize>> = HashMap::new();
    for (key, index) in keys(theirs) {
        free.entry(key).or_default().push_back(index);
    }
    let mut out = BTreeMap::new();
    for (key, index) in keys(ours) {
        if key.is_empty() {
            continue;
        }
        if let Some(theirs) = free.get_mut(&key).and_then(VecDeque::pop_front) {
            out.insert(index, theirs);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::glob::GlobSet;
    use crate::model::semdiff::PinnedRule;

    fn rules(files: &str, keys: &[&str]) -> Pinned {
        Pinned {
            rules: vec![PinnedRule {
                files: GlobSet::new(&[files.to_owned()]).unwrap(),
                keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            }],
            ..Default::default()
        }
    }

    fn pin(file: &str, text: &str, target: &str, pinned: &Pinned, env: &[(&str, &str)]) -> String {
        let team = |name: &str| !name.contains("redis");
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (canonical_name(k), (*v).to_owned()))
            .collect();
        let out = pin_to_target(
            file,
            text.as_bytes(),
            Some(target.as_bytes()),
            &env,
            &PinRules {
                pinned,
                is_team: &team,
            },
        );
        assert!(out.missed.is_empty(), "{:?}", out.missed);
        String::from_utf8(out.text).unwrap()
    }

    #[test]
    fn keys_pin_their_path_only() {
        let cases = [
            ("image.tag", "image.tag", true),
            ("image.tag", "redis.tag", false),
            ("image.tag", "image.tagX", false),
            ("image", "image.tag", true),
            ("*.image.tag", "web.image.tag", true),
            ("*.image.tag", "image.tag", false),
            ("**.tag", "a.b.tag", true),
            ("env", "spec.env", false),
            ("spec.env", "spec.env[name=X].value", true),
            ("spec.env[name=X]", "spec.env[name=X].value", true),
            ("spec.env[name=X]", "spec.env[name=Y].value", false),
            ("a", "a[name=x.y].b", true),
        ];
        for (key, path, want) in cases {
            assert_eq!(key_pins(key, path), want, "{key} {path}");
        }
    }

    #[test]
    fn a_helm_values_file_keeps_the_pinned_path_and_takes_the_rest() {
        let pinned = rules("charts/*/values*.yaml", &["image.tag"]);
        let source = "# values\nimage:\n  repository: shop/web\n  tag: \"4f2c9ab\"  # dev\nredis:\n  tag: 8.8.0\n";
        let target =
            "# values\nimage:\n  repository: shop/web\n  tag: '1.2.3-rc.1'\nredis:\n  tag: 8.6.3\n";
        let out = pin("charts/shop/values.yaml", source, target, &pinned, &[]);
        assert_eq!(
            out,
            "# values\nimage:\n  repository: shop/web\n  tag: '1.2.3-rc.1'  # dev\nredis:\n  tag: 8.8.0\n"
        );
        // Another file is not pinned by the rule.
        let out = pin("other/values.yaml", source, target, &pinned, &[]);
        assert_eq!(out, source);
    }

    #[test]
    fn container_images_take_the_targets_tag_and_third_party_ones_travel() {
        let deploy = |web: &str, redis: &str, replicas: u32| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/shop/web:{web}\n      - name: cache\n        image: redis:{redis}\n"
            )
        };
        let source = deploy("4f2c9ab", "7.4.0", 3);
        let target = deploy("1.2.3", "7.2.4", 1);
        let out = pin("apps/web.yaml", &source, &target, &Pinned::default(), &[]);
        assert_eq!(out, deploy("1.2.3", "7.4.0", 3));
        // A new file gets the tag the target runs elsewhere.
        let out = pin(
            "apps/new.yaml",
            &source,
            "",
            &Pinned::default(),
            &[("registry.example.com/shop/web", "1.2.2")],
        );
        assert_eq!(out, deploy("1.2.2", "7.4.0", 3));
        // A renamed image is new to the target: left as the source has it.
        let moved = source.replace("registry.example.com", "new.example.com");
        let out = pin("apps/web.yaml", &moved, &target, &Pinned::default(), &[]);
        assert_eq!(out, moved);
    }

    #[test]
    fn kustomize_entries_keep_the_targets_new_tag_token() {
        let source = "resources: [deployment.yaml]\ncommonLabels: {team: shop}\nimages:\n- name: registry.example.com/shop/web\n  newTag: 4f2c9ab\n- name: redis\n  newTag: \"7.4\"\n";
        let target = "resources: [deployment.yaml]\nimages:\n- name: registry.example.com/shop/web\n  newTag: \"1.10\"\n- name: redis\n  newTag: \"7.2\"\n";
        let out = pin(
            "apps/web/kustomization.yaml",
            source,
            target,
            &Pinned::default(),
            &[],
        );
        assert_eq!(
            out,
            "resources: [deployment.yaml]\ncommonLabels: {team: shop}\nimages:\n- name: registry.example.com/shop/web\n  newTag: \"1.10\"\n- name: redis\n  newTag: \"7.4\"\n"
        );
    }

    #[test]
    fn the_same_site_wins_over_the_tag_run_elsewhere() {
        let deploy = |name: &str, tag: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: shop/app:{tag}\n"
            )
        };
        let source = format!("{}---\n{}", deploy("a", "4f2c9ab"), deploy("b", "4f2c9ab"));
        let target = format!("{}---\n{}", deploy("b", "1.0.1"), deploy("a", "1.0.0"));
        let out = pin(
            "apps/app.yaml",
            &source,
            &target,
            &Pinned::default(),
            &[("shop/app", "9.9.9")],
        );
        assert_eq!(
            out,
            format!("{}---\n{}", deploy("a", "1.0.0"), deploy("b", "1.0.1"))
        );
    }

    #[test]
    fn what_cannot_be_edited_in_place_is_reported_not_guessed() {
        let pinned = rules("values.yaml", &["image.tag"]);
        let source = "base: &t 4f2c9ab\nimage:\n  tag: *t\n";
        let target = "base: &t 1.2.3\nimage:\n  tag: *t\n";
        let team = |_: &str| true;
        let out = pin_to_target(
            "values.yaml",
            source.as_bytes(),
            Some(target.as_bytes()),
            &BTreeMap::new(),
            &PinRules {
                pinned: &pinned,
                is_team: &team,
            },
        );
        assert_eq!(out.text, source.as_bytes());
        assert_eq!(out.missed.len(), 1, "{:?}", out.missed);
        assert_eq!(out.missed[0].field, "image.tag");
        // A file that does not parse is left as it is.
        let out = pin_to_target(
            "values.yaml",
            b"image: {{ .Values.tag }}\n",
            Some(target.as_bytes()),
            &BTreeMap::new(),
            &PinRules {
                pinned: &pinned,
                is_team: &team,
            },
        );
        assert_eq!(out.text, b"image: {{ .Values.tag }}\n");
    }
}
