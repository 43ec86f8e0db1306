//! Byte-exact tag edits (`gitops::model::edit`): golden tests over a corpus of awkward
//! manifests in `tests/fixtures/edit/`, and a property test over generated
//! Deployments. Every edit is checked three ways: (1) outside the tag spans the
//! output is the input byte for byte; (2) `tag_sites` on the output finds the
//! same sites with the new tag; (3) yaml_serde reads the same documents,
//! except the edited image or newTag values. Each span is also found a second
//! way, by searching the image text on its line.

use std::ops::Range;
use std::path::Path;

use gitops::model::edit::{set_tag, tag_sites, Blocked, EditError, TagSite};
use gitops::model::image::ImageRef;
use gitops::model::manifest::{flatten, parse_documents};
use proptest::prelude::*;

const NEW_TAG: &str = "9.9.9-new";

/// An expected site: its line, field, current tag and whether it is blocked.
struct Want {
    line: usize,
    field: &'static str,
    tag: Option<&'static str>,
    blocked: Option<Blocked>,
}

const fn ok(line: usize, field: &'static str, tag: &'static str) -> Want {
    Want {
        line,
        field,
        tag: Some(tag),
        blocked: None,
    }
}

const fn untagged(line: usize, field: &'static str) -> Want {
    Want {
        line,
        field,
        tag: None,
        blocked: None,
    }
}

const fn blocked(
    line: usize,
    field: &'static str,
    tag: Option<&'static str>,
    why: Blocked,
) -> Want {
    Want {
        line,
        field,
        tag,
        blocked: Some(why),
    }
}

