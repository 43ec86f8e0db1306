//! What the exit code says: an internal error is not a usage error, a closed
//! pipe is not an error at all, and Ctrl-C exits 130 without a word.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::TestEnv;

/// An object the repository needs is gone: that is no typo of the user's, so not
/// exit 2, but an internal error (4) with one `error:` line and a hint to check
/// the repository.
#[test]
fn a_missing_object_is_an_internal_error() {
    let t = TestEnv::new();
    let s = t.quickstart();
    // The web deployment dev changed: `diff stage` must read it.
    let blob = t.rev(&s.repo, "origin/dev:apps/web/deployment.yaml");
    let loose = s
        .repo
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    assert!(loose.is_file(), "a loose object: {}", loose.display());
    std::fs::remove_file(&loose).unwrap();
    // Nor may the summaries cache answer for it.
    let _ = std::fs::remove_dir_all(s.repo.join(".git/gitops"));

    let run = t.gitops(&s.repo, &["diff", "stage", "--no-fetch"]);
    run.expect(4);
    run.error_line();
    assert!(run.hint().contains("git fsck"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// Refusals keep exit 2: a config that does not parse, a directory that is no
/// repository, a flag clap does not know.
#[test]
fn user_errors_stay_exit_2() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let plain = t.plain_dir("plain");
    t.gitops(&plain, &["status", "--no-fetch"]).refused();
    t.gitops(&s.repo, &["status", "--no-such-flag"]).expect(2);

    let dev = t.clone(&s.origin, "dev-clone", "dev");
    t.commit_file(
        &dev,
        ".gitops.yaml",
        "environments: [\n",
        "Break the config",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    t.gitops(&s.repo, &["status"]).refused();
}

/// `gitops status | head -1`: the reader went away, which is no failure — exit 0
/// and nothing on stderr, as ripgrep does.
#[test]
fn a_closed_pipe_exits_quietly() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    for args in [
        &["status", "--no-fetch"][..],
        &["status", "--no-fetch", "--json"],
        &["diff", "stage", "--no-fetch"],
        &["completions", "bash"],
    ] {
        let out = t
            .command(env!("CARGO_BIN_EXE_gitops"), &s.repo)
            .args(args)
            .stdout(writer.try_clone().unwrap())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

/// Ctrl-C while gitops waits on origin: exit 130, no error, the repository as
/// it was. Origin is a local server that accepts the connection and never
/// answers, so the signal comes while `git fetch` waits, whatever the timing.
#[test]
fn ctrl_c_exits_130_quietly() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    t.git(
        &s.repo,
        &[
            "remote",
            "set-url",
            "origin",
            &format!("git://127.0.0.1:{port}/config.git"),
        ],
    );
    let before = t.state(&s.repo);
    // gitops's own files: its caches, and their temporary files.
    let caches = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(s.repo.join(".git/gitops"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let caches_before = caches();

    let mut child = t
        .command(env!("CARGO_BIN_EXE_gitops"), &s.repo)
        .args(["status"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for git's connection (gitops is then in `git fetch`, its handler set),
    // or for gitops to end first, which fails the test below.
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let connection = loop {
        match listener.accept() {
            Ok((stream, _)) => break Some(stream),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if connection.is_none() {
        let _ = child.kill();
    }
    let kill = t
        .command("kill", &s.repo)
        .args(["-INT", &child.id().to_string()])
        .output()
        .unwrap();
    assert!(kill.status.success(), "{kill:?}");
    let status = child.wait().unwrap();
    // Now git may see the connection close and give up.
    drop(connection);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(status.code(), Some(130), "stderr:\n{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(t.state(&s.repo), before);
    assert_eq!(caches(), caches_before, "nothing left behind");
}
