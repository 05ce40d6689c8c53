//! Encryption of one peer link (`backends.Direct.encrypt`, on when a job secret is set).
//!
//! When a connection has been identified and authenticated by the hello exchange, both ends run a
//! Noise handshake, `Noise_NNpsk0_25519_AESGCM_SHA256` (snow, with ring's AES-GCM and SHA-256):
//! fresh X25519 ephemeral keys on both sides, mixed with a pre-shared key derived from the job
//! secret for this pair of ranks, with the job, the pair and both hello nonces in the prologue. The
//! session keys are therefore fresh per connection, known only to holders of the job secret, and
//! bound to this job, this pair and this connection: a record cannot be replayed onto another.
//!
//! The byte stream then travels as records: a 2-byte big-endian length, then one Noise transport
//! message (at most 65535 bytes: ciphertext and a 16-byte tag). The transport messages are sealed
//! and opened here with aws-lc-rs's AES-256-GCM under the handshake's Split() keys, exactly as
//! Noise defines them (nonce: the record counter of the direction; no associated data; a test
//! checks them against snow's own transport), out of place: a record is sealed from the caller's
//! plaintext straight into the send buffer (one pass, no separate copy), and opened from the
//! receive buffer straight into the caller's buffer; when the socket already holds the rest of a
//! record, the kernel reads it straight into the caller's buffer and it is opened there (up to
//! [`DIRECT_RECORDS`] records by one system call). Each direction
//! counts its records (the nonce), so a record that was changed, dropped, reordered or replayed
//! fails to open, and its connection fails with an error naming the peer; nothing of it is
//! delivered.

use crate::error::{Error, ErrorKind, Result};
use crate::rendezvous::auth;
use aws_lc_rs::aead;
use std::io::{Read, Write};

/// The Noise protocol of every encrypted link.
pub const PARAMS: &str = "Noise_NNpsk0_25519_AESGCM_SHA256";
/// Longest Noise message (the protocol's limit).
const MAX_RECORD: usize = 65535;
/// Bytes of the authentication tag of each record.
const TAG_LEN: usize = 16;
/// Most plaintext bytes in one record.
pub const MAX_PLAIN: usize = MAX_RECORD - TAG_LEN;
/// Bytes of the length in front of each record.
const LEN_PREFIX: usize = 2;
/// Ciphertext read from the socket at once, at most (a few records).
const READ_CHUNK: usize = 256 << 10;
/// Records read straight into the receive buffer by one system call, at most: 256 KiB, which
/// stays in the cache until the records are opened there.
const DIRECT_RECORDS: usize = READ_CHUNK / (LEN_PREFIX + MAX_RECORD) + 1;
/// A record's tag and the next record's length prefix.
const SIDE: usize = TAG_LEN + LEN_PREFIX;
/// Size of the receive buffer: one read and a record's room. A partial record left at its end
/// moves to the front (a buffer of 1 MiB, moving less often, measured slower: it leaves the
/// cache).
const IN_BUF: usize = READ_CHUNK + LEN_PREFIX + MAX_RECORD;

/// What a link's keys are bound to.
pub struct Binding<'a> {
    /// The job secret the pre-shared key is derived from.
    pub secret: &'a [u8],
    /// The job (communicator) name.
    pub job: &'a str,
    /// The job's size.
    pub size: usize,
    /// This rank and the peer's.
    pub rank: usize,
    pub peer: usize,
    /// The hello nonces of this connection: this rank's and the peer's.
    pub nonce: &'a [u8],
    pub peer_nonce: &'a [u8],
}