struct Fixture {
    file: &'static str,
    sites: &'static [Want],
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        file: "plain.yaml",
        sites: &[
            ok(15, "spec.template.spec.containers[name=web].image", "1.2.3"),
            ok(
                19,
                "spec.template.spec.containers[name=sidecar].image",
                "v1.30.1",
            ),
        ],
    },
    Fixture {
        file: "single-quoted.yaml",
        sites: &[
            ok(
                10,
                "spec.template.spec.containers[name=db].image",
                "16.2-alpine",
            ),
            ok(
                12,
                "spec.template.spec.containers[name=exporter].image",
                "v0.15.0",
            ),
        ],
    },
    Fixture {
        file: "double-quoted.yaml",
        sites: &[
            ok(
                10,
                "spec.template.spec.initContainers[name=setup].image",
                "1.36",
            ),
            ok(
                13,
                "spec.template.spec.containers[name=agent].image",
                "2024.05.01",
            ),
        ],
    },
    Fixture {
        file: "trailing-comments.yaml",
        sites: &[
            ok(
                10,
                "spec.template.spec.containers[name=plain].image",
                "1.2.3",
            ),
            ok(
                12,
                "spec.template.spec.containers[name=single].image",
                "1.2.3",
            ),
            ok(
                14,
                "spec.template.spec.containers[name=double].image",
                "1.2.3",
            ),
            ok(
                16,
                "spec.template.spec.containers[name=tight].image",
                "1.2.3",
            ),
        ],
    },
    Fixture {
        file: "flow-mappings.yaml",
        sites: &[
            ok(8, "spec.template.spec.containers[name=web].image", "1.2"),
            ok(9, "spec.template.spec.containers[name=plain].image", "1.2"),
            ok(
                10,
                "spec.template.spec.containers[name=single].image",
                "1.2",
            ),
            ok(
                12,
                "spec.template.spec.containers[name=multi-line].image",
                "1.2",
            ),
            ok(
                14,
                "spec.template.spec.initContainers[name=init].image",
                "1.2",
            ),
            ok(
                14,
                "spec.template.spec.initContainers[name=init2].image",
                "1.2",
            ),
        ],
    },
    Fixture {
        file: "crlf.yaml",
        sites: &[
            ok(11, "spec.template.spec.containers[name=web].image", "1.2.3"),
            ok(
                13,
                "spec.template.spec.containers[name=plain].image",
                "1.2.3",
            ),
            ok(
                15,
                "spec.template.spec.containers[name=single].image",
                "1.2.3",
            ),
        ],
    },
    Fixture {
        file: "non-ascii.yaml",
        sites: &[
            ok(16, "spec.template.spec.containers[name=web].image", "1.2.3"),
            ok(18, "spec.template.spec.containers[name=café].image", "1.0"),
            ok(
                20,
                "spec.template.spec.containers[name=worker].image",
                "1.2.3",
            ),
        ],
    },
    Fixture {
        file: "registry-port.yaml",
        sites: &[
            ok(
                10,
                "spec.template.spec.containers[name=cart].image",
                "1.2.3",
            ),
            untagged(12, "spec.template.spec.containers[name=local].image"),
            untagged(14, "spec.template.spec.containers[name=bare].image"),
            ok(
                16,
                "spec.template.spec.containers[name=mirror].image",
                "1.25",
            ),
        ],
    },
    Fixture {
        file: "digests.yaml",
        sites: &[
            ok(
                10,
                "spec.template.spec.containers[name=tagged].image",
                "1.2",
            ),
            untagged(12, "spec.template.spec.containers[name=pinned].image"),
            ok(14, "spec.template.spec.containers[name=port].image", "v1"),
        ],
    },
    Fixture {
        file: "multi-document.yaml",
        sites: &[
            ok(19, "spec.template.spec.containers[name=web].image", "1.2.3"),
            ok(
                32,
                "spec.jobTemplate.spec.template.spec.containers[name=report].image",
                "1.2.3",
            ),
            ok(40, "spec.containers[name=shell].image", "1.2.3"),
            ok(43, "spec.ephemeralContainers[name=debugger].image", "1.36"),
        ],
    },
    Fixture {
        file: "block-scalars.yaml",
        sites: &[
            ok(34, "spec.template.spec.containers[name=web].image", "1.2.3"),
            ok(
                43,
                "spec.template.spec.containers[name=after-literal].image",
                "1.2.3",
            ),
        ],
    },
    Fixture {
        file: "mentions.yaml",
        sites: &[ok(
            26,
            "spec.template.spec.containers[name=web].image",
            "1.2.3",
        )],
    },
    Fixture {
        file: "anchors.yaml",
        sites: &[
            blocked(
                10,
                "spec.template.spec.containers[name=web].image",
                Some("1.2.3"),
                Blocked::Shared,
            ),
            blocked(
                15,
                "spec.template.spec.containers[name=copy].image",
                Some("1.2.3"),
                Blocked::Alias,
            ),
            ok(
                17,
                "spec.template.spec.containers[name=lonely].image",
                "1.2.3",
            ),
            ok(
                19,
                "spec.template.spec.containers[name=tagged].image",
                "1.2.3",
            ),
            ok(
                21,
                "spec.template.spec.containers[name=both].image",
                "1.2.3",
            ),
            blocked(
                32,
                "spec.template.spec.containers[name=app].image",
                Some("1.2.3"),
                Blocked::Shared,
            ),
            // The alias copies a pod template: its containers are containers too.
            blocked(
                33,
                "x-template-copy.spec.containers[name=app].image",
                Some("1.2.3"),
                Blocked::Alias,
            ),
            blocked(
                40,
                "spec.template.spec.containers[name=job].image",
                Some("1.2.3"),
                Blocked::Shared,
            ),
            blocked(
                42,
                "spec.template.spec.initContainers[name=job].image",
                Some("1.2.3"),
                Blocked::Alias,
            ),
        ],
    },
    Fixture {
        file: "escapes.yaml",
        sites: &[
            blocked(
                10,
                "spec.template.spec.containers[name=escaped].image",
                Some("1.2.3"),
                Blocked::NotVerbatim,
            ),
            blocked(
                12,
                "spec.template.spec.containers[name=unicode-escape].image",
                Some("1.2.3"),
                Blocked::NotVerbatim,
            ),
            blocked(
                15,
                "spec.template.spec.containers[name=folded].image",
                Some("1.2.3"),
                Blocked::NotVerbatim,
            ),
            ok(
                18,
                "spec.template.spec.containers[name=next-line].image",
                "1.2.3",
            ),
            ok(
                21,
                "spec.template.spec.containers[name=quoted-next-line].image",
                "1.2.3",
            ),
            ok(
                23,
                "spec.template.spec.containers[name=plain-ok].image",
                "1.2.3",
            ),
        ],
    },
    Fixture {
        file: "kustomization.yaml",
        sites: &[
            ok(7, "images[name=shop/web].newTag", "1.2.3"),
            ok(10, "images[name=shop/api].newTag", "1.2.3"),
            ok(12, "images[name=shop/worker].newTag", "1.2.3"),
            ok(13, "images[name=shop/flow].newTag", "1.2.3"),
            ok(15, "images[name=shop/numbered].newTag", "42"),
            blocked(
                16,
                "images[name=shop/moved].newTag",
                None,
                Blocked::NoNewTag,
            ),
            blocked(
                18,
                "images[name=shop/nulled].newTag",
                None,
                Blocked::NoNewTag,
            ),
            blocked(
                20,
                "images[name=shop/pinned].newTag",
                None,
                Blocked::NoNewTag,
            ),
            blocked(
                23,
                "images[name=shop/listed].newTag",
                None,
                Blocked::NotScalar,
            ),
        ],
    },
    Fixture {
        file: "helm-values.yaml",
        sites: &[ok(10, "containers[name=web].image", "1.2.3")],
    },
    Fixture {
        file: "argo-rollout.yaml",
        sites: &[
            ok(
                19,
                "spec.template.spec.initContainers[name=migrate].image",
                "1.2.3",
            ),
            ok(22, "spec.template.spec.containers[name=web].image", "1.2.3"),
        ],
    },
    Fixture {
        file: "list.yaml",
        sites: &[
            ok(
                20,
                "items[1].spec.template.spec.containers[name=web].image",
                "1.2.3",
            ),
            ok(
                21,
                "items[1].spec.template.spec.containers[1].image",
                "1.2.3",
            ),
            ok(
                33,
                "items[2].spec.jobTemplate.spec.template.spec.containers[name=report].image",
                "1.2.3",
            ),
        ],
    },
    Fixture {
        file: "indentation.yaml",
        sites: &[
            ok(11, "spec.template.spec.containers[name=web].image", "1.2.3"),
            ok(
                14,
                "spec.template.spec.containers[name=second].image",
                "1.2.3",
            ),
            ok(
                15,
                "spec.template.spec.containers[name=third].image",
                "1.2.3",
            ),
        ],
    },
    Fixture {
        file: "quoted-keys.yaml",
        sites: &[
            ok(3, "spec.template.spec.containers[name=web].image", "1.2.3"),
            ok(
                4,
                "spec.template.spec.containers[name=single].image",
                "1.2.3",
            ),
        ],
    },
    Fixture {
        file: "bom.yaml",
        sites: &[ok(
            11,
            "spec.template.spec.containers[name=web].image",
            "1.2.3",
        )],
    },
    Fixture {
        file: "no-images.yaml",
        sites: &[],
    },
];

