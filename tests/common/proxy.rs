//! A forwarding HTTP proxy on 127.0.0.1, as a company proxy behaves: it takes
//! absolute-form requests (`GET http://127.0.0.1:PORT/path HTTP/1.1`) and
//! forwards them to that host, and opens `CONNECT host:port` tunnels. It records
//! each request line and the `Proxy-Authorization` it came with, so a test can
//! tell whether a command went through it. One request per connection: the
//! answer says `Connection: close`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the proxy was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `GET http://127.0.0.1:PORT/path`, `CONNECT 127.0.0.1:PORT`.
    pub request: String,
    pub proxy_authorization: Option<String>,
}

pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    /// Starts the proxy; it lives as long as the test process.
    pub fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let record = record.clone();
                std::thread::spawn(move || serve(client, &record));
            }
        });
        Proxy { url, seen }
    }

    /// The requests it received, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("the record").clone()
    }

    /// Just the request lines.
    pub fn requests(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.request).collect()
    }
}

fn serve(client: TcpStream, record: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(client.try_clone().expect("a second handle"));
    let mut first = String::new();
    if reader.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = first.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let mut headers = Vec::new();
    let mut length = 0usize;
    let mut auth = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((&line, ""));
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
        match name.as_str() {
            "proxy-authorization" => auth = Some(value),
            "connection" | "proxy-connection" => {}
            _ => {
                if name == "content-length" {
                    length = value.parse().unwrap_or(0);
                }
                headers.push(line);
            }
        }
    }
    record.lock().expect("the record").push(Seen {
        request: format!("{method} {target}"),
        proxy_authorization: auth,
    });
    if method == "CONNECT" {
        tunnel(client, reader, &target);
    } else {
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        forward(client, &method, &target, &headers, &body);
    }
}

/// Sends an absolute-form request on to its host in origin form, and its answer
/// back with `Connection: close`.
fn forward(mut client: TcpStream, method: &str, target: &str, headers: &[String], body: &[u8]) {
    let Some(rest) = target.strip_prefix("http://") else {
        let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        return;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let Ok(mut upstream) = TcpStream::connect(authority) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
        return;
    };
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    if upstream.write_all(head.as_bytes()).is_err() || upstream.write_all(body).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = upstream.read_to_end(&mut answer);
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return;
    };
    let head = String::from_utf8_lossy(&answer[..end]);
    let mut out = String::new();
    for line in head.split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let _ = client.write_all(out.as_bytes());
    let _ = client.write_all(&answer[end + 4..]);
    let _ = client.shutdown(Shutdown::Both);
}

/// Answers `CONNECT` with 200 and copies bytes both ways until either side closes.
fn tunnel(mut client: TcpStream, reader: BufReader<TcpStream>, target: &str) {
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let mut to_upstream = upstream.try_clone().expect("a second handle");
    let mut from_upstream = upstream;
    // Bytes the reader had already buffered belong to the tunnel too.
    let buffered = reader.buffer().to_vec();
    let mut from_client = reader.into_inner();
    let up = std::thread::spawn(move || {
        let _ = to_upstream.write_all(&buffered);
        let _ = std::io::copy(&mut from_client, &mut to_upstream);
        let _ = to_upstream.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut from_upstream, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.join();
}