impl Binding<'_> {
    /// The pre-shared key of this pair: HMAC-SHA256 under the job secret over the protocol, the
    /// job and both ranks (lower first), so every pair and job has its own.
    fn psk(&self) -> [u8; 32] {
        let (lo, hi) = (self.rank.min(self.peer), self.rank.max(self.peer));
        auth::mac(
            self.secret,
            &[
                "fmi direct link psk",
                PARAMS,
                self.job,
                &self.size.to_string(),
                &lo.to_string(),
                &hi.to_string(),
            ],
        )
    }

    /// The prologue both ends must agree on: job, size, both ranks and both hello nonces, in the
    /// order of the ranks.
    fn prologue(&self) -> Vec<u8> {
        let (lo, hi, n_lo, n_hi) = if self.rank < self.peer {
            (self.rank, self.peer, self.nonce, self.peer_nonce)
        } else {
            (self.peer, self.rank, self.peer_nonce, self.nonce)
        };
        format!(
            "fmi direct link 1\n{}\n{}\n{lo}\n{hi}\n{}\n{}\n",
            self.job,
            self.size,
            auth::hex(n_lo),
            auth::hex(n_hi)
        )
        .into_bytes()
    }
}

fn noise_error(what: &str, e: snow::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("encrypted link: {what}: {e}"))
}

/// Runs the Noise handshake on a blocking stream (its timeouts bound it); the lower rank
/// initiates. Returns the finished handshake and whether this end initiated it.
fn run_handshake(
    s: &mut (impl Read + Write),
    b: &Binding<'_>,
) -> Result<(snow::HandshakeState, bool)> {
    let params = PARAMS
        .parse()
        .map_err(|e| noise_error("protocol name", e))?;
    let psk = b.psk();
    let prologue = b.prologue();
    let builder = snow::Builder::new(params)
        .psk(0, &psk)
        .and_then(|x| x.prologue(&prologue))
        .map_err(|e| noise_error("setup", e))?;
    let initiator = b.rank < b.peer;
    let mut hs = if initiator {
        builder.build_initiator()
    } else {
        builder.build_responder()
    }
    .map_err(|e| noise_error("setup", e))?;
    let peer = b.peer;
    let io = |e: std::io::Error| {
        Error::channel(format!(
            "encrypted-link handshake with peer {peer}: {e} (the peer may hold another job \
             secret or have encryption off)"
        ))
    };
    let mut msg = vec![0u8; MAX_RECORD];
    let mut payload = vec![0u8; MAX_RECORD];
    // -> psk, e   then   <- e, ee
    for turn in 0..2 {
        let ours = (turn == 0) == initiator;
        if ours {
            let n = hs
                .write_message(&[], &mut msg)
                .map_err(|e| noise_error("handshake message", e))?;
            s.write_all(&(n as u16).to_be_bytes()).map_err(io)?;
            s.write_all(&msg[..n]).map_err(io)?;
            s.flush().map_err(io)?;
        } else {
            let mut len = [0u8; LEN_PREFIX];
            s.read_exact(&mut len).map_err(io)?;
            let n = u16::from_be_bytes(len) as usize;
            s.read_exact(&mut msg[..n]).map_err(io)?;
            hs.read_message(&msg[..n], &mut payload).map_err(|_| {
                Error::new(
                    ErrorKind::Auth,
                    format!(
                        "encrypted-link handshake with peer {peer} failed: it derived other keys \
                         (another job secret, or the handshake was tampered with)"
                    ),
                )
            })?;
        }
    }
    if !hs.is_handshake_finished() {
        return Err(noise_error(
            "handshake end",
            snow::Error::State(snow::error::StateProblem::HandshakeNotFinished),
        ));
    }
    Ok((hs, initiator))
}

/// Runs the Noise handshake on a blocking stream (its timeouts bound it); the lower rank
/// initiates. Returns the link's record state, keyed by the handshake's Split().
pub fn handshake(s: &mut (impl Read + Write), b: &Binding<'_>) -> Result<Seal> {
    let (mut hs, initiator) = run_handshake(s, b)?;
    // Split(): the first key seals what the initiator sends, the second what the responder sends.
    let (i_to_r, r_to_i) = hs.dangerously_get_raw_split();
    let (send, recv) = if initiator {
        (i_to_r, r_to_i)
    } else {
        (r_to_i, i_to_r)
    };
    Ok(Seal::new(Cipher::new(&send)?, Cipher::new(&recv)?))
}

/// A record that failed to open: changed, forged, dropped, reordered or replayed in transit.
#[derive(Debug)]
pub struct Forged;

impl std::fmt::Display for Forged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "an encrypted record failed authentication (changed, forged or replayed in \
             transit); nothing of it was delivered",
        )
    }
}