fn fixture(file: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/edit")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every fixture in the directory has a row in FIXTURES, and every row a file.
#[test]
fn every_fixture_is_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/edit");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|f| f.file.to_owned()).collect();
    listed.sort();
    assert_eq!(files, listed);
}

#[test]
fn golden_fixtures() {
    for fx in FIXTURES {
        let input = fixture(fx.file);
        let sites = tag_sites(&input).unwrap_or_else(|e| panic!("{}: {e}", fx.file));
        let got: Vec<(usize, &str, Option<&str>, Option<Blocked>)> = sites
            .iter()
            .map(|s| (s.line, s.field.as_str(), s.image.tag.as_deref(), s.blocked))
            .collect();
        let want: Vec<(usize, &str, Option<&str>, Option<Blocked>)> = fx
            .sites
            .iter()
            .map(|w| (w.line, w.field, w.tag, w.blocked))
            .collect();
        assert_eq!(got, want, "{}: sites", fx.file);
        for site in sites.iter().filter(|s| s.blocked.is_none()) {
            check_span_independently(fx.file, &input, site);
        }
        check_edit(fx.file, &input, &sites, NEW_TAG);
    }
}

/// Editing each editable site alone changes that site only.
#[test]
fn one_site_at_a_time() {
    for fx in FIXTURES {
        let input = fixture(fx.file);
        let sites = tag_sites(&input).unwrap();
        for site in sites.iter().filter(|s| s.blocked.is_none()) {
            let case = format!("{} line {}", fx.file, site.line);
            let out = set_tag(&input, std::slice::from_ref(site), "0.1.0")
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_only_tags_differ(&case, &input, &out, std::slice::from_ref(site), "0.1.0");
            let after = tag_sites(&out).unwrap();
            let changed: Vec<&str> = after
                .iter()
                .zip(&sites)
                .filter(|(a, b)| a.image != b.image)
                .map(|(a, _)| a.field.as_str())
                .collect();
            assert_eq!(changed, [site.field.as_str()], "{case}");
        }
    }
}

