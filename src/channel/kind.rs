//! The one list of channels: each kind's name, family and configuration key. Config, model,
//! calibration, benchmark and dispatch all iterate [`KINDS`]; adding a channel adds a variant and
//! its row here, its arm in [`super::connect`], and its section in the configuration.

/// Which collective algorithms run on a channel: those written against
/// [`super::P2pTransport`] or those written against [`super::store::StoreTransport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Point-to-point messages between connected peers (Direct).
    P2p,
    /// Objects or queues in a store that every peer reaches (Redis, S3).
    Store,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::P2p => "p2p",
            Family::Store => "store",
        }
    }
}

/// A channel libfmi can run operations on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelKind {
    /// Direct TCP connections through NATs, with the rendezvous server's relay as fallback.
    Direct,
    /// A Redis server.
    Redis,
    /// An S3 bucket.
    S3,
}

/// What is known of a channel kind.
struct Row {
    kind: ChannelKind,
    /// Lower case, as in the C API, the trace and the tools ("direct").
    name: &'static str,
    family: Family,
    /// Its section under `backends` and `model` in the configuration ("Direct").
    config_key: &'static str,
}

/// The channels, in the order the model breaks ties and the tools list them.
const ROWS: [Row; 3] = [
    Row {
        kind: ChannelKind::Direct,
        name: "direct",
        family: Family::P2p,
        config_key: "Direct",
    },
    Row {
        kind: ChannelKind::Redis,
        name: "redis",
        family: Family::Store,
        config_key: "Redis",
    },
    Row {
        kind: ChannelKind::S3,
        name: "s3",
        family: Family::Store,
        config_key: "S3",
    },
];

/// Every channel kind, in [`ROWS`] order.
pub const KINDS: [ChannelKind; ROWS.len()] = {
    let mut k = [ChannelKind::Direct; ROWS.len()];
    let mut i = 0;
    while i < ROWS.len() {
        k[i] = ROWS[i].kind;
        i += 1;
    }
    k
};

impl ChannelKind {
    fn row(self) -> &'static Row {
        &ROWS[self.index()]
    }

    /// Position in [`KINDS`] (for per-channel arrays).
    pub const fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        self.row().name
    }

    pub fn family(self) -> Family {
        self.row().family
    }

    pub fn config_key(self) -> &'static str {
        self.row().config_key
    }

    /// True for the object-store family.
    pub fn is_store(self) -> bool {
        self.family() == Family::Store
    }

    /// The kind named `name` (lower case, as [`ChannelKind::name`]).
    pub fn from_name(name: &str) -> Option<ChannelKind> {
        KINDS.into_iter().find(|k| k.name() == name)
    }

    /// Every channel name, comma-separated (for messages).
    pub fn names() -> String {
        KINDS.map(ChannelKind::name).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_variant_order_and_names_are_unique() {
        for (i, k) in KINDS.into_iter().enumerate() {
            assert_eq!(k.index(), i, "{k:?}");
            assert_eq!(ChannelKind::from_name(k.name()), Some(k));
        }
        assert_eq!(ChannelKind::from_name("gcs"), None);
        assert_eq!(ChannelKind::names(), "direct, redis, s3");
        assert_eq!(ChannelKind::S3.config_key(), "S3");
        assert!(ChannelKind::Redis.is_store() && !ChannelKind::Direct.is_store());
    }
}