impl std::error::Error for Forged {}

/// What [`Seal::open`] did.
pub enum Opened {
    /// A record's plaintext went straight into the caller's buffer: this many bytes.
    Direct(usize),
    /// A record's plaintext is buffered (read it with [`Seal::take_plain`]).
    Buffered,
    /// No whole record has arrived.
    Incomplete,
}

/// One direction's Noise cipher state: AES-256-GCM (aws-lc-rs) under a key from Split() and the
/// record counter as nonce (Noise's AESGCM nonce: 4 zero bytes, then the counter, big-endian),
/// with empty associated data, as Noise's transport messages are. The counter only goes up, by
/// one per record sealed or opened, so each direction's records open only once and in order.
struct Cipher {
    key: aead::LessSafeKey,
    next: u64,
}

impl Cipher {
    fn new(key: &[u8; 32]) -> Result<Cipher> {
        let key = aead::UnboundKey::new(&aead::AES_256_GCM, key)
            .map_err(|_| Error::new(ErrorKind::Internal, "encrypted link: bad session key"))?;
        Ok(Cipher {
            key: aead::LessSafeKey::new(key),
            next: 0,
        })
    }

    /// The next record's nonce (Noise reserves the counter 2^64-1: the link is used up there).
    fn nonce(&mut self) -> Option<aead::Nonce> {
        if self.next == u64::MAX {
            return None;
        }
        let mut n = [0u8; aead::NONCE_LEN];
        n[4..].copy_from_slice(&self.next.to_be_bytes());
        self.next += 1;
        Some(aead::Nonce::assume_unique_for_key(n))
    }

    /// Seals `head` followed by `body` into `record` (their length and a tag's): `head` is copied
    /// to the front of the record and sealed there, `body` is sealed from where it is straight into
    /// the rest of the record (one pass over it, no separate copy), the tag behind.
    fn seal(&mut self, head: &[u8], body: &[u8], record: &mut [u8]) -> Result<()> {
        let used_up = || {
            Error::new(
                ErrorKind::Internal,
                "encrypted link: record counter used up",
            )
        };
        let nonce = self.nonce().ok_or_else(used_up)?;
        let (front, rest) = record.split_at_mut(head.len());
        front.copy_from_slice(head);
        self.key
            .seal_in_place_scatter(nonce, aead::Aad::empty(), front, body, rest)
            .map_err(|_| Error::new(ErrorKind::Internal, "encrypted link: sealing failed"))
    }

    /// Opens the ciphertext `ct` with `tag` into `out` (as long as `ct`). A record that fails
    /// leaves zeros in `out`.
    fn open(&mut self, ct: &[u8], tag: &[u8], out: &mut [u8]) -> std::io::Result<()> {
        let nonce = self.nonce().ok_or_else(forged)?;
        self.key
            .open_separate_gather(nonce, aead::Aad::empty(), ct, tag, out)
            .map_err(|_| {
                out.fill(0);
                forged()
            })
    }

    /// Opens the ciphertext `in_out` with `tag` in place. A record that fails leaves zeros.
    fn open_in_place(&mut self, in_out: &mut [u8], tag: &[u8]) -> std::io::Result<()> {
        let nonce = self.nonce().ok_or_else(forged)?;
        if self
            .key
            .open_in_place_separate_tag(nonce, aead::Aad::empty(), tag, in_out)
            .is_err()
        {
            in_out.fill(0);
            return Err(forged());
        }
        Ok(())
    }
}

/// Where ciphertext comes from when [`Seal::open_from`] reads a record's rest straight into its
/// destination: a socket that tells how many bytes it holds.
pub trait Source: Read {
    /// Bytes that a read would return at once (0 when unknown).
    fn available(&self) -> usize;
}

