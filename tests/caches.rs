//! The caches change no answer: whatever happens to the files in
//! `.git/gitops/` (damaged, cut short, extended, emptied, foreign, from an older
//! version) or to git's commit-graph, `gitops status` gives the answer it gives
//! without them, exits 0, and leaves sound files behind.

mod common;

use std::path::Path;

use common::{env, TestEnv};

/// The cache files gitops keeps in `.git/gitops/`.
const FILES: [&str; 2] = ["summaries", "trees"];

/// A small deterministic generator (SplitMix64): the same damage on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Asserts that a cache file is sound: one header line naming it, the object
/// format, the content's length and CRC-32, then exactly that content.
fn assert_sound(path: &Path, name: &str) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .expect("a header line")
        + 1;
    let (header, content) = bytes.split_at(end);
    let header = std::str::from_utf8(header).expect("a text header");
    let fields: Vec<&str> = header.trim_end().split(' ').collect();
    assert_eq!(fields.len(), 6, "{header:?}");
    assert_eq!(fields[..2], ["gitops-cache", name], "{header:?}");
    assert_eq!(fields[3], "sha1", "{header:?}");
    assert_eq!(fields[4], content.len().to_string(), "{header:?}");
    assert_eq!(
        fields[5],
        format!("crc32:{:08x}", crc32fast::hash(content)),
        "{header:?}"
    );
    assert!(!content.is_empty(), "{name} keeps something");
}

/// The ways a file is damaged: each gets the file's sound bytes and the seeded
/// generator, and returns what to write in its place.
type Damage = fn(&[u8], &mut Rng) -> Vec<u8>;

fn damages() -> Vec<(&'static str, Damage)> {
    vec![
        ("one byte changed", |b, r| {
            let mut d = b.to_vec();
            let i = r.below(d.len());
            d[i] ^= 1 << r.below(8);
            d
        }),
        ("one byte of the header changed", |b, r| {
            let mut d = b.to_vec();
            let header = d.iter().position(|b| *b == b'\n').unwrap();
            d[r.below(header)] ^= 0x20;
            d
        }),
        ("a run of bytes zeroed", |b, r| {
            let mut d = b.to_vec();
            let at = r.below(d.len());
            let end = (at + 1 + r.below(64)).min(d.len());
            d[at..end].fill(0);
            d
        }),
        ("cut short", |b, r| b[..r.below(b.len())].to_vec()),
        ("emptied", |_, _| Vec::new()),
        ("junk appended", |b, r| {
            let mut d = b.to_vec();
            d.extend((0..1 + r.below(100)).map(|_| r.next() as u8));
            d
        }),
        ("two lines swapped", |b, r| {
            let mut lines: Vec<&[u8]> = b.split_inclusive(|b| *b == b'\n').collect();
            if lines.len() > 2 {
                let n = lines.len() - 1;
                let i = 1 + r.below(n);
                lines.swap(i, 1 + (i % n));
            }
            lines.concat()
        }),
        ("a digit changed in place (a tag, a time)", |b, r| {
            let mut d = b.to_vec();
            let header = d.iter().position(|b| *b == b'\n').unwrap() + 1;
            let digits: Vec<usize> = (header..d.len())
                .filter(|i| d[*i].is_ascii_digit())
                .collect();
            if let Some(&i) = digits.get(r.below(digits.len().max(1))) {
                d[i] = if d[i] == b'9' { b'0' } else { d[i] + 1 };
            }
            d
        }),
        ("an image tag changed in place", |b, r| {
            // `name|tag|digest|inline` in a summary line.
            let mut d = b.to_vec();
            let tags: Vec<usize> = (1..d.len())
                .filter(|i| {
                    d[i - 1] == b'|' && d[*i].is_ascii_digit() && d.get(i + 1) != Some(&b'\t')
                })
                .collect();
            if let Some(&i) = tags.get(r.below(tags.len().max(1))) {
                d[i] = if d[i] == b'9' { b'0' } else { d[i] + 1 };
            }
            d
        }),
        ("the format before checksums", |b, _| {
            let header = b.iter().position(|b| *b == b'\n').unwrap() + 1;
            [&b"gitops summaries 3 0.1.0\n"[..], &b[header..]].concat()
        }),
        ("another version's header", |b, _| {
            let text = String::from_utf8_lossy(b).into_owned();
            let header = text.lines().next().unwrap().to_owned();
            let mut fields: Vec<&str> = header.split(' ').collect();
            fields[2] = "0";
            text.replacen(&header, &fields.join(" "), 1).into_bytes()
        }),
        ("random bytes", |b, r| {
            (0..b.len().min(4096)).map(|_| r.next() as u8).collect()
        }),
    ]
}

