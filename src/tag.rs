//! The operations and the tags their messages carry: the one list of operations (code and
//! name), and how a call's tag is made and described. Below the channels, which describe tags
//! in their errors, and the collectives, which carry them.

/// Operation codes carried in message tags, so that mismatched calls are detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OpCode {
    SendRecv = 0,
    Bcast = 1,
    Barrier = 2,
    Gather = 3,
    Scatter = 4,
    Reduce = 5,
    Allreduce = 6,
    Scan = 7,
    Allgather = 8,
    Alltoall = 9,
    Finalize = 10,
    /// Peers exchange a setting that must be equal everywhere (init digest, hint, pinned channel).
    Agree = 11,
    Gatherv = 12,
    Scatterv = 13,
    Allgatherv = 14,
    Alltoallv = 15,
    ReduceScatterBlock = 16,
    ReduceScatter = 17,
    Exscan = 18,
}

const NAMES: [&str; 19] = [
    "send/recv",
    "bcast",
    "barrier",
    "gather",
    "scatter",
    "reduce",
    "allreduce",
    "scan",
    "allgather",
    "alltoall",
    "finalize",
    "agree",
    "gatherv",
    "scatterv",
    "allgatherv",
    "alltoallv",
    "reduce_scatter_block",
    "reduce_scatter",
    "exscan",
];

impl OpCode {
    pub fn name(self) -> &'static str {
        NAMES[self as usize]
    }
}

/// Tag of the `seq`-th collective call: op code in the top byte, sequence number below.
/// Point-to-point messages use tag 0.
pub fn make_tag(op: OpCode, seq: u32) -> u32 {
    if op == OpCode::SendRecv {
        return 0;
    }
    ((op as u32) << 24) | (seq & 0x00FF_FFFF)
}

/// Human-readable form of a tag for error messages.
pub fn describe_tag(tag: u32) -> String {
    if tag == 0 {
        return "send/recv".into();
    }
    let op = (tag >> 24) as usize;
    let name = NAMES.get(op).copied().unwrap_or("unknown operation");
    format!("{name} call #{}", tag & 0x00FF_FFFF)
}