/// The record state of an encrypted link: the two directions' ciphers, records sealed and not
/// yet written, ciphertext read and not yet opened, and plaintext opened and not yet read.
pub struct Seal {
    tx: Cipher,
    rx: Cipher,
    /// Sealed records waiting for the socket: `out[out_off..out_len]` (the buffer only grows, so
    /// that sealing never clears memory first).
    out: Vec<u8>,
    out_off: usize,
    out_len: usize,
    /// Ciphertext read from the socket: `inbuf[in_start..in_end]` is not yet opened.
    inbuf: Vec<u8>,
    in_start: usize,
    in_end: usize,
    /// Opened plaintext not yet read: `plain[plain_off..plain_len]`.
    plain: Vec<u8>,
    plain_off: usize,
    plain_len: usize,
}

impl Seal {
    fn new(tx: Cipher, rx: Cipher) -> Seal {
        Seal {
            tx,
            rx,
            out: Vec::new(),
            out_off: 0,
            out_len: 0,
            inbuf: vec![0u8; IN_BUF],
            in_start: 0,
            in_end: 0,
            plain: vec![0u8; MAX_PLAIN],
            plain_off: 0,
            plain_len: 0,
        }
    }

    /// Seals `head` followed by `body` (together at most [`MAX_PLAIN`] bytes) into one record
    /// behind the records waiting for the socket, read once each (sealed out of place).
    pub fn push(&mut self, head: &[u8], body: &[u8]) -> Result<()> {
        let len = head.len() + body.len();
        debug_assert!(len <= MAX_PLAIN);
        let start = self.out_len;
        let text = start + LEN_PREFIX;
        let end = text + len + TAG_LEN;
        if self.out.len() < end {
            self.out.resize(end, 0);
        }
        self.out[start..text].copy_from_slice(&((len + TAG_LEN) as u16).to_be_bytes());
        self.tx.seal(head, body, &mut self.out[text..end])?;
        self.out_len = end;
        Ok(())
    }

    /// The sealed bytes not yet written.
    pub fn unsent(&self) -> &[u8] {
        &self.out[self.out_off..self.out_len]
    }

    /// `n` sealed bytes were written.
    pub fn sent(&mut self, n: usize) {
        self.out_off += n;
        if self.out_off == self.out_len {
            self.out_off = 0;
            self.out_len = 0;
        }
    }

