//! Entry points of the fuzz targets in `fuzz/` (not part of the API; hidden from the docs).
//!
//! Each function feeds arbitrary bytes to one decoder the way the library meets them (from a
//! peer, the rendezvous server, Redis, S3 or a user's configuration) and checks what must hold
//! for any input: no panic, no unbounded allocation or loop, and whatever decodes re-encodes to
//! the same value. The rendezvous server's side is in `fmi_tools::server::fuzz_connections`.

use crate::channel::direct::seal::{self, Binding, Opened};
use crate::channel::direct::{frame, mesh};
use crate::channel::redis::frame::Head as RedisHead;
use crate::channel::s3_format::{self as s3, First};
use crate::channel::store::inbox::Envelope;
use crate::rendezvous::client;

/// The direct channel's message header (24 bytes, as read from a peer's connection).
pub fn direct_frame(data: &[u8]) {
    let Some(b) = data.get(..frame::HEADER_LEN) else {
        return;
    };
    let b: [u8; frame::HEADER_LEN] = b.try_into().expect("HEADER_LEN bytes");
    if let Some(h) = frame::decode(&b) {
        assert_eq!(
            frame::encode(&h),
            b,
            "a decoded header re-encodes to its bytes"
        );
    }
}

/// The direct channel's encrypted link (Noise handshake and records): a responder fed arbitrary
/// bytes as the initiator's handshake must fail; then, on a real pair of links, records the
/// sender sealed are opened with the input spliced in (first byte: 0 as sealed, 1 with the rest
/// of the input appended, else a byte flipped where the input says): only what was sealed opens.
pub fn direct_link(data: &[u8]) {
    struct Io<'a>(&'a [u8]);
    impl std::io::Read for Io<'_> {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            std::io::Read::read(&mut self.0, b)
        }
    }
    impl std::io::Write for Io<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let binding = |rank: usize, nonce: &'static [u8], peer_nonce: &'static [u8]| Binding {
        secret: b"fuzz secret",
        job: "fuzz",
        size: 2,
        rank,
        peer: 1 - rank,
        nonce,
        peer_nonce,
    };
    let (n0, n1): (&'static [u8], &'static [u8]) = (&[0; 16], &[1; 16]);
    assert!(
        seal::handshake(&mut Io(data), &binding(1, n1, n0)).is_err(),
        "a handshake from bytes that do not know the key fails"
    );
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (mut a, mut b) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
    for s in [&a, &b] {
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeouts");
    }
    let initiator = std::thread::spawn(move || seal::handshake(&mut a, &binding(0, n0, n1)));
    let mut rx = seal::handshake(&mut b, &binding(1, n1, n0)).expect("the responder's handshake");
    let mut tx = initiator
        .join()
        .expect("no panic")
        .expect("the initiator's handshake");
    let sent = &rest[..rest.len().min(300)];
    tx.push(&sent[..sent.len() / 2], &sent[sent.len() / 2..])
        .expect("sealing");
    let mut wire = tx.unsent().to_vec();
    match mode {
        0 => {}
        1 => wire.extend_from_slice(rest),
        _ => {
            let at = usize::from(rest.first().copied().unwrap_or(0)) % wire.len();
            wire[at] ^= mode;
        }
    }
    let mut opened = Vec::new();
    let mut fed = 0;
    let mut failed = false;
    while fed < wire.len() && !failed {
        let space = rx.read_space();
        let n = space.len().min(wire.len() - fed);
        space[..n].copy_from_slice(&wire[fed..fed + n]);
        rx.filled(n);
        fed += n;
        loop {
            let mut dst = [0u8; 64];
            match rx.open(&mut dst) {
                Ok(Opened::Direct(k)) => opened.extend_from_slice(&dst[..k]),
                Ok(Opened::Buffered) => {
                    let mut buf = vec![0u8; seal::MAX_PLAIN];
                    let k = rx.take_plain(&mut [std::io::IoSliceMut::new(&mut buf)]);
                    opened.extend_from_slice(&buf[..k]);
                }
                Ok(Opened::Incomplete) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
    }
    if mode == 0 {
        assert!(
            !failed && opened == sent,
            "a sealed record opens to what was sealed"
        );
    } else {
        assert!(
            opened.is_empty() || opened == sent,
            "only what was sealed opens"
        );
    }
}

/// The rendezvous client: the server's answers, one length-prefixed JSON frame after another,
/// read as the client reads them (hello's answer, the pairings of the mesh).
pub fn rendezvous_client(data: &[u8]) {
    let mut r = data;
    for i in 0..64 {
        let Ok(answer) = client::read_answer(&mut r, "refused", "timed out", "lost") else {
            return;
        };
        if i == 0 {
            let _ = client::observed(answer.clone());
        }
        if let Some((peer, targets)) = mesh::parse_paired(answer, 8, 3) {
            assert!(
                peer < 8 && peer != 3,
                "a pairing names another rank of the job"
            );
            assert!(!targets.is_empty() && targets.len() <= 2);
        }
    }
}

/// The configuration file (JSON, from a user or `fmi_init`'s argument).
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::Config::from_json(text);
        let _ = crate::config::split_host_port(text);
    }
}

