//! The messages of the window protocol: a request from an origin to a target's service and
//! the target's reply. Little-endian, length-prefixed; a malformed message is an
//! `MPI_ERR_INTERN` error, never a panic.

use crate::entry::MpiError;
use crate::gen::abi::*;

/// What a request asks the target to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Put = 1,
    Get = 2,
    Acc = 3,
    GetAcc = 4,
    Cas = 5,
    Lock = 6,
    Unlock = 7,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Put,
            2 => Kind::Get,
            3 => Kind::Acc,
            4 => Kind::GetAcc,
            5 => Kind::Cas,
            6 => Kind::Lock,
            7 => Kind::Unlock,
            _ => return None,
        })
    }
}

/// One request. `blocks` are the target datatype's data blocks as (byte offset from the
/// target address, length), in type-map order; the data of a put or accumulate is packed in
/// that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub kind: Kind,
    /// The origin's number for this request, echoed in the reply (a reply to a request the
    /// origin gave up on, after a timeout, is recognised and dropped).
    pub seq: u64,
    /// Accumulates: the operator's index in `reduce::Op::ALL`. Lock/unlock: 1 exclusive, 0
    /// shared.
    pub op: u8,
    /// Accumulates and compare-and-swap: the element type's index in `types::Named::ALL`.
    pub named: u16,
    /// The target displacement (in the target's displacement units; an address for dynamic
    /// windows).
    pub disp: i64,
    pub blocks: Vec<(i64, u64)>,
    pub data: Vec<u8>,
    /// Compare-and-swap: the value compared with.
    pub compare: Vec<u8>,
}

impl Msg {
    /// A request without data (lock, unlock).
    pub fn control(kind: Kind, op: u8) -> Msg {
        Msg {
            kind,
            seq: 0,
            op,
            named: 0,
            disp: 0,
            blocks: Vec::new(),
            data: Vec::new(),
            compare: Vec::new(),
        }
    }

    /// The bytes of data the blocks cover.
    pub fn span(&self) -> u64 {
        self.blocks.iter().map(|b| b.1).sum()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(32 + 16 * self.blocks.len() + self.data.len());
        v.push(self.kind as u8);
        v.extend_from_slice(&self.seq.to_le_bytes());
        v.push(self.op);
        v.extend_from_slice(&self.named.to_le_bytes());
        v.extend_from_slice(&self.disp.to_le_bytes());
        v.extend_from_slice(&(self.blocks.len() as u64).to_le_bytes());
        for (off, len) in &self.blocks {
            v.extend_from_slice(&off.to_le_bytes());
            v.extend_from_slice(&len.to_le_bytes());
        }
        v.extend_from_slice(&(self.data.len() as u64).to_le_bytes());
        v.extend_from_slice(&self.data);
        v.extend_from_slice(&(self.compare.len() as u64).to_le_bytes());
        v.extend_from_slice(&self.compare);
        v
    }

    pub fn decode(b: &[u8]) -> Result<Msg, MpiError> {
        let mut r = Reader { b, at: 0 };
        let kind = r.take(1)?[0];
        let kind = Kind::from_u8(kind).ok_or_else(|| bad(&format!("request kind {kind}")))?;
        let seq = u64::from_le_bytes(r.array()?);
        let op = r.take(1)?[0];
        let named = u16::from_le_bytes(r.array()?);
        let disp = i64::from_le_bytes(r.array()?);
        let n = r.len()?;
        if n > b.len() / 16 {
            return Err(bad("block count"));
        }
        let mut blocks = Vec::with_capacity(n);
        for _ in 0..n {
            let off = i64::from_le_bytes(r.array()?);
            let len = u64::from_le_bytes(r.array()?);
            blocks.push((off, len));
        }
        let n = r.len()?;
        let data = r.take(n)?.to_vec();
        let n = r.len()?;
        let compare = r.take(n)?.to_vec();
        if r.at != b.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(Msg {
            kind,
            seq,
            op,
            named,
            disp,
            blocks,
            data,
            compare,
        })
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MpiError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or_else(|| bad("truncated request"))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], MpiError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn len(&mut self) -> Result<usize, MpiError> {
        usize::try_from(u64::from_le_bytes(self.array()?)).map_err(|_| bad("length"))
    }
}

fn bad(what: &str) -> MpiError {
    MpiError::new(
        MPI_ERR_INTERN,
        format!("malformed window protocol message ({what})"),
    )
}

/// A successful reply to request `seq` carrying `data` (a get's or fetch's result; empty
/// otherwise).
pub fn reply_ok(seq: u64, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(9 + data.len());
    v.push(0);
    v.extend_from_slice(&seq.to_le_bytes());
    v.extend_from_slice(data);
    v
}

/// A failed reply to request `seq`: the error's class and message, raised again at the origin.
pub fn reply_err(seq: u64, e: &MpiError) -> Vec<u8> {
    let mut v = vec![e.class.clamp(1, 127) as u8];
    v.extend_from_slice(&seq.to_le_bytes());
    v.extend_from_slice(e.msg.as_bytes());
    v
}

/// The request number a reply answers.
pub fn reply_seq(b: &[u8]) -> Result<u64, MpiError> {
    let s = b.get(1..9).ok_or_else(|| bad("short reply"))?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

/// The data of a reply, or the target's error.
pub fn parse_reply(b: &[u8], target: usize) -> Result<&[u8], MpiError> {
    if b.len() < 9 {
        return Err(bad("short reply"));
    }
    match (b[0], &b[9..]) {
        (0, data) => Ok(data),
        (class, msg) => Err(MpiError::new(
            c_int_of(class),
            format!("at target rank {target}: {}", String::from_utf8_lossy(msg)),
        )),
    }
}

fn c_int_of(b: u8) -> std::ffi::c_int {
    std::ffi::c_int::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects_garbage() {
        let m = Msg {
            kind: Kind::GetAcc,
            seq: 77,
            op: 2,
            named: 7,
            disp: -3,
            blocks: vec![(0, 4), (16, 8)],
            data: vec![1; 12],
            compare: vec![9, 9],
        };
        let b = m.encode();
        assert_eq!(Msg::decode(&b).unwrap(), m);
        assert!(Msg::decode(&b[..b.len() - 1]).is_err());
        assert!(Msg::decode(&[99]).is_err());
        let mut long = b.clone();
        long.push(0);
        assert!(Msg::decode(&long).is_err());
        assert_eq!(parse_reply(&reply_ok(3, &[5]), 1).unwrap(), &[5]);
        assert_eq!(reply_seq(&reply_ok(3, &[5])).unwrap(), 3);
        let r = reply_err(4, &MpiError::new(MPI_ERR_RMA_RANGE, "x"));
        assert_eq!(reply_seq(&r).unwrap(), 4);
        let e = parse_reply(&r, 1).unwrap_err();
        assert_eq!(e.class, MPI_ERR_RMA_RANGE);
    }
}