    /// Copies buffered plaintext into `bufs` in turn; the bytes copied.
    pub fn take_plain(&mut self, bufs: &mut [std::io::IoSliceMut<'_>]) -> usize {
        let mut n = 0;
        for b in bufs.iter_mut() {
            let avail = &self.plain[self.plain_off..self.plain_len];
            if avail.is_empty() {
                break;
            }
            let k = b.len().min(avail.len());
            b[..k].copy_from_slice(&avail[..k]);
            self.plain_off += k;
            n += k;
        }
        if self.plain_off == self.plain_len {
            self.plain_off = 0;
            self.plain_len = 0;
        }
        n
    }

    /// Whether opened plaintext waits to be read.
    pub fn has_plain(&self) -> bool {
        self.plain_off < self.plain_len
    }

    /// The next record's ciphertext length (tag included) when its length prefix has arrived.
    fn next_len(&self) -> std::io::Result<Option<usize>> {
        let avail = &self.inbuf[self.in_start..self.in_end];
        if avail.len() < LEN_PREFIX {
            return Ok(None);
        }
        let n = u16::from_be_bytes([avail[0], avail[1]]) as usize;
        if n < TAG_LEN {
            return Err(forged());
        }
        Ok(Some(n))
    }

    /// Opens the next record if it has arrived whole: straight into `dst` when it has room for
    /// the record's plaintext, else into the plaintext buffer.
    pub fn open(&mut self, dst: &mut [u8]) -> std::io::Result<Opened> {
        let Some(n) = self.next_len()? else {
            return Ok(Opened::Incomplete);
        };
        if self.in_end - self.in_start < LEN_PREFIX + n {
            return Ok(Opened::Incomplete);
        }
        let text = self.in_start + LEN_PREFIX;
        let body = n - TAG_LEN;
        let (ct, tag) = self.inbuf[text..text + n].split_at(body);
        let opened = if dst.len() >= body {
            self.rx.open(ct, tag, &mut dst[..body])?;
            Opened::Direct(body)
        } else {
            self.rx.open(ct, tag, &mut self.plain[..body])?;
            self.plain_off = 0;
            self.plain_len = body;
            Opened::Buffered
        };
        self.consume(LEN_PREFIX + n);
        Ok(opened)
    }

    /// As [`Seal::open`], and when `dst` has room for the next record's plaintext, part of that
    /// record is buffered and `src` already holds the rest: reads the rest straight into `dst`
    /// (the tag and the following record's length prefix beside it), so the record's bytes are
    /// copied once, by the kernel, and opened in place. When `dst` has room for more and the
    /// socket holds them, the same system call reads up to [`DIRECT_RECORDS`] records, taking the
    /// ones after the first to be whole ([`MAX_PLAIN`] of plaintext, as every record but the last
    /// of a message): their prefixes are checked, and from a record that is not, the bytes go back
    /// to the receive buffer (they are the start of what follows).
    pub fn open_from(&mut self, dst: &mut [u8], src: &mut impl Source) -> std::io::Result<Opened> {
        let Some(n) = self.next_len()? else {
            return self.open(dst);
        };
        let body = n - TAG_LEN;
        let have = self.in_end - self.in_start - LEN_PREFIX;
        if have >= body || dst.len() < body {
            return self.open(dst);
        }
        let avail = src.available();
        if avail < n - have {
            return self.open(dst);
        }
        // Whole records after the first that `dst` has room for and the socket holds.
        let whole = LEN_PREFIX + MAX_RECORD;
        let more = ((dst.len() - body) / MAX_PLAIN)
            .min((avail - (n - have)) / whole)
            .min(DIRECT_RECORDS - 1);
        let text = self.in_start + LEN_PREFIX;
        dst[..have].copy_from_slice(&self.inbuf[text..text + have]);
        // Beside each record's plaintext: its tag and the next record's length prefix.
        let mut side = [[0u8; SIDE]; DIRECT_RECORDS];
        let plan = Plan { body, have, more };
        // Bytes that must arrive (the records), and the last prefix, read if it is there.
        let need = plan.len() - LEN_PREFIX;
        let mut got = 0;
        while got < need {
            let r = {
                let mut iov = plan.iovecs(dst, &mut side, got);
                src.read_vectored(&mut iov[..])
            };
            match r {
                Ok(0) => {
                    // The end of the stream inside a record: the caller's next read sees it.
                    self.keep(&plan, dst, &side, got);
                    return Ok(Opened::Incomplete);
                }
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.keep(&plan, dst, &side, got);
                    return Err(e);
                }
            }
        }
        // The buffer held only the first record's start: now it holds what came after the
        // records read whole (from a record that was not whole, its prefix on).
        self.in_start = 0;
        self.in_end = 0;
        let mut records = 1 + more;
        for (j, s) in side.iter().enumerate().take(more) {
            if u16::from_be_bytes([s[TAG_LEN], s[TAG_LEN + 1]]) as usize != MAX_RECORD {
                records = j + 1;
                break;
            }
        }
        self.append(&plan, dst, &side, plan.end_of(records) - LEN_PREFIX, got);
        let mut off = 0;
        for (j, s) in side.iter().enumerate().take(records) {
            let len = if j == 0 { body } else { MAX_PLAIN };
            self.rx
                .open_in_place(&mut dst[off..off + len], &s[..TAG_LEN])?;
            off += len;
        }
        Ok(Opened::Direct(off))
    }

    /// A direct read stopped inside a record (`got` bytes read): the bytes read go back behind
    /// the buffered part, so the buffer holds the first record's start again, only longer.
    fn keep(&mut self, plan: &Plan, dst: &[u8], side: &[[u8; SIDE]], got: usize) {
        self.compact();
        self.append(plan, dst, side, 0, got);
    }

    /// Appends the bytes `from..to` of a direct read (as they came from the socket) to the
    /// receive buffer.
    fn append(&mut self, plan: &Plan, dst: &[u8], side: &[[u8; SIDE]], from: usize, to: usize) {
        let mut at = 0;
        for seg in plan.segments() {
            let (a, b) = (from.max(at), to.min(at + seg.len));
            if a < b {
                let bytes = match seg.place {
                    Place::Dst(o) => &dst[o + a - at..o + b - at],
                    Place::Side(i) => &side[i][a - at..b - at],
                };
                self.inbuf[self.in_end..self.in_end + bytes.len()].copy_from_slice(bytes);
                self.in_end += bytes.len();
            }
            at += seg.len;
        }
    }