#[test]
fn blocked_sites_are_refused() {
    for fx in FIXTURES {
        let input = fixture(fx.file);
        for site in tag_sites(&input).unwrap() {
            if let Some(why) = site.blocked {
                let err = set_tag(&input, std::slice::from_ref(&site), NEW_TAG).unwrap_err();
                assert_eq!(
                    err,
                    EditError::Blocked {
                        line: site.line,
                        field: site.field.clone(),
                        why
                    },
                    "{}",
                    fx.file
                );
                assert!(err.to_string().contains(&site.field), "{err}");
            }
        }
    }
}

#[test]
fn invalid_tags_are_refused() {
    let input = fixture("plain.yaml");
    let sites = tag_sites(&input).unwrap();
    for tag in [
        "",
        "-x",
        ".x",
        "a b",
        "a:b",
        "a\"b",
        "a'b",
        "ü",
        &"x".repeat(129),
    ] {
        assert_eq!(
            set_tag(&input, &sites, tag),
            Err(EditError::InvalidTag(tag.to_owned())),
            "{tag:?}"
        );
    }
}

#[test]
fn sites_from_another_version_are_refused() {
    let input = fixture("plain.yaml");
    let mut sites = tag_sites(&input).unwrap();
    sites[0].span.start += 1;
    assert!(matches!(
        set_tag(&input, &sites, NEW_TAG),
        Err(EditError::Stale { line: 15, .. })
    ));
    let other = fixture("single-quoted.yaml");
    let sites = tag_sites(&other).unwrap();
    assert!(matches!(
        set_tag(&input, &sites, NEW_TAG),
        Err(EditError::Stale { .. })
    ));
}

/// A plain `newTag` keeps its style, so a tag YAML reads as a number is refused
/// there; a quoted one takes it.
#[test]
fn numeric_tags_in_plain_new_tags_are_refused() {
    let input = fixture("kustomization.yaml");
    let sites = tag_sites(&input).unwrap();
    let plain = sites
        .iter()
        .find(|s| s.field == "images[name=shop/web].newTag")
        .unwrap();
    let err = set_tag(&input, std::slice::from_ref(plain), "1.10").unwrap_err();
    assert!(
        matches!(&err, EditError::Unverified { line: 7, found: Some(found), .. } if found == "1.1"),
        "{err:?}"
    );
    let quoted = sites
        .iter()
        .find(|s| s.field == "images[name=shop/api].newTag")
        .unwrap();
    let out = set_tag(&input, std::slice::from_ref(quoted), "1.10").unwrap();
    assert_only_tags_differ(
        "quoted newTag",
        &input,
        &out,
        std::slice::from_ref(quoted),
        "1.10",
    );
    // A whole number stays a number that reads back as the same text.
    let out = set_tag(&input, std::slice::from_ref(plain), "7").unwrap();
    assert_only_tags_differ(
        "plain newTag",
        &input,
        &out,
        std::slice::from_ref(plain),
        "7",
    );
}

