//! The key grammar of the store channels. Every key of a communicator starts with
//! `fmi:{name}:`, where `{name}` is the communicator name with every byte outside
//! `[A-Za-z0-9._-]` percent-encoded, so `:` only ever separates fields and no two names (nor a
//! name and a field) run together: `job1` + `2` and `job` + `12` stay apart.
//!
//! ```text
//! fmi:{name}:join                          run-id agreement: joins, read by rank 0
//! fmi:{name}:welcome:{nonce}               run-id agreement: rank 0's answer to one join
//! fmi:{name}:{run}:ack                     run-id agreement: joiners confirm the run id
//! fmi:{name}:rank:{r}                      rank r's claim, held while its process runs
//! fmi:{name}:{run}:p2p:{src}:{dst}         send/recv queue of one ordered pair
//! fmi:{name}:{run}:tagged:{ctx}:{dst}:inbox          tagged messages to dst in context ctx
//! fmi:{name}:{run}:tagged:{ctx}:{dst}:{src}:{n}      payload of src's n-th large message to dst
//! fmi:{name}:{run}:tagged:{ctx}:{dst}:spill:{n}      payloads dst holds back ([`super::inbox`])
//! fmi:{name}:{run}:{seq}:{op}:{phase}[:{i}...]   one collective call (seq counts calls)
//! fmi:{name}:{run}:c{label}:...            a sub-communicator: the same grammar below its prefix
//! ```
//!
//! A sub-communicator's `{label}` (`crate::comm`) is `{ctx}.{first}.{nonce}` (its context id,
//! the init rank of its rank 0 and a random nonce of that rank) or, for the agreement of a
//! `create_group`, `g{tag}.{hash}` (the user's tag and a hash of the group's members); labels
//! are built from `[0-9a-z.]` only.
//!
//! `{run}` is 16 hex digits agreed at init ([`super::join`]), so nothing of an earlier run with
//! the same name (crashed or not) is ever read. `{nonce}` and `{n}` are 16 hex digits (so no such
//! key is a prefix of another). Transports may add their own suffix after `#` (e.g. Redis chunk keys `{key}#{id}:{i}`); `#` appears nowhere else.

use std::fmt::Write;