#[test]
fn damaged_cache_files_change_no_answer_and_are_rewritten() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let status = || t.gitops(&s.repo, &["status", "--json", "--no-fetch"]);
    let run = status();
    let first = run.expect(0).json();
    let quiet = run.stderr.clone();
    let dir = s.repo.join(".git/gitops");
    for name in FILES {
        assert_sound(&dir.join(name), name);
    }
    assert_eq!(status().expect(0).json(), first, "read from the caches");
    let sound: Vec<Vec<u8>> = FILES
        .iter()
        .map(|name| std::fs::read(dir.join(name)).unwrap())
        .collect();

    let mut rng = Rng(0x5eed_ca5e);
    let mut tried = 0;
    for (file, name) in FILES.iter().enumerate() {
        for (how, damage) in damages() {
            for round in 0..6 {
                let damaged = damage(&sound[file], &mut rng);
                if damaged == sound[file] {
                    continue; // two equal lines swapped, say
                }
                tried += 1;
                std::fs::write(dir.join(name), &damaged).unwrap();
                let run = status();
                let what = format!("{name}, {how} (round {round})");
                assert_eq!(run.code, 0, "{what}:\n{}", run.stderr);
                assert_eq!(run.json(), first, "{what}: the same answer");
                assert_eq!(run.stderr, quiet, "{what}: nothing to say about it");
                assert_sound(&dir.join(name), name);
            }
        }
    }
    assert!(tried >= 60, "{tried} damaged files tried");

    // A foreign file: the commit cache of gitops 0.1.0 before checksums.
    let mut old = b"gitops commits 1\n".to_vec();
    old.extend((0..300).map(|_| rng.next() as u8));
    std::fs::write(dir.join("summaries"), &old).unwrap();
    assert_eq!(status().expect(0).json(), first, "a foreign file");
    assert_sound(&dir.join("summaries"), "summaries");

    // No leftovers beside the files.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, FILES);
    assert_eq!(
        t.git(&s.repo, &["status", "--porcelain", "--untracked-files=all"]),
        "",
        "the working tree is untouched"
    );
}

/// The trees kept in `.git/gitops/trees` are keyed by id and never stale: after
/// origin moves, the answer read with them is the answer read without any cache,
/// and the file is rewritten with the new trees.
#[test]
fn kept_trees_follow_origin() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let status = || t.gitops(&s.repo, &["status", "--json"]);
    status().expect(0);
    let kept = s.repo.join(".git/gitops/trees");
    assert_sound(&kept, "trees");
    let before = std::fs::read(&kept).unwrap();

    let other = t.clone(&s.origin, "other", "dev");
    t.commit_file(
        &other,
        "apps/search/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: search\nspec:\n  template:\n    spec:\n      containers:\n        - name: search\n          image: ghcr.io/acme/search:abc1234\n",
        "search: a new app",
    );
    t.git(&other, &["push", "--quiet", "origin", "dev"]);

    let kept_answer = status().expect(0).json();
    assert_eq!(
        env(&kept_answer, "dev")["images"]["ghcr.io/acme/search"],
        "abc1234",
        "the new tree is read: {kept_answer:#}"
    );
    assert_sound(&kept, "trees");
    assert_ne!(
        std::fs::read(&kept).unwrap(),
        before,
        "the new trees are kept"
    );

    std::fs::remove_dir_all(s.repo.join(".git/gitops")).unwrap();
    assert_eq!(
        status().expect(0).json(),
        kept_answer,
        "the same answer without caches"
    );
}

/// A cache that cannot be read or written at all (a directory in its place, say)
/// costs time, never the answer.
#[test]
fn caches_that_cannot_be_kept_are_not_errors() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let status = || t.gitops(&s.repo, &["status", "--json", "--no-fetch"]);
    let first = status().expect(0).json();
    let dir = s.repo.join(".git/gitops");
    for name in FILES {
        std::fs::remove_file(dir.join(name)).unwrap();
        std::fs::create_dir(dir.join(name)).unwrap();
    }
    assert_eq!(
        status().expect(0).json(),
        first,
        "directories in their place"
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, FILES, "no temporary files left");

    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"not a folder").unwrap();
    assert_eq!(
        status().expect(0).json(),
        first,
        "a file where the folder was"
    );
}