/// Pod templates under any kind: an Argo Rollout's containers and a `kind: List`
/// item's are edited in place, the rest of the file byte for byte as it was.
#[test]
fn rollouts_and_list_items_are_edited_in_place() {
    let rollout = fixture("argo-rollout.yaml");
    let sites = tag_sites(&rollout).unwrap();
    let web: Vec<TagSite> = sites
        .iter()
        .filter(|s| s.image.name == "registry.example.com/shop/web")
        .cloned()
        .collect();
    assert_eq!(web.len(), 1, "{sites:#?}");
    assert_eq!(web[0].kind, "Rollout");
    let out = set_tag(&rollout, &web, "1.3.0").unwrap();
    let text = String::from_utf8(rollout.clone()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        text.replace(
            "image: registry.example.com/shop/web:1.2.3 # the app",
            "image: registry.example.com/shop/web:1.3.0 # the app"
        ),
        "only the web container's tag changes (not the migration's, not the comment)"
    );

    let list = fixture("list.yaml");
    let sites = tag_sites(&list).unwrap();
    let report: Vec<TagSite> = sites
        .iter()
        .filter(|s| s.image.name == "shop/report")
        .cloned()
        .collect();
    assert_eq!(report.len(), 1, "{sites:#?}");
    assert_eq!(report[0].kind, "CronJob", "a List item has its own kind");
    let out = set_tag(&list, &report, "2.0.0").unwrap();
    let text = String::from_utf8(list.clone()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        text.replace("image: shop/report:1.2.3}", "image: shop/report:2.0.0}")
    );
}

/// A kustomization entry that sets no tag (a rename, a `tagSuffix`) is a site
/// that says so: it is blocked, and its source is `Inherited`.
#[test]
fn kustomization_entries_say_whether_they_set_the_tag() {
    use gitops::model::images::TagSource;
    let input = b"resources: [../base]\nimages:\n- {name: web, newTag: 1.2.3}\n- {name: api, newName: reg.io/api}\n- {name: job, tagSuffix: -debug}\n- {name: db, digest: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}\n";
    let sites = tag_sites(input).unwrap();
    let got: Vec<(&str, TagSource, Option<Blocked>)> = sites
        .iter()
        .map(|s| (s.field.as_str(), s.tag_source, s.blocked))
        .collect();
    assert_eq!(
        got,
        [
            ("images[name=web].newTag", TagSource::Written, None),
            (
                "images[name=api].newTag",
                TagSource::Inherited,
                Some(Blocked::NoNewTag)
            ),
            (
                "images[name=job].newTag",
                TagSource::Inherited,
                Some(Blocked::NoNewTag)
            ),
            (
                "images[name=db].newTag",
                TagSource::Digest,
                Some(Blocked::NoNewTag)
            ),
        ]
    );
}

#[test]
fn parse_errors_are_reported() {
    let err = tag_sites(b"kind: Deployment\nspec: [1, 2\n").unwrap_err();
    assert!(err.line >= 2, "{err:?}");
    assert!(tag_sites(b"kind: Pod\nspec: {containers: [{image: \xff}]}\n").is_err());
    assert_eq!(tag_sites(b"").unwrap(), []);
    assert_eq!(tag_sites(b"# nothing\n").unwrap(), []);
}

/// Saphyr's spans: checked against what this module assumes of them, so a new
/// version that changes them fails here first. Its marks count characters, and
/// a quoted scalar's span runs on through a trailing comment.
#[test]
fn the_parser_quirks_this_module_works_around() {
    let before = "# café ☕\nkind: Pod\nspec:\n  containers:\n  - image: \"app:";
    let input = format!("{before}1\" # c\n");
    let sites = tag_sites(input.as_bytes()).unwrap();
    assert_eq!(sites.len(), 1);
    // "# café ☕" is 8 characters but 11 bytes; the comment after the quote is not
    // part of the scalar.
    assert_eq!(before.chars().count() + 3, before.len());
    assert_eq!(sites[0].span, before.len()..before.len() + 1);
}

// ---------------------------------------------------------------------------
// The three checks, and the independent span search.

/// Sets `new_tag` on every editable site and checks the three properties.
fn check_edit(case: &str, input: &[u8], sites: &[TagSite], new_tag: &str) -> Vec<u8> {
    let editable: Vec<TagSite> = sites
        .iter()
        .filter(|s| s.blocked.is_none())
        .cloned()
        .collect();
    let out = set_tag(input, &editable, new_tag).unwrap_or_else(|e| panic!("{case}: {e}"));
    // (1)
    assert_only_tags_differ(case, input, &out, &editable, new_tag);
    // (2)
    let after = tag_sites(&out).unwrap_or_else(|e| panic!("{case}: output: {e}"));
    assert_eq!(
        after.len(),
        sites.len(),
        "{case}: site count after the edit"
    );
    for (before, after) in sites.iter().zip(&after) {
        assert_eq!(after.doc, before.doc, "{case}");
        assert_eq!(after.field, before.field, "{case}");
        assert_eq!(after.blocked, before.blocked, "{case}: {}", before.field);
        let mut want = before.image.clone();
        if before.blocked.is_none() {
            want.tag = Some(new_tag.to_owned());
        }
        assert_eq!(after.image, want, "{case}: {}", before.field);
    }
    // (3)
    assert_same_documents(case, input, &out, &editable, new_tag);
    out
}