/// Percent-encodes every byte outside `[A-Za-z0-9._-]`.
pub fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Escapes the glob characters of Redis `MATCH` patterns (`*?[]\`), for listing by prefix.
pub fn glob_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Formats a run id or nonce as its 16 hex digits.
pub fn hex_id(id: u64) -> String {
    format!("{id:016x}")
}

/// The keys of one communicator name, before a run id is known (used to agree on one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameKeys {
    root: String,
}

impl NameKeys {
    pub fn new(comm_name: &str) -> Self {
        NameKeys {
            root: format!("fmi:{}", escape(comm_name)),
        }
    }
    /// The queue of joins that rank 0 reads.
    pub fn join(&self) -> String {
        format!("{}:join", self.root)
    }
    /// Rank 0's answer to the join with `nonce`.
    pub fn welcome(&self, nonce: u64) -> String {
        format!("{}:welcome:{}", self.root, hex_id(nonce))
    }
    /// The claim of `rank` ([`super::StoreTransport::claim`]).
    pub fn rank(&self, rank: usize) -> String {
        format!("{}:rank:{rank}", self.root)
    }
    /// The keys of run `run` of this name.
    pub fn run(&self, run: u64) -> Namespace {
        Namespace {
            prefix: format!("{}:{}:", self.root, hex_id(run)),
        }
    }
}

/// The keys of one run of a communicator: everything starts with [`Namespace::prefix`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    prefix: String,
}

impl Namespace {
    /// `fmi:{name}:{run}:`, the prefix of every key of the run.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    /// The namespace of a sub-communicator labelled `label` (`[0-9a-z.]` only): its keys start
    /// with `{prefix}c{label}:`, which no key of this namespace does (they continue with a digit,
    /// `p2p` or `ack`).
    pub fn sub(&self, label: &str) -> Namespace {
        debug_assert!(label
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'.'));
        Namespace {
            prefix: format!("{}c{label}:", self.prefix),
        }
    }
    /// Where joiners confirm that they got the run id.
    pub fn ack(&self) -> String {
        format!("{}ack", self.prefix)
    }
    /// The send/recv queue from `src` to `dst`.
    pub fn p2p(&self, src: usize, dst: usize) -> String {
        format!("{}p2p:{src}:{dst}", self.prefix)
    }
    /// The tagged-message keys of receiver `dst` in matching context `ctx`.
    pub fn tagged(&self, ctx: u32, dst: usize) -> TaggedKeys {
        TaggedKeys {
            base: format!("{}tagged:{ctx}:{dst}:", self.prefix),
        }
    }
    /// The keys of collective call number `seq` (operation `op`).
    pub fn call(&self, seq: u64, op: &str) -> CallKeys {
        CallKeys {
            base: format!("{}{seq}:{op}", self.prefix),
        }
    }
}

/// The tagged-message keys of one receiver in one context: all start with
/// [`TaggedKeys::prefix`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedKeys {
    base: String,
}

impl TaggedKeys {
    /// `{prefix}tagged:{ctx}:{dst}:`.
    pub fn prefix(&self) -> String {
        self.base.clone()
    }
    /// The inbox: envelopes from every sender, in arrival order.
    pub fn inbox(&self) -> String {
        format!("{}inbox", self.base)
    }
    /// The payload of the `n`-th large message from `src`.
    pub fn data(&self, src: usize, n: u64) -> String {
        format!("{}{src}:{}", self.base, hex_id(n))
    }
    /// The `n`-th payload the receiver wrote back to the store.
    pub fn spill(&self, n: u64) -> String {
        format!("{}spill:{}", self.base, hex_id(n))
    }
}

/// The keys of one collective call: `{prefix}{seq}:{op}:{phase}[:{i}...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallKeys {
    base: String,
}

impl CallKeys {
    /// `{prefix}{seq}:{op}:`, the prefix of every key of this call.
    pub fn prefix(&self) -> String {
        format!("{}:", self.base)
    }
    /// The key of `phase` with the numeric fields `parts` (e.g. writer and reader ranks).
    pub fn key(&self, phase: &str, parts: &[usize]) -> String {
        debug_assert!(phase
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        let mut k = format!("{}:{phase}", self.base);
        for p in parts {
            let _ = write!(k, ":{p}");
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_fields_separated() {
        assert_eq!(escape("job-1.a_b"), "job-1.a_b");
        assert_eq!(escape("a:b*c%"), "a%3Ab%2Ac%25");
        let a = NameKeys::new("job1").run(2);
        let b = NameKeys::new("job").run(12);
        assert_ne!(a.p2p(1, 2), b.p2p(1, 2));
        assert_ne!(
            a.call(1, "bcast").key("x", &[1, 23]),
            a.call(1, "bcast").key("x", &[12, 3])
        );
        assert_eq!(
            NameKeys::new("j:1")
                .run(255)
                .call(7, "bcast")
                .key("data", &[3]),
            "fmi:j%3A1:00000000000000ff:7:bcast:data:3"
        );
        let t = NameKeys::new("j").run(1).tagged(2, 3);
        assert_eq!(t.inbox(), "fmi:j:0000000000000001:tagged:2:3:inbox");
        assert_eq!(
            t.data(1, 10),
            "fmi:j:0000000000000001:tagged:2:3:1:000000000000000a"
        );
        assert!(t.spill(1).starts_with(&t.prefix()));
        assert_ne!(
            NameKeys::new("j").run(1).tagged(2, 31).prefix(),
            NameKeys::new("j").run(1).tagged(23, 1).prefix()
        );
        assert_eq!(
            NameKeys::new("j").welcome(1),
            "fmi:j:welcome:0000000000000001"
        );
        // A name cannot imitate another name plus a run: escaped names never contain ':'.
        assert!(!escape("a:0000000000000001").contains(':'));
    }

    #[test]
    fn glob_characters_are_literal() {
        assert_eq!(glob_literal("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        assert_eq!(glob_literal("fmi:x%2A:"), "fmi:x%2A:");
    }
}