/// Deleting the folder is always safe: the next run makes it again.
#[test]
fn the_folder_can_be_deleted() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let status = || t.gitops(&s.repo, &["status", "--json", "--no-fetch"]);
    let first = status().expect(0).json();
    let dir = s.repo.join(".git/gitops");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(status().expect(0).json(), first);
    for name in FILES {
        assert_sound(&dir.join(name), name);
    }
}

/// Git's commit-graph, where `status` reads commits, is believed only when it
/// passes its checksum: a damaged one changes no answer, and git writes it
/// afresh.
#[test]
fn a_damaged_commit_graph_changes_no_answer_and_is_rewritten() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let status = || t.gitops(&s.repo, &["status", "--json", "--no-fetch"]);
    let first = status().expect(0).json();
    let graph = s.repo.join(".git/objects/info/commit-graph");
    assert!(!graph.exists(), "a few commits need no commit-graph");
    t.git(&s.repo, &["commit-graph", "write", "--reachable"]);
    assert_eq!(
        status().expect(0).json(),
        first,
        "read from the commit-graph"
    );
    let sound = std::fs::read(&graph).unwrap();

    let mut rng = Rng(0x00c0_ffee);
    let damages: Vec<(&str, Damage)> = vec![
        ("one byte changed", |b, r| {
            let mut d = b.to_vec();
            let i = r.below(d.len());
            d[i] ^= 1 << r.below(8);
            d
        }),
        ("cut short", |b, r| b[..r.below(b.len())].to_vec()),
        ("emptied", |_, _| Vec::new()),
        ("junk appended", |b, r| {
            let mut d = b.to_vec();
            d.extend((0..1 + r.below(100)).map(|_| r.next() as u8));
            d
        }),
    ];
    for (how, damage) in damages {
        for round in 0..3 {
            let what = format!("{how} (round {round})");
            std::fs::remove_file(&graph).unwrap();
            std::fs::write(&graph, damage(&sound, &mut rng)).unwrap();
            let run = status();
            assert_eq!(run.code, 0, "{what}:\n{}", run.stderr);
            assert_eq!(run.json(), first, "{what}: the same answer");
            t.git(&s.repo, &["commit-graph", "verify", "--no-progress"]);
            assert_eq!(
                std::fs::read(&graph).unwrap(),
                sound,
                "{what}: written afresh"
            );
        }
    }

    // A chain whose layer is gone.
    std::fs::remove_file(&graph).unwrap();
    let layers = s.repo.join(".git/objects/info/commit-graphs");
    std::fs::create_dir(&layers).unwrap();
    std::fs::write(
        layers.join("commit-graph-chain"),
        format!("{}\n", "ab".repeat(20)),
    )
    .unwrap();
    assert_eq!(status().expect(0).json(), first, "a layer missing");
    t.git(&s.repo, &["commit-graph", "verify", "--no-progress"]);
}

/// The first run in a clone with a long history and no commit-graph has git
/// write one, unless `core.commitGraph` is off.
#[test]
fn a_long_history_gets_a_commit_graph() {
    let t = TestEnv::new();
    let s = t.quickstart();
    // 250 more commits on dev, as if fetched.
    let dev = t.rev(&s.repo, "origin/dev");
    let mut stream = String::new();
    for i in 0..250 {
        stream.push_str(&format!(
            "commit refs/remotes/origin/dev\ncommitter C <c@example.com> {} +0000\ndata 2\n{}\n",
            1_789_990_000 + i,
            i % 10
        ));
        if i == 0 {
            stream.push_str(&format!("from {dev}\n"));
        }
        stream.push('\n');
    }
    let mut import = t.command("git", &s.repo);
    import
        .args(["fast-import", "--quiet", "--force"])
        .stdin(std::process::Stdio::piped());
    let mut child = import.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let status = || t.gitops(&s.repo, &["status", "--json", "--no-fetch"]);
    let graph = s.repo.join(".git/objects/info/commit-graph");

    t.git(&s.repo, &["config", "core.commitGraph", "false"]);
    let first = status().expect(0).json();
    assert!(!graph.exists(), "git would not read it: none written");

    t.git(&s.repo, &["config", "core.commitGraph", "true"]);
    assert_eq!(status().expect(0).json(), first);
    t.git(&s.repo, &["commit-graph", "verify", "--no-progress"]);
    assert_eq!(
        status().expect(0).json(),
        first,
        "read from the commit-graph"
    );
    assert!(
        env(&first, "stage")["pending"].as_u64() > Some(250),
        "{first:#}"
    );
}