/// (1): the output is the input with each site's span replaced by the new tag
/// (`:TAG` where there was no tag), and the span held the old tag.
fn assert_only_tags_differ(case: &str, input: &[u8], out: &[u8], sites: &[TagSite], new_tag: &str) {
    let mut sorted: Vec<&TagSite> = sites.iter().collect();
    sorted.sort_by_key(|s| s.span.start);
    let (mut i, mut j) = (0, 0);
    for site in sorted {
        let old = &input[site.span.clone()];
        assert_eq!(
            old,
            site.image.tag.as_deref().unwrap_or("").as_bytes(),
            "{case}: span of {} holds {:?}",
            site.field,
            String::from_utf8_lossy(old)
        );
        let same = site.span.start - i;
        assert_eq!(
            &out[j..j + same],
            &input[i..site.span.start],
            "{case}: bytes before {} differ",
            site.field
        );
        j += same;
        let replacement = if site.image.tag.is_none() {
            format!(":{new_tag}")
        } else {
            new_tag.to_owned()
        };
        assert_eq!(
            &out[j..j + replacement.len()],
            replacement.as_bytes(),
            "{case}: {}",
            site.field
        );
        j += replacement.len();
        i = site.span.end;
    }
    assert_eq!(
        &out[j..],
        &input[i..],
        "{case}: bytes after the last tag differ"
    );
}

/// (3): yaml_serde reads the same documents, leaf for leaf, except the edited
/// fields, which now hold the image with the new tag (or the new tag).
fn assert_same_documents(case: &str, input: &[u8], out: &[u8], sites: &[TagSite], new_tag: &str) {
    let before = parse_documents(input).unwrap();
    let after = parse_documents(out).unwrap_or_else(|e| panic!("{case}: output: {e}"));
    assert_eq!(before.len(), after.len(), "{case}: documents");
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(a.index, b.index, "{case}");
        let (fa, fb) = (flatten(&a.value), flatten(&b.value));
        assert_eq!(fa.len(), fb.len(), "{case}: leaves of document {}", a.index);
        for ((pa, va), (pb, vb)) in fa.iter().zip(&fb) {
            assert_eq!(pa, pb, "{case}: document {}", a.index);
            match sites.iter().find(|s| s.doc == a.index && s.field == *pa) {
                Some(site) => {
                    let want = if site.field.ends_with(".newTag") {
                        new_tag.to_owned()
                    } else {
                        ImageRef {
                            tag: Some(new_tag.to_owned()),
                            ..site.image.clone()
                        }
                        .to_string()
                    };
                    assert_eq!(*vb, serde_json::Value::String(want), "{case}: {pa}");
                }
                None => assert_eq!(va, vb, "{case}: {pa} changed"),
            }
        }
    }
}

