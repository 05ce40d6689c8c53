//! A fault-injecting HTTP/1.1 proxy in front of the real S3 server (moto_server): it forwards
//! each request whole and its answer whole, except while a fault window is open, when it
//! answers 500/503 itself, in turn before forwarding (the request never reached S3) and after
//! forwarding (S3 carried it out, and the answer is lost, as when S3 fails after a write).
//! Used to test that the S3 channel retries within `backends.S3.max_timeout`, then fails with
//! a clear error, and never delivers a message twice or loses one.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    /// Requests are failed until this instant.
    until: Option<Instant>,
    /// Statuses answered in turn while failing.
    statuses: Vec<u16>,
}

pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    /// Requests forwarded and answered by S3; failed before forwarding; failed after S3 did them.
    pub forwarded: Arc<AtomicU64>,
    pub failed_before: Arc<AtomicU64>,
    pub failed_after: Arc<AtomicU64>,
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).unwrap();
        let p = FaultProxy {
            port: listener.local_addr().unwrap().port(),
            state: Arc::default(),
            stop: Arc::default(),
            forwarded: Arc::default(),
            failed_before: Arc::default(),
            failed_after: Arc::default(),
        };
        let (state, stop) = (p.state.clone(), p.stop.clone());
        let counts = (
            p.forwarded.clone(),
            p.failed_before.clone(),
            p.failed_after.clone(),
        );
        std::thread::spawn(move || {
            let turn = Arc::new(AtomicU64::new(0));
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (state, counts, turn) = (state.clone(), counts.clone(), turn.clone());
                        std::thread::spawn(move || {
                            let _ = serve(client, upstream, &state, &counts, &turn);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        p
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers every request with `statuses` in turn (500, 503, ...) for `window`.
    pub fn fail_for(&self, window: Duration, statuses: &[u16]) {
        let mut s = self.state.lock().unwrap();
        s.until = Some(Instant::now() + window);
        s.statuses = statuses.to_vec();
    }

    pub fn faults(&self) -> u64 {
        self.failed_before.load(Ordering::Relaxed) + self.failed_after.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One HTTP message (request or response): its head lines and its body bytes as sent.
struct Message {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.head[1..].iter().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for l in &self.head {
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// Reads a message head; None at a clean end of the stream.
fn read_head(r: &mut impl BufRead) -> std::io::Result<Option<Vec<String>>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            return Ok(Some(head));
        }
        head.push(line);
    }
}

/// Reads the body that `head` announces (Content-Length, chunked, or none); `to_close` reads
/// up to the end of the stream when neither is given (responses only).
fn read_body(r: &mut impl BufRead, m: &mut Message, to_close: bool) -> std::io::Result<()> {
    if let Some(n) = m.header("content-length") {
        let n: usize = n.parse().map_err(|_| std::io::ErrorKind::InvalidData)?;
        m.body = vec![0; n];
        return r.read_exact(&mut m.body);
    }
    let chunked = m
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        loop {
            let mut line = String::new();
            r.read_line(&mut line)?;
            m.body.extend_from_slice(line.as_bytes());
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::ErrorKind::InvalidData)?;
            if size == 0 {
                // Trailers, up to an empty line.
                loop {
                    let mut t = String::new();
                    r.read_line(&mut t)?;
                    m.body.extend_from_slice(t.as_bytes());
                    if t == "\r\n" || t.is_empty() {
                        return Ok(());
                    }
                }
            }
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            m.body.extend_from_slice(&chunk);
        }
    }
    if to_close {
        r.read_to_end(&mut m.body)?;
    }
    Ok(())
}

fn fault(status: u16, head_only: bool) -> Vec<u8> {
    let (reason, code) = match status {
        503 => ("Service Unavailable", "SlowDown"),
        _ => ("Internal Server Error", "InternalError"),
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>injected by the test's fault proxy</Message></Error>"
    );
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n\
         Content-Length: {}\r\nx-amz-request-id: fault-proxy\r\n\r\n",
        if head_only { 0 } else { body.len() }
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

type Counts = (Arc<AtomicU64>, Arc<AtomicU64>, Arc<AtomicU64>);

fn serve(
    client: TcpStream,
    upstream: u16,
    state: &Mutex<State>,
    (forwarded, failed_before, failed_after): &Counts,
    turn: &AtomicU64,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    let mut to_client = client.try_clone()?;
    let mut from_client = BufReader::new(client);
    let mut up: Option<(TcpStream, BufReader<TcpStream>)> = None;
    loop {
        let Some(mut head) = read_head(&mut from_client)? else {
            return Ok(());
        };
        let expect = head.iter().any(|l| {
            l.to_ascii_lowercase().starts_with("expect:") && l.to_ascii_lowercase().contains("100")
        });
        if expect {
            head.retain(|l| !l.to_ascii_lowercase().starts_with("expect:"));
            to_client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let mut req = Message {
            head,
            body: Vec::new(),
        };
        read_body(&mut from_client, &mut req, false)?;
        let head_only = req.head[0].starts_with("HEAD ");
        let status = {
            let s = state.lock().unwrap();
            match s.until {
                Some(t) if Instant::now() < t && !s.statuses.is_empty() => {
                    let n = turn.fetch_add(1, Ordering::Relaxed);
                    Some((s.statuses[n as usize % s.statuses.len()], n % 2 == 1))
                }
                _ => None,
            }
        };
        if let Some((status, after)) = status {
            if !after {
                failed_before.fetch_add(1, Ordering::Relaxed);
                to_client.write_all(&fault(status, head_only))?;
                continue;
            }
        }
        if up.is_none() {
            let s = TcpStream::connect(("127.0.0.1", upstream))?;
            up = Some((s.try_clone()?, BufReader::new(s)));
        }
        let (to_up, from_up) = up.as_mut().expect("connected");
        to_up.write_all(&req.bytes())?;
        let Some(head) = read_head(from_up)? else {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        };
        let code = head[0].split(' ').nth(1).unwrap_or("").to_string();
        let mut resp = Message {
            head,
            body: Vec::new(),
        };
        let no_body = head_only || code == "204" || code == "304";
        if !no_body {
            read_body(from_up, &mut resp, true)?;
        }
        match status {
            Some((status, _)) => {
                failed_after.fetch_add(1, Ordering::Relaxed);
                to_client.write_all(&fault(status, head_only))?;
            }
            None => {
                forwarded.fetch_add(1, Ordering::Relaxed);
                to_client.write_all(&resp.bytes())?;
            }
        }
        if resp.header("content-length").is_none()
            && !no_body
            && resp.header("transfer-encoding").is_none()
        {
            // Delimited by the end of the stream: pass that on.
            let _ = to_client.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
}
