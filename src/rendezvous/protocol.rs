//! Rendezvous wire protocol (version 1): length-prefixed JSON frames, shared by client and server.
//!
//! Frame: u32 big-endian payload length, then that many bytes of JSON. A client sends `hello` once,
//! then any number of `register`s on the same connection; the server answers `welcome` to the hello
//! and `paired` to each registration once the other member of the pair has registered.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

pub const VERSION: u32 = 1;
/// Largest frame either side accepts.
pub const MAX_FRAME: usize = 16 * 1024;
/// Longest job or pair name.
pub const MAX_NAME: usize = 256;

/// Messages from a client (a peer) to the server. With authentication, `mac` is the hex
/// HMAC-SHA256 of [`ClientMsg::signed_fields`] under the job's secret, and every `nonce`
/// ("<unix seconds>-<random hex>") is used once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// First message: protocol version and the job (communicator name) all later pairings belong to.
    Hello {
        version: u32,
        job: String,
        rank: u32,
        size: u32,
        nonce: String,
        #[serde(default)]
        mac: Option<String>,
    },
    /// Asks to be paired with the other registrant of `pair` in the same job.
    Register {
        pair: String,
        rank: u32,
        private: String,
        nonce: String,
        #[serde(default)]
        mac: Option<String>,
    },
    /// First message of a relay connection: once both members of `pair` sent it, the server
    /// answers `relay_ready` to both and then forwards bytes between the two connections.
    Relay {
        version: u32,
        job: String,
        rank: u32,
        size: u32,
        pair: String,
        nonce: String,
        #[serde(default)]
        mac: Option<String>,
    },
    /// Asks why the relay circuit of `pair` ended (sent on a new connection after a relayed link
    /// was lost): the server answers `circuit_ended`.
    Circuit {
        version: u32,
        job: String,
        rank: u32,
        size: u32,
        pair: String,
        nonce: String,
        #[serde(default)]
        mac: Option<String>,
    },
}

impl ClientMsg {
    /// The fields the MAC covers, in order. `job` is the session's job (used by `register`).
    pub fn signed_fields(&self, job: &str) -> Vec<String> {
        match self {
            ClientMsg::Hello {
                version,
                job,
                rank,
                size,
                nonce,
                ..
            } => vec![
                "hello".into(),
                version.to_string(),
                job.clone(),
                rank.to_string(),
                size.to_string(),
                nonce.clone(),
            ],
            ClientMsg::Register {
                pair,
                rank,
                private,
                nonce,
                ..
            } => vec![
                "register".into(),
                job.to_string(),
                pair.clone(),
                rank.to_string(),
                private.clone(),
                nonce.clone(),
            ],
            ClientMsg::Relay {
                version,
                job,
                rank,
                size,
                pair,
                nonce,
                ..
            } => vec![
                "relay".into(),
                version.to_string(),
                job.clone(),
                pair.clone(),
                rank.to_string(),
                size.to_string(),
                nonce.clone(),
            ],
            ClientMsg::Circuit {
                version,
                job,
                rank,
                size,
                pair,
                nonce,
                ..
            } => vec![
                "circuit".into(),
                version.to_string(),
                job.clone(),
                pair.clone(),
                rank.to_string(),
                size.to_string(),
                nonce.clone(),
            ],
        }
    }

    pub fn nonce(&self) -> &str {
        match self {
            ClientMsg::Hello { nonce, .. }
            | ClientMsg::Register { nonce, .. }
            | ClientMsg::Relay { nonce, .. }
            | ClientMsg::Circuit { nonce, .. } => nonce,
        }
    }

    pub fn mac(&self) -> Option<&str> {
        match self {
            ClientMsg::Hello { mac, .. }
            | ClientMsg::Register { mac, .. }
            | ClientMsg::Relay { mac, .. }
            | ClientMsg::Circuit { mac, .. } => mac.as_deref(),
        }
    }

    /// Sets a fresh nonce and, with a key, the MAC.
    pub fn sign(mut self, job: &str, key: Option<&[u8]>) -> Self {
        let fresh = super::auth::nonce();
        match &mut self {
            ClientMsg::Hello { nonce, .. }
            | ClientMsg::Register { nonce, .. }
            | ClientMsg::Relay { nonce, .. }
            | ClientMsg::Circuit { nonce, .. } => *nonce = fresh,
        }
        let tag = key.map(|k| {
            let fields = self.signed_fields(job);
            let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
            super::auth::hex(&super::auth::mac(k, &refs))
        });
        match &mut self {
            ClientMsg::Hello { mac, .. }
            | ClientMsg::Register { mac, .. }
            | ClientMsg::Relay { mac, .. }
            | ClientMsg::Circuit { mac, .. } => *mac = tag,
        }
        self
    }
}

/// Messages from the server to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMsg {
    /// Answer to hello: the client's endpoint as the server sees it (after any NAT).
    Welcome { version: u32, observed: String },
    /// Both members registered `pair`: here is the other one.
    Paired {
        pair: String,
        peer_rank: u32,
        self_public: String,
        peer_public: String,
        peer_private: String,
    },
    /// Both members of a relay pair are connected: from the next byte on, the connection carries
    /// the peer's bytes.
    RelayReady { pair: String, peer_rank: u32 },
    /// Answer to `circuit`: the code and message of the limit that cut the pair's circuit (None:
    /// no limit did, as far as the server remembers).
    CircuitEnded {
        pair: String,
        code: Option<String>,
        message: Option<String>,
    },
    /// The request was refused; the server closes the connection after this for protocol errors.
    Error { code: String, message: String },
}

/// Encodes one frame.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    let body = serde_json::to_vec(msg).expect("protocol messages always serialize");
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// Validates a frame length read from the wire.
pub fn check_len(len: u32) -> std::io::Result<usize> {
    let len = len as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("frame length {len} outside 1..={MAX_FRAME}"),
        ));
    }
    Ok(len)
}

/// Decodes a frame body.
pub fn decode<T: for<'de> Deserialize<'de>>(body: &[u8]) -> std::io::Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad message: {e}"))
    })
}

/// Blocking write of one frame.
pub fn write_frame<T: Serialize>(w: &mut impl Write, msg: &T) -> std::io::Result<()> {
    w.write_all(&encode(msg))
}

/// Blocking read of one frame.
pub fn read_frame<T: for<'de> Deserialize<'de>>(r: &mut impl Read) -> std::io::Result<T> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = check_len(u32::from_be_bytes(len))?;
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    decode(&body)
}

/// A name is 1..=MAX_NAME printable ASCII characters without whitespace.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME && s.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_roundtrip() {
        let m = ClientMsg::Register {
            pair: "0-1".into(),
            rank: 0,
            private: "127.0.0.1:5".into(),
            nonce: String::new(),
            mac: None,
        }
        .sign("job", Some(b"k"));
        let bytes = encode(&m);
        let back: ClientMsg = read_frame(&mut &bytes[..]).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn rejects_bad_frames() {
        assert!(read_frame::<ClientMsg>(&mut &[0u8, 0, 0, 0][..]).is_err());
        assert!(read_frame::<ClientMsg>(&mut &[0xffu8, 0, 0, 0][..]).is_err());
        let junk = [0u8, 0, 0, 3, b'{', b'}', b'x'];
        assert!(read_frame::<ClientMsg>(&mut &junk[..]).is_err());
    }
}