/// Finds the site's tag a second way: the line holding `span.start` (split on
/// '\n' here), the reference's exact text on it (outside any comment, delimited
/// as a scalar is), and the tag's place in that text. The span must be one of
/// the places found, and `line` the line found.
fn check_span_independently(case: &str, input: &[u8], site: &TagSite) {
    let text = std::str::from_utf8(input).unwrap();
    let mut line_start = 0;
    let mut line_no = 1;
    for line in text.split_inclusive('\n') {
        if line_start + line.len() > site.span.start {
            break;
        }
        line_start += line.len();
        line_no += 1;
    }
    assert_eq!(site.line, line_no, "{case}: line of {}", site.field);
    let line = text[line_start..].split('\n').next().unwrap();
    let line = &line[..comment_start(line)];
    let kustomize = site.field.ends_with(".newTag");
    let needle = if kustomize {
        site.image.tag.clone().unwrap()
    } else {
        site.image.to_string()
    };
    let mut candidates: Vec<Range<usize>> = Vec::new();
    for (at, _) in line.match_indices(&needle) {
        let before = line[..at].chars().next_back();
        let after = line[at + needle.len()..].chars().next();
        let delimited = matches!(before, None | Some(' ' | '\t' | '"' | '\''))
            && matches!(
                after,
                None | Some(' ' | '\t' | '"' | '\'' | ',' | '}' | ']' | '\r')
            );
        if !delimited {
            continue;
        }
        let start = line_start + at;
        candidates.push(if kustomize {
            start..start + needle.len()
        } else {
            let name_end = start + site.image.name.len();
            match &site.image.tag {
                Some(tag) => name_end + 1..name_end + 1 + tag.len(),
                None => name_end..name_end,
            }
        });
    }
    assert!(
        candidates.contains(&site.span),
        "{case}: {} at {:?}, but {needle:?} is at {candidates:?} on line {line_no}",
        site.field,
        site.span
    );
}

/// Where a line's comment starts (its length when there is none): the first '#'
/// after white space or at the start, outside quotes.
fn comment_start(line: &str) -> usize {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '#' && (prev == ' ' || prev == '\t') => return i,
            None if (c == '"' || c == '\'')
                && matches!(prev, ' ' | '\t' | '{' | '[' | ',' | ':') =>
            {
                quote = Some(c)
            }
            None => {}
        }
        prev = c;
    }
    line.len()
}

// ---------------------------------------------------------------------------
// The property test: generated Deployments.

#[derive(Debug, Clone)]
struct Gen {
    crlf: bool,
    /// Lines of comments (possibly non-ASCII) and blank lines before the document.
    preamble: Vec<String>,
    /// A ConfigMap mentioning the same image before the Deployment.
    configmap_first: bool,
    label: String,
    containers: Vec<GenContainer>,
    /// Trailing comment on the line of `spec:`.
    spec_comment: Option<String>,
    /// A comment after the document.
    postamble: Option<String>,
}

#[derive(Debug, Clone)]
struct GenContainer {
    image: String,
    /// 0 plain, 1 single-quoted, 2 double-quoted.
    quote: u8,
    flow: bool,
    /// Spaces after `image:`.
    spaces: usize,
    /// Spaces before the trailing comment, and the comment.
    trailing: Option<(usize, String)>,
    /// A comment line and a blank line before the container.
    comment_before: Option<String>,
    blank_before: bool,
    /// The image key comes after the name (or before it).
    image_last: bool,
}

fn comment_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "café",
            "☕",
            "名前",
            "ünï",
            "image:",
            "app:1.2.3",
            "'",
            "\"",
            "#",
            "x",
            "-",
            " ",
            "🚀",
            "\t",
        ]),
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

fn image_ref() -> impl Strategy<Value = String> {
    let registry = prop::sample::select(vec![
        "",
        "registry.example.com/",
        "registry.example.com:5000/",
        "localhost:5000/",
        "ghcr.io/",
    ]);
    let path = prop::sample::select(vec!["app", "shop/cart", "a/b/c", "my-app.x_y"]);
    let tag = prop::option::of(prop::sample::select(vec![
        "1.2.3",
        "v1",
        "latest",
        "1.2.3-rc.1",
        "2024_05",
        "42",
    ]));
    let digest = prop::option::weighted(
        0.2,
        Just("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
    );
    (registry, path, tag, digest).prop_map(|(r, p, t, d)| {
        let mut s = format!("{r}{p}");
        if let Some(t) = t {
            s = format!("{s}:{t}");
        }
        if let Some(d) = d {
            s = format!("{s}@{d}");
        }
        s
    })
}

fn container() -> impl Strategy<Value = GenContainer> {
    (
        image_ref(),
        0u8..3,
        any::<bool>(),
        1usize..4,
        prop::option::of((1usize..4, comment_text())),
        prop::option::of(comment_text()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(image, quote, flow, spaces, trailing, comment_before, blank_before, image_last)| {
                GenContainer {
                    image,
                    quote,
                    flow,
                    spaces,
                    trailing,
                    comment_before,
                    blank_before,
                    image_last,
                }
            },
        )
}

fn generated() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),
        prop::collection::vec(
            prop_oneof![
                comment_text().prop_map(|c| format!("# {c}")),
                Just(String::new())
            ],
            0..4,
        ),
        any::<bool>(),
        prop::sample::select(vec!["web", "名前", "\"équipe 🚀\"", "'x: y'"]),
        prop::collection::vec(container(), 1..4),
        prop::option::of(comment_text()),
        prop::option::of(comment_text()),
    )
        .prop_map(
            |(crlf, preamble, configmap_first, label, containers, spec_comment, postamble)| Gen {
                crlf,
                preamble,
                configmap_first,
                label: label.to_owned(),
                containers,
                spec_comment,
                postamble,
            },
        )
}

