//! Tests of the sealed transport (`super`).

use super::*;
use std::os::fd::AsRawFd;
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
    out.fill(0xee);
    assert!(b.open(&mut out).is_err());
    assert_eq!(out[..7], [0u8; 7], "a record that fails leaves zeros");
}

/// Seal on one end, snow's own Noise transport on the other (both directions): the records
/// are Noise transport messages, with the Split() keys in the right order.
#[test]
fn records_are_noise_transport_messages() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
    }
    let t = std::thread::spawn(move || {
        let (hs, initiator) = run_handshake(&mut b, &binding(b"secret", 1, 0)).unwrap();
        assert!(!initiator);
        hs.into_transport_mode().unwrap()
    });
    let mut ours = handshake(&mut a, &binding(b"secret", 0, 1)).unwrap();
    let mut snow = t.join().unwrap();
    // A record of a head and a body (sealed from two places) is one message of both.
    let cases: [(&[u8], &[u8]); 4] = [
        (b"", b"first"),
        (b"", &[7u8; MAX_PLAIN]),
        (b"head:", &[9u8; MAX_PLAIN - 5]),
        (b"third", b""),
    ];
    for (i, (head, body)) in cases.iter().enumerate() {
        ours.push(head, body).unwrap();
        let msg = &[*head, *body].concat();
        let rec = ours.unsent().to_vec();
        ours.sent(rec.len());
        let n = u16::from_be_bytes([rec[0], rec[1]]) as usize;
        assert_eq!(n + LEN_PREFIX, rec.len());
        let mut out = vec![0u8; MAX_RECORD];
        let k = snow.read_message(&rec[LEN_PREFIX..], &mut out).unwrap();
        assert_eq!(&out[..k], &msg[..], "record {i}");
        // And back: snow seals, Seal opens.
        let mut back = vec![0u8; MAX_RECORD];
        let k = snow.write_message(msg, &mut back).unwrap();
        let space = ours.read_space();
        space[..LEN_PREFIX].copy_from_slice(&(k as u16).to_be_bytes());
        space[LEN_PREFIX..LEN_PREFIX + k].copy_from_slice(&back[..k]);
        ours.filled(LEN_PREFIX + k);
        let mut got = vec![0u8; MAX_PLAIN];
        match ours.open(&mut got).unwrap() {
            Opened::Direct(k) => assert_eq!(&got[..k], &msg[..]),
            _ => panic!("a whole record opens"),
        }
    }
}

#[test]
fn reordered_records_fail() {
    let (a, b) = pair(b"secret", b"secret");
    let (mut a, mut b) = (a.unwrap(), b.unwrap());
    a.push(&[], b"one").unwrap();
    let first = a.unsent().to_vec();
    a.sent(first.len());
    a.push(&[], b"two").unwrap();
    let second = a.unsent().to_vec();
    b.read_space()[..second.len()].copy_from_slice(&second);
    b.filled(second.len());
    let mut out = [0u8; 16];
    let e = b
        .open(&mut out)
        .err()
        .expect("the second record first is refused");
    assert!(e.get_ref().unwrap().is::<Forged>());
}

/// A socket as a [`Source`]; `claim` overrides what it says it holds (to drive a direct read
/// that stops inside a record).
struct Src {
    s: UnixStream,
    claim: Option<usize>,
}

impl Read for Src {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        self.s.read(b)
    }
    fn read_vectored(&mut self, b: &mut [std::io::IoSliceMut<'_>]) -> std::io::Result<usize> {
        self.s.read_vectored(b)
    }
}

impl Source for Src {
    fn available(&self) -> usize {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int to `n`.
        assert_eq!(
            unsafe { libc::ioctl(self.s.as_raw_fd(), libc::FIONREAD, &mut n) },
            0
        );
        self.claim.unwrap_or(n as usize)
    }
}

/// Reads from `rx` into `dst` through open_from until a record opened or the socket is dry.
fn read_direct(seal: &mut Seal, rx: &mut Src, dst: &mut [u8]) -> std::io::Result<Opened> {
    loop {
        match seal.open_from(dst, rx)? {
            Opened::Incomplete => {}
            o => return Ok(o),
        }
        let n = rx.read(seal.read_space())?;
        if n == 0 {
            return Ok(Opened::Incomplete);
        }
        seal.filled(n);
    }
}

