//! Entry points of the fuzz targets in `fuzz/` (not part of the API; hidden from the docs).
//!
//! Each function feeds arbitrary bytes to one decoder the way the library meets them (from a
//! peer, the rendezvous server, Redis, S3 or a user's configuration) and checks what must hold
//! for any input: no panic, no unbounded allocation or loop, and whatever decodes re-encodes to
//! the same value. The rendezvous server's side is in `fmi_tools::server::fuzz_connections`.

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