/// An S3 message object as GETs return it. Input: the size the reader wants (or any), the
/// object size the headers report, then the first answer and the answers for the other
/// ranges, with a small part size so that large-object assembly runs at fuzzing speed.
pub fn s3_object(data: &[u8]) {
    const PART: usize = 64;
    let _ = s3::total_size("k", std::str::from_utf8(data).ok(), None);
    if data.len() < 5 {
        return;
    }
    let want = match data[0] {
        0xff => None,
        w => Some(w as usize * 3),
    };
    let total = u32::from_le_bytes(data[1..5].try_into().expect("4 bytes")) as usize % 4096;
    let mut rest = &data[5..];
    let mut take = |n: usize| {
        let n = n.min(rest.len());
        let (a, b) = rest.split_at(n);
        rest = b;
        a
    };
    let first_len = if data[0] & 1 == 0 {
        PART
    } else {
        data[0] as usize
    };
    let bytes = take(first_len);
    let Ok(got) = s3::first_in(PART, "k", want, bytes, total) else {
        return;
    };
    let mut a = match got {
        First::Done(m) => {
            assert!(m.data.is_empty() || m.data.len() + s3::HEAD == bytes.len());
            return;
        }
        First::More(a) => a,
    };
    let want = want.expect("only a wanted size is read in parts");
    let mut ok = true;
    for (at, end) in a.ranges() {
        // Mostly the right length, sometimes one byte off: both must be handled.
        let n = match take(1).first() {
            Some(0) => end - at,
            Some(1) => end - at + 2,
            _ => end - at + 1,
        };
        ok &= a.place(at, take(n)).is_ok();
    }
    match a.finish() {
        Ok(m) => assert!(
            ok && m.data.len() == want,
            "a finished message has every byte"
        ),
        Err(_) => assert!(!ok, "every part placed means a finished message"),
    }
}

/// The Redis channel's message head (a list element) and the store channels' tagged-message
/// envelope (first byte: the group size).
pub fn redis_message(data: &[u8]) {
    if let Ok((h, inline)) = RedisHead::decode(data) {
        assert_eq!(
            h.encode(inline),
            data,
            "a decoded head re-encodes to its bytes"
        );
        let most = h.len.div_ceil(crate::channel::redis::CHUNK as u64).max(1);
        assert!(
            u64::from(h.chunks) <= most,
            "the chunk count follows from the size"
        );
    }
    let Some((&size, env)) = data.split_first() else {
        return;
    };
    if let Ok(e) = Envelope::decode(env.to_vec(), usize::from(size)) {
        assert!(e.src < usize::from(size));
        assert_eq!(
            e.encode(),
            env,
            "a decoded envelope re-encodes to its bytes"
        );
    }
}