/// Records read straight into the destination: whole, after partial arrivals (a direct read
/// that stops inside a record keeps what it read), and a changed one is refused.
#[test]
fn records_open_in_place_from_the_socket() {
    let (a, b) = pair(b"secret", b"secret");
    let (mut a, mut b) = (a.unwrap(), b.unwrap());
    let (mut tx, rx) = UnixStream::pair().unwrap();
    rx.set_nonblocking(true).unwrap();
    let mut rx = Src { s: rx, claim: None };
    let msg: Vec<u8> = (0..4 * MAX_PLAIN).map(|i| (i * 7 + 3) as u8).collect();
    for c in msg.chunks(MAX_PLAIN) {
        a.push(&[], c).unwrap();
    }
    let wire = a.unsent().to_vec();
    a.sent(wire.len());
    let rec = LEN_PREFIX + MAX_RECORD;
    let mut got = vec![0u8; msg.len()];
    // Record 1 whole and the start of record 2.
    tx.write_all(&wire[..rec + 10]).unwrap();
    let o = read_direct(&mut b, &mut rx, &mut got).unwrap();
    assert!(matches!(o, Opened::Direct(n) if n == MAX_PLAIN));
    let dry = read_direct(&mut b, &mut rx, &mut got[MAX_PLAIN..])
        .err()
        .unwrap();
    assert_eq!(dry.kind(), std::io::ErrorKind::WouldBlock);
    // More of record 2, read straight into the destination, stopping inside its body: the
    // bytes read go back to the buffer.
    let buffered = |b: &Seal| b.in_end - b.in_start;
    rx.claim = Some(usize::MAX);
    tx.write_all(&wire[rec + 10..rec + 30_000]).unwrap();
    let dry = read_direct(&mut b, &mut rx, &mut got[MAX_PLAIN..])
        .err()
        .unwrap();
    assert_eq!(dry.kind(), std::io::ErrorKind::WouldBlock);
    assert_eq!(buffered(&b), 30_000, "what was read is kept");
    // The rest of record 2, record 3's prefix and 100 bytes: record 2 completes straight into
    // the destination (the socket holds its rest), with record 3's prefix beside it.
    rx.claim = None;
    tx.write_all(&wire[rec + 30_000..2 * rec + 102]).unwrap();
    let o = read_direct(&mut b, &mut rx, &mut got[MAX_PLAIN..]).unwrap();
    assert!(matches!(o, Opened::Direct(n) if n == MAX_PLAIN));
    assert_eq!(buffered(&b), LEN_PREFIX);
    let dry = read_direct(&mut b, &mut rx, &mut got[2 * MAX_PLAIN..])
        .err()
        .unwrap();
    assert_eq!(dry.kind(), std::io::ErrorKind::WouldBlock);
    assert_eq!(buffered(&b), 102);
    // Record 3 up to 5 bytes before its end, read straight in: it stops inside the tag.
    rx.claim = Some(usize::MAX);
    tx.write_all(&wire[2 * rec + 102..3 * rec - 5]).unwrap();
    let dry = read_direct(&mut b, &mut rx, &mut got[2 * MAX_PLAIN..])
        .err()
        .unwrap();
    assert_eq!(dry.kind(), std::io::ErrorKind::WouldBlock);
    assert_eq!(buffered(&b), rec - 5, "what was read is kept");
    // The rest: records 3 and 4 open.
    rx.claim = None;
    tx.write_all(&wire[3 * rec - 5..]).unwrap();
    let mut off = 2 * MAX_PLAIN;
    while off < msg.len() {
        match read_direct(&mut b, &mut rx, &mut got[off..]).unwrap() {
            Opened::Direct(n) => off += n,
            _ => panic!("records missing"),
        }
    }
    assert_eq!(got, msg);

    // A changed byte in a record read straight into the destination.
    a.push(&[], &msg[..MAX_PLAIN]).unwrap();
    let mut wire = a.unsent().to_vec();
    a.sent(wire.len());
    wire[1000] ^= 0x40;
    tx.write_all(&wire[..100]).unwrap();
    let _ = read_direct(&mut b, &mut rx, &mut got);
    tx.write_all(&wire[100..]).unwrap();
    got.fill(0xee);
    let e = read_direct(&mut b, &mut rx, &mut got)
        .err()
        .expect("a changed record fails");
    assert!(e.get_ref().unwrap().is::<Forged>());
    assert!(
        got[..MAX_PLAIN].iter().all(|&x| x == 0),
        "a record that fails in place leaves zeros"
    );
}

