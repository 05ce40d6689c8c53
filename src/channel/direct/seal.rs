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
//! message (at most 65535 bytes: ciphertext and a 16-byte tag). Each direction counts its records
//! (the nonce), so a record that was changed, dropped, reordered or replayed fails to open, and
//! its connection fails with an error naming the peer; nothing of it is delivered.

use crate::error::{Error, ErrorKind, Result};
use crate::rendezvous::auth;
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
/// initiates. Returns the link's record state.
pub fn handshake(s: &mut (impl Read + Write), b: &Binding<'_>) -> Result<Seal> {
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
    let noise = hs
        .into_transport_mode()
        .map_err(|e| noise_error("handshake end", e))?;
    Ok(Seal::new(noise))
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

/// The record state of an encrypted link: the Noise session, records sealed and not yet written,
/// ciphertext read and not yet opened, and plaintext opened and not yet read.
pub struct Seal {
    noise: snow::TransportState,
    /// Sealed records waiting for the socket: `out[out_off..out_len]` (the buffer only grows, so
    /// that sealing never clears memory first).
    out: Vec<u8>,
    out_off: usize,
    out_len: usize,
    /// Header and first payload bytes of a message, gathered to go in one record.
    stage: Vec<u8>,
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
    fn new(noise: snow::TransportState) -> Seal {
        Seal {
            noise,
            out: Vec::new(),
            out_off: 0,
            out_len: 0,
            stage: Vec::new(),
            inbuf: vec![0u8; IN_BUF],
            in_start: 0,
            in_end: 0,
            plain: vec![0u8; MAX_RECORD],
            plain_off: 0,
            plain_len: 0,
        }
    }

    /// Seals `head` followed by `body` (together at most [`MAX_PLAIN`] bytes) into one record
    /// behind the records waiting for the socket.
    pub fn push(&mut self, head: &[u8], body: &[u8]) -> Result<()> {
        let plain: &[u8] = if head.is_empty() {
            body
        } else {
            self.stage.clear();
            self.stage.extend_from_slice(head);
            self.stage.extend_from_slice(body);
            &self.stage
        };
        debug_assert!(plain.len() <= MAX_PLAIN);
        let start = self.out_len;
        let end = start + LEN_PREFIX + plain.len() + TAG_LEN;
        if self.out.len() < end {
            self.out.resize(end, 0);
        }
        let n = self
            .noise
            .write_message(plain, &mut self.out[start + LEN_PREFIX..end])
            .map_err(|e| noise_error("seal", e))?;
        self.out[start..start + LEN_PREFIX].copy_from_slice(&(n as u16).to_be_bytes());
        self.out_len = start + LEN_PREFIX + n;
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

    /// Opens the next record if it has arrived whole: straight into `dst` when it has room for
    /// the whole record, else into the plaintext buffer.
    pub fn open(&mut self, dst: &mut [u8]) -> std::io::Result<Opened> {
        let avail = &self.inbuf[self.in_start..self.in_end];
        if avail.len() < LEN_PREFIX {
            return Ok(Opened::Incomplete);
        }
        let n = u16::from_be_bytes([avail[0], avail[1]]) as usize;
        if n < TAG_LEN {
            return Err(forged());
        }
        if avail.len() < LEN_PREFIX + n {
            return Ok(Opened::Incomplete);
        }
        let rec = &self.inbuf[self.in_start + LEN_PREFIX..self.in_start + LEN_PREFIX + n];
        let opened = if dst.len() >= n {
            // Room for the ciphertext: ring opens it in place there.
            let k = self.noise.read_message(rec, dst).map_err(|_| forged())?;
            Opened::Direct(k)
        } else {
            let k = self
                .noise
                .read_message(rec, &mut self.plain[..n])
                .map_err(|_| forged())?;
            self.plain_off = 0;
            self.plain_len = k;
            Opened::Buffered
        };
        self.in_start += LEN_PREFIX + n;
        if self.in_start == self.in_end {
            self.in_start = 0;
            self.in_end = 0;
        }
        Ok(opened)
    }

    /// Room to read ciphertext into (after moving a partial record to the front when needed).
    pub fn read_space(&mut self) -> &mut [u8] {
        if self.inbuf.len() - self.in_end < LEN_PREFIX + MAX_RECORD && self.in_start > 0 {
            self.inbuf.copy_within(self.in_start..self.in_end, 0);
            self.in_end -= self.in_start;
            self.in_start = 0;
        }
        let end = (self.in_end + READ_CHUNK).min(self.inbuf.len());
        &mut self.inbuf[self.in_end..end]
    }

    /// `n` bytes were read into [`Seal::read_space`].
    pub fn filled(&mut self, n: usize) {
        self.in_end += n;
    }
}

fn forged() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, Forged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    fn binding<'a>(secret: &'a [u8], rank: usize, peer: usize) -> Binding<'a> {
        Binding {
            secret,
            job: "job",
            size: 2,
            rank,
            peer,
            nonce: if rank == 0 { b"n0" } else { b"n1" },
            peer_nonce: if rank == 0 { b"n1" } else { b"n0" },
        }
    }

    fn pair(secret_a: &'static [u8], secret_b: &'static [u8]) -> (Result<Seal>, Result<Seal>) {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        b.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        a.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let t = std::thread::spawn(move || {
            let r = handshake(&mut b, &binding(secret_b, 1, 0));
            drop(b);
            r
        });
        let ra = handshake(&mut a, &binding(secret_a, 0, 1));
        drop(a);
        (ra, t.join().unwrap())
    }

    /// Moves all sealed bytes of `from` into `to`'s receive buffer.
    fn carry(from: &mut Seal, to: &mut Seal) {
        let bytes = from.unsent().to_vec();
        from.sent(bytes.len());
        let space = to.read_space();
        space[..bytes.len()].copy_from_slice(&bytes);
        to.filled(bytes.len());
    }

    #[test]
    fn records_round_trip_and_are_not_plaintext() {
        let (a, b) = pair(b"secret", b"secret");
        let (mut a, mut b) = (a.unwrap(), b.unwrap());
        let msg = vec![0x5au8; 3 * MAX_PLAIN + 17];
        for c in msg.chunks(MAX_PLAIN) {
            a.push(&[], c).unwrap();
        }
        assert!(!a.unsent().windows(64).any(|w| w == &msg[..64]));
        carry(&mut a, &mut b);
        let mut got = vec![0u8; msg.len()];
        let mut off = 0;
        while off < got.len() {
            match b.open(&mut got[off..]).unwrap() {
                Opened::Direct(n) => off += n,
                Opened::Buffered => {
                    off += b.take_plain(&mut [std::io::IoSliceMut::new(&mut got[off..])])
                }
                Opened::Incomplete => panic!("records missing"),
            }
        }
        assert_eq!(got, msg);
    }

    #[test]
    fn changed_and_replayed_records_fail() {
        let (a, b) = pair(b"secret", b"secret");
        let (mut a, mut b) = (a.unwrap(), b.unwrap());
        a.push(b"head", b"body").unwrap();
        let rec = a.unsent().to_vec();
        carry(&mut a, &mut b);
        let mut out = [0u8; 64];
        assert!(matches!(b.open(&mut out).unwrap(), Opened::Direct(8)));
        // The same record again: its nonce was used.
        b.read_space()[..rec.len()].copy_from_slice(&rec);
        b.filled(rec.len());
        let e = b.open(&mut out).err().expect("replay refused");
        assert!(e.get_ref().unwrap().is::<Forged>());

        let (a, b) = pair(b"secret", b"secret");
        let (mut a, mut b) = (a.unwrap(), b.unwrap());
        a.push(&[], b"payload").unwrap();
        let mut rec = a.unsent().to_vec();
        rec[5] ^= 1;
        b.read_space()[..rec.len()].copy_from_slice(&rec);
        b.filled(rec.len());
        assert!(b.open(&mut out).is_err());
    }

    #[test]
    fn another_secret_fails_the_handshake() {
        let (a, b) = pair(b"secret", b"other");
        let b = b.err().expect("the responder refuses the initiator's key");
        assert_eq!(b.kind(), ErrorKind::Auth);
        assert!(b.message().contains("peer 0"), "{}", b.message());
        let a = a.err().expect("the initiator gets no answer");
        assert!(a.message().contains("peer 1"), "{}", a.message());
    }
}