    fn consume(&mut self, n: usize) {
        self.in_start += n;
        if self.in_start == self.in_end {
            self.in_start = 0;
            self.in_end = 0;
        }
    }

    /// Moves a partial record to the front of the receive buffer.
    fn compact(&mut self) {
        if self.in_start > 0 {
            self.inbuf.copy_within(self.in_start..self.in_end, 0);
            self.in_end -= self.in_start;
            self.in_start = 0;
        }
    }

    /// Room to read ciphertext into (after moving a partial record to the front when needed).
    pub fn read_space(&mut self) -> &mut [u8] {
        if self.inbuf.len() - self.in_end < LEN_PREFIX + MAX_RECORD {
            self.compact();
        }
        let end = (self.in_end + READ_CHUNK).min(self.inbuf.len());
        &mut self.inbuf[self.in_end..end]
    }

    /// `n` bytes were read into [`Seal::read_space`].
    pub fn filled(&mut self, n: usize) {
        self.in_end += n;
    }
}

/// Where a direct read puts the bytes of the socket: the rest of the first record's plaintext,
/// then for each record its tag and the next prefix, then the next record's plaintext (`more`
/// whole records after the first).
struct Plan {
    body: usize,
    have: usize,
    more: usize,
}

#[derive(Clone, Copy)]
enum Place {
    /// In the destination, from this offset.
    Dst(usize),
    /// In the side buffer of this record.
    Side(usize),
}

#[derive(Clone, Copy)]
struct Segment {
    place: Place,
    len: usize,
}

impl Plan {
    fn segments(&self) -> impl Iterator<Item = Segment> + '_ {
        (0..=self.more).flat_map(move |j| {
            let (start, len) = if j == 0 {
                (self.have, self.body - self.have)
            } else {
                (self.body + (j - 1) * MAX_PLAIN, MAX_PLAIN)
            };
            [
                Segment {
                    place: Place::Dst(start),
                    len,
                },
                Segment {
                    place: Place::Side(j),
                    len: SIDE,
                },
            ]
        })
    }

    /// Bytes of the whole read.
    fn len(&self) -> usize {
        self.segments().map(|s| s.len).sum()
    }

    /// Where the first `records` records end in the read, the next prefix included.
    fn end_of(&self, records: usize) -> usize {
        self.segments().take(2 * records).map(|s| s.len).sum()
    }

    /// The parts of `dst` and `side` still to fill after `got` bytes.
    fn iovecs<'a>(
        &self,
        dst: &'a mut [u8],
        side: &'a mut [[u8; SIDE]; DIRECT_RECORDS],
        got: usize,
    ) -> Vec<std::io::IoSliceMut<'a>> {
        let mut out = Vec::with_capacity(2 * DIRECT_RECORDS);
        let mut rest: &'a mut [u8] = &mut dst[..self.body + self.more * MAX_PLAIN];
        let mut sides = side.iter_mut();
        let mut at = 0;
        let mut dst_off = 0;
        for seg in self.segments() {
            let skip = got.saturating_sub(at).min(seg.len);
            match seg.place {
                Place::Dst(o) => {
                    let (_, tail) = std::mem::take(&mut rest).split_at_mut(o - dst_off);
                    let (part, tail) = tail.split_at_mut(seg.len);
                    rest = tail;
                    dst_off = o + seg.len;
                    if skip < seg.len {
                        out.push(std::io::IoSliceMut::new(&mut part[skip..]));
                    }
                }
                Place::Side(_) => {
                    let s = sides.next().expect("one side buffer per record");
                    if skip < seg.len {
                        out.push(std::io::IoSliceMut::new(&mut s[skip..]));
                    }
                }
            }
            at += seg.len;
        }
        out
    }
}

fn forged() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, Forged)
}

#[cfg(test)]
mod tests;