/// The pieces of a file of many documents (each document's place, hash and
/// identity), kept in `.git/gitops/pieces`, damaged in every way: the answer
/// is the one without the file, and the file is written again, sound.
#[test]
fn a_damaged_pieces_cache_changes_no_answer() {
    use common::shapes::{container, deployment, service, shop_image, Shape, DEV_TAG, NEW_DEV_TAG};
    let t = TestEnv::new();
    let docs: Vec<String> = ["web", "cart", "search"]
        .iter()
        .flat_map(|app| {
            [
                deployment("apps/v1", app, &container(app, &shop_image(app, DEV_TAG))),
                service(app),
            ]
        })
        .collect();
    let all = docs.join("---\n");
    let shape = Shape::pinned(&t, "single", &[("apps/all.yaml", &all)]);
    // Versions to compare document by document: drift on stage, a build and
    // a change of values on dev.
    let edit = |branch: &str, from: &str, to: &str| {
        let text = shape.show(branch, "apps/all.yaml");
        assert!(text.contains(from), "{from} on {branch}");
        shape.commit(
            branch,
            &[("apps/all.yaml", &text.replacen(from, to, 1))],
            "edit",
        );
    };
    edit("stage", "memory: 128Mi", "memory: 256Mi");
    edit("dev", DEV_TAG, NEW_DEV_TAG);
    edit("dev", "replicas: 2", "replicas: 3");

    let status = || t.gitops(&shape.repo, &["status", "--json"]);
    let run = status();
    let first = run.expect(0).json();
    assert_eq!(env(&first, "stage")["drift"], 1, "{first:#}");
    assert_eq!(
        env(&first, "stage")["pending_apps"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let quiet = run.stderr.clone();
    let file = shape.repo.join(".git/gitops/pieces");
    assert_sound(&file, "pieces");
    let sound = std::fs::read(&file).unwrap();
    assert_eq!(status().expect(0).json(), first, "read from the cache");

    let mut rng = Rng(0x009e_3ce5);
    let mut tried = 0;
    for (how, damage) in damages() {
        for round in 0..6 {
            let damaged = damage(&sound, &mut rng);
            if damaged == sound {
                continue;
            }
            tried += 1;
            std::fs::write(&file, &damaged).unwrap();
            let run = status();
            let what = format!("pieces, {how} (round {round})");
            assert_eq!(run.code, 0, "{what}:\n{}", run.stderr);
            assert_eq!(run.json(), first, "{what}: the same answer");
            assert_eq!(run.stderr, quiet, "{what}: nothing to say about it");
            assert_sound(&file, "pieces");
        }
    }
    assert!(tried >= 30, "{tried} damaged files tried");
    std::fs::remove_dir_all(shape.repo.join(".git/gitops")).unwrap();
    assert_eq!(
        status().expect(0).json(),
        first,
        "the answer without caches"
    );
}

/// A pieces file that is not believed is written again, sound, also by a run
/// with no file of many documents to keep (the quickstart's files hold one
/// document each).
#[test]
fn a_foreign_pieces_file_is_written_again_by_any_run() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let status = || t.gitops(&s.repo, &["status", "--json", "--no-fetch"]);
    let first = status().expect(0).json();
    let file = s.repo.join(".git/gitops/pieces");
    assert!(!file.exists(), "no file of many documents, nothing kept");
    for (how, bytes) in [
        ("not a cache", b"garbage\n".to_vec()),
        (
            "a summaries file",
            std::fs::read(s.repo.join(".git/gitops/summaries")).unwrap(),
        ),
    ] {
        std::fs::write(&file, bytes).unwrap();
        assert_eq!(status().expect(0).json(), first, "{how}");
        assert_sound(&file, "pieces");
    }
}
