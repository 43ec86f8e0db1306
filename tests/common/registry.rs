//! A real image registry for the tests: Debian's `docker-registry` (CNCF
//! Distribution 2.8), started on 127.0.0.1 with a free port and a temporary
//! storage directory, anonymous or behind htpasswd basic authentication; and
//! test images pushed to it through the Distribution HTTP API as a client does
//! (a monolithic blob upload: `POST /v2/<name>/blobs/uploads/`, then `PUT
//! <location>&digest=…`; then `PUT /v2/<name>/manifests/<tag>`), each image a
//! tiny OCI manifest whose config carries `created`.
//!
//! HTTP is spoken with std's TcpStream (one request per connection), so the
//! harness shares nothing with the code under test.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The user and password of the htpasswd variant.
pub const USER: &str = "ci-bot";
pub const PASSWORD: &str = "regPASS-2468-secret";

/// A running `docker-registry serve`, stopped on drop.
pub struct Registry {
    child: Child,
    _dir: TempDir,
    /// `127.0.0.1:PORT`: the image names' registry host.
    pub host: String,
    /// Basic credentials the harness pushes with, if the registry wants them.
    auth: Option<String>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | *b as u32) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `user:password`, base64: docker's `auth` entry and the basic credentials.
pub fn basic(user: &str, password: &str) -> String {
    base64(format!("{user}:{password}").as_bytes())
}

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// One HTTP answer.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request to `host` (`127.0.0.1:PORT`) and reads the answer whole.
pub fn request(
    host: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP head"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
}

impl Registry {
    /// An anonymous registry.
    pub fn start() -> Registry {
        Registry::launch(None)
    }

    /// A registry behind htpasswd basic authentication, for [`USER`] and
    /// [`PASSWORD`] (a bcrypt line made by `htpasswd -nbB`, apache2-utils).
    pub fn start_with_htpasswd() -> Registry {
        let out = Command::new("htpasswd")
            .args(["-nbB", USER, PASSWORD])
            .output()
            .expect("htpasswd (apache2-utils; .ci/run installs it)");
        assert!(out.status.success(), "htpasswd failed");
        Registry::launch(Some(String::from_utf8(out.stdout).expect("UTF-8")))
    }

    fn launch(htpasswd: Option<String>) -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let storage = dir.path().join("data");
        let mut config = format!(
            "version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {}
  delete:
    enabled: true
http:
  addr: {host}
  secret: gitops-tests-only
",
            storage.display()
        );
        if let Some(line) = &htpasswd {
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, line).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: gitops-tests\n    path: {}\n",
                file.display()
            ));
        }
        let config_file = dir.path().join("config.yml");
        std::fs::write(&config_file, config).expect("write config");
        let child = Command::new(registry_binary())
            .arg("serve")
            .arg(&config_file)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (Debian's package; .ci/run installs it)");
        let registry = Registry {
            child,
            _dir: dir,
            host,
            auth: htpasswd.map(|_| format!("Basic {}", basic(USER, PASSWORD))),
        };
        registry.wait_ready();
        registry
    }

    /// Waits until `/v2/` answers (200, or 401 behind authentication).
    fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(a) = request(&self.host, "GET", "/v2/", &[], b"") {
                if a.status == 200 || a.status == 401 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "docker-registry did not answer on {} within 20 s",
            self.host
        );
    }

    fn send(&self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(auth) = &self.auth {
            all.push(("Authorization", auth));
        }
        request(&self.host, method, target, &all, body).expect("registry request")
    }

    /// Uploads a blob in one piece; returns its digest.
    pub fn push_blob(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = digest(bytes);
        let start = self.send(
            "POST",
            &format!("/v2/{repository}/blobs/uploads/"),
            &[],
            b"",
        );
        assert_eq!(
            start.status,
            202,
            "{}",
            String::from_utf8_lossy(&start.body)
        );
        let location = start.header("Location").expect("Location").to_owned();
        // Distribution answers with an absolute URL; a relative one is allowed.
        let target = match location.split_once("://") {
            Some((_, rest)) => rest[rest.find('/').unwrap_or(rest.len())..].to_owned(),
            None => location,
        };
        let sep = if target.contains('?') { '&' } else { '?' };
        let done = self.send(
            "PUT",
            &format!("{target}{sep}digest={digest}"),
            &[("Content-Type", "application/octet-stream")],
            bytes,
        );
        assert_eq!(done.status, 201, "{}", String::from_utf8_lossy(&done.body));
        digest
    }

    /// Pushes a tiny image tagged `tag` whose config says it was `created`
    /// (RFC 3339); returns the manifest's digest.
    pub fn push_image(&self, repository: &str, tag: &str, created: &str) -> String {
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","created":"{created}","config":{{"Labels":{{"tag":"{tag}"}}}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
            digest(tag.as_bytes())
        );
        let config_digest = self.push_blob(repository, config.as_bytes());
        let layer = format!("layer of {repository}:{tag}");
        let layer_digest = self.push_blob(repository, layer.as_bytes());
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer_digest}","size":{}}}]}}"#,
            config.len(),
            layer.len()
        );
        let put = self.send(
            "PUT",
            &format!("/v2/{repository}/manifests/{tag}"),
            &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
            manifest.as_bytes(),
        );
        assert_eq!(put.status, 201, "{}", String::from_utf8_lossy(&put.body));
        digest(manifest.as_bytes())
    }
}

fn registry_binary() -> &'static str {
    if Path::new("/usr/bin/docker-registry").exists() {
        "/usr/bin/docker-registry"
    } else {
        "docker-registry"
    }
}