/// Several records read by one call straight into the destination: whole ones open there; a
/// shorter one among them (a message's last) and what follows it go back to the buffer and
/// open from there; a read that stops inside a later record keeps every byte it read.
#[test]
fn several_records_open_in_place_with_one_read() {
    let (a, b) = pair(b"secret", b"secret");
    let (mut a, mut b) = (a.unwrap(), b.unwrap());
    let (mut tx, rx) = UnixStream::pair().unwrap();
    // Room in the socket for all the records below (written before any is read).
    let room: libc::c_int = 4 << 20;
    // SAFETY: SO_SNDBUF reads one int from the pointer, which points to `room`.
    let rc = unsafe {
        libc::setsockopt(
            tx.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&room as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    rx.set_nonblocking(true).unwrap();
    let mut rx = Src { s: rx, claim: None };
    // Records of 3 whole, 1 short, 4 whole plaintexts.
    let lens = [
        MAX_PLAIN, MAX_PLAIN, MAX_PLAIN, 1000, MAX_PLAIN, MAX_PLAIN, MAX_PLAIN, 5,
    ];
    let total: usize = lens.iter().sum();
    let msg: Vec<u8> = (0..total).map(|i| (i * 13 + 1) as u8).collect();
    let mut at = 0;
    for l in lens {
        a.push(&[], &msg[at..at + l]).unwrap();
        at += l;
    }
    let wire = a.unsent().to_vec();
    a.sent(wire.len());
    let mut got = vec![0u8; total];
    let mut off = 0;
    let mut direct = Vec::new();
    // The first record's start, then all the rest at once.
    tx.write_all(&wire[..10]).unwrap();
    let dry = read_direct(&mut b, &mut rx, &mut got).err().unwrap();
    assert_eq!(dry.kind(), std::io::ErrorKind::WouldBlock);
    tx.write_all(&wire[10..]).unwrap();
    while off < total {
        match read_direct(&mut b, &mut rx, &mut got[off..]).unwrap() {
            Opened::Direct(n) => {
                direct.push(n);
                off += n;
            }
            Opened::Buffered => {
                off += b.take_plain(&mut [std::io::IoSliceMut::new(&mut got[off..])])
            }
            Opened::Incomplete => panic!("records missing"),
        }
    }
    assert_eq!(got, msg);
    assert_eq!(direct[0], 3 * MAX_PLAIN, "three whole records by one read");
    assert_eq!(direct[1], 1000, "the short one from the buffer");
    assert_eq!(b.in_end - b.in_start, 0);

    // A read of several records that stops inside the third: what was read is kept, and the
    // records open once the rest arrives.
    let mut at = 0;
    for _ in 0..4 {
        a.push(&[], &msg[at..at + MAX_PLAIN]).unwrap();
        at += MAX_PLAIN;
    }
    let wire = a.unsent().to_vec();
    a.sent(wire.len());
    let rec = LEN_PREFIX + MAX_RECORD;
    tx.write_all(&wire[..100]).unwrap();
    let _ = read_direct(&mut b, &mut rx, &mut got);
    rx.claim = Some(usize::MAX);
    tx.write_all(&wire[100..2 * rec + 500]).unwrap();
    let dry = read_direct(&mut b, &mut rx, &mut got).err().unwrap();
    assert_eq!(dry.kind(), std::io::ErrorKind::WouldBlock);
    assert_eq!(
        b.in_end - b.in_start,
        2 * rec + 500,
        "what was read is kept"
    );
    rx.claim = None;
    tx.write_all(&wire[2 * rec + 500..]).unwrap();
    let mut off = 0;
    got.fill(0);
    while off < 4 * MAX_PLAIN {
        match read_direct(&mut b, &mut rx, &mut got[off..4 * MAX_PLAIN]).unwrap() {
            Opened::Direct(n) => off += n,
            _ => panic!("records missing"),
        }
    }
    assert_eq!(got[..4 * MAX_PLAIN], msg[..4 * MAX_PLAIN]);

    // A changed byte in the second of several records read at once.
    a.push(&[], &msg[..MAX_PLAIN]).unwrap();
    a.push(&[], &msg[..MAX_PLAIN]).unwrap();
    let mut wire = a.unsent().to_vec();
    a.sent(wire.len());
    wire[rec + 1000] ^= 0x40;
    tx.write_all(&wire[..100]).unwrap();
    let _ = read_direct(&mut b, &mut rx, &mut got);
    tx.write_all(&wire[100..]).unwrap();
    let e = read_direct(&mut b, &mut rx, &mut got)
        .err()
        .expect("a changed record fails");
    assert!(e.get_ref().unwrap().is::<Forged>());
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