fn quoted(image: &str, quote: u8) -> String {
    match quote {
        0 => image.to_owned(),
        1 => format!("'{image}'"),
        _ => format!("\"{image}\""),
    }
}

fn render(g: &Gen) -> String {
    let mut lines: Vec<String> = g.preamble.clone();
    if g.configmap_first {
        let image = &g.containers[0].image;
        lines.push("apiVersion: v1".into());
        lines.push("kind: ConfigMap".into());
        lines.push("data:".into());
        lines.push(format!("  image: {image}"));
        lines.push(format!(
            "  script: |\n    docker pull {image}\n    # image: {image}"
        ));
        lines.push("---".into());
    }
    lines.push("apiVersion: apps/v1".into());
    lines.push("kind: Deployment".into());
    lines.push("metadata:".into());
    lines.push("  name: web".into());
    lines.push(format!("  labels: {{app: {}}}", g.label));
    lines.push("  annotations:".into());
    lines.push(format!("    image: {}", quoted(&g.containers[0].image, 2)));
    match &g.spec_comment {
        Some(c) => lines.push(format!("spec:   # {c}")),
        None => lines.push("spec:".into()),
    }
    lines.push("  template:".into());
    lines.push("    spec:".into());
    lines.push("      containers:".into());
    for (i, c) in g.containers.iter().enumerate() {
        if c.blank_before {
            lines.push(String::new());
        }
        if let Some(comment) = &c.comment_before {
            lines.push(format!("      # {comment}"));
        }
        let name = format!("c{i}");
        let value = quoted(&c.image, c.quote);
        let spaces = " ".repeat(c.spaces);
        let trailing = match &c.trailing {
            Some((n, comment)) => format!("{}# {comment}", " ".repeat(*n)),
            None => String::new(),
        };
        let env = format!("env: [{{name: IMAGE, value: {}}}]", quoted(&c.image, 1));
        if c.flow {
            let image = format!("image:{spaces}{value}");
            let name = format!("name: {name}");
            let (first, second) = if c.image_last {
                (name, image)
            } else {
                (image, name)
            };
            lines.push(format!("      - {{{first}, {second}, {env}}}{trailing}"));
        } else {
            let image = format!("image:{spaces}{value}{trailing}");
            let name = format!("name: {name}");
            let (first, second) = if c.image_last {
                (name, image)
            } else {
                (image, name)
            };
            lines.push(format!("      - {first}"));
            lines.push(format!("        {second}"));
            lines.push(format!("        {env}"));
        }
    }
    if let Some(c) = &g.postamble {
        lines.push(format!("# {c}"));
    }
    let eol = if g.crlf { "\r\n" } else { "\n" };
    let mut text = lines.join("\n").replace('\n', eol);
    text.push_str(eol);
    text
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_deployments(g in generated(), new_tag in prop::sample::select(vec!["2.0.0", "v9", "0.0.1-rc.3", "x_y"])) {
        let text = render(&g);
        let input = text.as_bytes();
        let sites = tag_sites(input).unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(sites.len(), g.containers.len(), "{}", text);
        for (site, c) in sites.iter().zip(&g.containers) {
            prop_assert_eq!(site.blocked, None);
            prop_assert_eq!(site.image.to_string(), c.image.clone());
            check_span_independently(&text, input, site);
        }
        check_edit(&text, input, &sites, new_tag);
    }
}
