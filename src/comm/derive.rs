//! Communicators derived from a communicator: [`Communicator::dup`], [`Communicator::split`],
//! [`Communicator::create_group`], and [`Communicator::free`].
//!
//! A derived communicator reuses its parent's connections (no new mesh, no rendezvous): its
//! channels are views of the same transports ([`super::view`]) with the new communicator's ranks
//! and context id ([`super::context`]); on a store channel its keys live under a namespace of
//! its own. It starts with the parent's timeout, hint, pin and model, with counters at zero.

use super::channels::Held;
use super::context::{self, Pick, TEMPORARY};
use super::group::Group;
use super::view::{P2pView, RankMap};
use super::Communicator;
use crate::channel::store::join::random_id;
use crate::channel::{ChannelKind, P2pTransport, Source, TagSel, TAG_UB};
use crate::collective::buffer::AlignedBuf;
use crate::collective::Args;
use crate::datatype::Datatype;
use crate::error::{Error, ErrorKind, Result};
use crate::model::counters::{AlgorithmCounters, ChannelCounters};
use crate::op::{BuiltinOp, ReduceOp};
use crate::tag::OpCode;
use std::sync::Arc;
use std::time::Instant;

/// The color of [`Communicator::split`] for a process that joins no new communicator
/// (`FMI_UNDEFINED`, as `MPI_UNDEFINED`).
pub const UNDEFINED: i32 = -1;

/// Bytes of one process's contribution to a split: color, key, nonce.
const SPLIT_RECORD: usize = 16;

/// FNV-1a of the members' init ranks: identifies a group in the keys and checks of its
/// `create_group` agreement.
fn members_hash(members: &[usize]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &m in members {
        for b in (m as u64).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A value whose AND over every process equals each process's own value only when every process
/// contributed the same `v`.
fn same_check(v: u32) -> u64 {
    u64::from(v) | (u64::from(!v) << 32)
}

impl Communicator {
    /// This communicator's context id (0 for the communicator made by init).
    pub fn context_id(&self) -> u32 {
        self.ctx
    }

    /// The group of this communicator's processes, in rank order.
    pub fn group(&self) -> Group {
        Group {
            family: self.family.id,
            members: self.members.to_vec(),
            me: self.members[self.rank],
        }
    }

    /// A new communicator of the same processes in the same order, with its own context
    /// (traffic on one never matches a receive on the other). Collective over this communicator.
    pub fn dup(&mut self) -> Result<Communicator> {
        let rank = self.rank as i32;
        self.split(0, rank)?
            .ok_or_else(|| Error::new(ErrorKind::Internal, "dup: a split of one color gave none"))
    }

    /// Splits this communicator: the processes that pass the same `color` (>= 0) form a new
    /// communicator, ranked by `key`, then by their rank here. A process that passes
    /// [`UNDEFINED`] gets None. Collective over this communicator: every process calls it; when
    /// any passes a negative color other than [`UNDEFINED`], every process gets `InvalidArg`.
    pub fn split(&mut self, color: i32, key: i32) -> Result<Option<Communicator>> {
        let r = self.split_inner(color, key);
        r.map_err(|e| e.context(format!("split at rank {} of {}", self.rank, self.size)))
    }

    fn split_inner(&mut self, color: i32, key: i32) -> Result<Option<Communicator>> {
        let nonce = random_id();
        let mut mine = [0u8; SPLIT_RECORD];
        mine[0..4].copy_from_slice(&color.to_le_bytes());
        mine[4..8].copy_from_slice(&key.to_le_bytes());
        mine[8..16].copy_from_slice(&nonce.to_le_bytes());
        let mut all = vec![0u8; SPLIT_RECORD * self.size];
        if self.size == 1 {
            all.copy_from_slice(&mine);
        } else {
            let kind = self.channels.control();
            let call = self.call(OpCode::Allgather, SPLIT_RECORD);
            let args = Args::Allgather {
                send: &mine,
                recv: &mut all,
            };
            self.run_on(kind, &call, args).0?;
        }
        let rec = |r: usize| {
            let b = &all[r * SPLIT_RECORD..(r + 1) * SPLIT_RECORD];
            let i = |at: usize| i32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
            (
                i(0),
                i(4),
                u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")),
            )
        };
        if let Some((r, c)) = (0..self.size)
            .map(|r| (r, rec(r).0))
            .find(|&(_, c)| c < 0 && c != UNDEFINED)
        {
            return Err(Error::invalid(format!(
                "rank {r} passed color {c}: a color is >= 0, or UNDEFINED ({UNDEFINED})"
            )));
        }
        let deadline = Instant::now() + self.timeout;
        let family = self.family.clone();
        let want = color != UNDEFINED;
        let key = context::key(self.ctx, false);
        let (id, _) = context::agree(&family, deadline, Pick::Lowest, want, key, &[], |w| {
            self.and_over(w)
        })?;
        if !want {
            return Ok(None);
        }
        let mut ranks: Vec<usize> = (0..self.size).filter(|&r| rec(r).0 == color).collect();
        ranks.sort_by_key(|&r| (rec(r).1, r));
        self.derive(&ranks, id, rec(ranks[0]).2)
            .map(Some)
            .inspect_err(|_| self.release_id(id))
    }

    /// A new communicator of the processes of `group` (a group of this communicator's
    /// processes), ranked as in the group. Collective over the group only: exactly its members
    /// call it, with the same group and `tag` (0..=`TAG_UB`); concurrent calls with overlapping
    /// groups on this communicator need different tags.
    pub fn create_group(&mut self, group: &Group, tag: u32) -> Result<Communicator> {
        let r = self.create_group_inner(group, tag);
        r.map_err(|e| {
            e.context(format!(
                "create_group with tag {tag} at rank {} of {}",
                self.rank, self.size
            ))
        })
    }

    fn create_group_inner(&mut self, group: &Group, tag: u32) -> Result<Communicator> {
        if tag > TAG_UB {
            return Err(Error::invalid(format!(
                "tag {tag} out of range (valid: 0..={TAG_UB})"
            )));
        }
        if group.family != self.family.id {
            return Err(Error::invalid(
                "the group comes from a communicator of another init",
            ));
        }
        let mut ranks = Vec::with_capacity(group.size());
        for (i, &m) in group.members.iter().enumerate() {
            match self.members.iter().position(|&x| x == m) {
                Some(r) => ranks.push(r),
                None => {
                    return Err(Error::invalid(format!(
                        "group rank {i} (process {m} of the init) is not a member of this \
                         communicator"
                    )))
                }
            }
        }
        if !ranks.contains(&self.rank) {
            return Err(Error::invalid(
                "this process is not a member of the group: only the group's members call \
                 create_group",
            ));
        }
        // The agreement runs on a temporary communicator of the group: its context is derived
        // from this communicator's and the tag, its store keys from the tag and the members.
        let hash = members_hash(&group.members);
        let temp_ctx = TEMPORARY | ((self.ctx & 0x7FF) << 19) | (tag & 0x7_FFFF);
        let temp_label = format!("g{tag}.{hash:016x}");
        let mut temp = self.derive_labelled(&ranks, temp_ctx, &temp_label)?;
        let deadline = Instant::now() + self.timeout;
        let family = self.family.clone();
        let nonce = random_id();
        // Group rank 0's nonce (the others contribute all ones), and two checks that every
        // member passed the same tag and the same group.
        let extra = [
            if temp.rank == 0 { nonce } else { u64::MAX },
            same_check(tag),
            same_check(hash as u32),
            same_check((hash >> 32) as u32),
        ];
        let key = context::key(temp_ctx, false);
        let (id, words) =
            context::agree(&family, deadline, Pick::Lowest, true, key, &extra, |w| {
                temp.and_over(w)
            })?;
        drop(temp);
        let checked = if words[1] != same_check(tag) {
            Err(Error::new(
                ErrorKind::Mismatch,
                "the members called create_group with different tags",
            ))
        } else if words[2..] != [same_check(hash as u32), same_check((hash >> 32) as u32)] {
            Err(Error::new(
                ErrorKind::Mismatch,
                "the members called create_group with different groups",
            ))
        } else {
            Ok(())
        };
        checked
            .and_then(|()| self.derive(&ranks, id, words[0]))
            .inspect_err(|_| self.release_id(id))
    }

    /// Collective close of a communicator derived from another (as [`Communicator::finalize`],
    /// which it is): waits for every member, releases its channels (the connections stay open
    /// while another communicator uses them) and returns its context id for reuse. Messages of
    /// this communicator that arrived but were never received are discarded and reported as an
    /// error.
    pub fn free(self) -> Result<()> {
        self.finalize()
    }

    /// After the closing barrier of a derived communicator: receives and drops the messages of
    /// its context that arrived but were never received (they must not reach a later
    /// communicator that reuses the id), and returns the id. An error names what was dropped.
    pub(super) fn release_context(&mut self) -> Result<()> {
        let mut dropped = Vec::new();
        let deadline = Instant::now() + self.timeout;
        let me = self.rank;
        if let Some(t) = self.direct_view() {
            for src in (0..t.size()).filter(|&r| r != me).map(Source::Rank) {
                // A member that finished its free may have closed its connections already.
                let lost = |e: &crate::Error| e.kind() == ErrorKind::PeerLost;
                loop {
                    let st = match t.probe(0, src, TagSel::Any, None) {
                        Ok(Some(st)) => st,
                        Ok(None) => break,
                        Err(e) if lost(&e) => break,
                        Err(e) => return Err(e),
                    };
                    let mut buf = vec![0u8; st.bytes];
                    let tag = TagSel::Tag(st.tag);
                    match t.recv_tagged(0, &mut buf, src, tag, None, deadline) {
                        Ok(_) => dropped.push(st),
                        Err(e) if lost(&e) => break,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        self.family
            .ids(Instant::now() + self.timeout)?
            .release(self.ctx);
        if dropped.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = dropped
            .iter()
            .take(8)
            .map(|s| {
                format!(
                    "{} bytes from rank {} with tag {}",
                    s.bytes, s.source, s.tag
                )
            })
            .collect();
        Err(Error::invalid(format!(
            "{} message(s) sent on this communicator were never received and were discarded: {}{}",
            dropped.len(),
            list.join(", "),
            if dropped.len() > 8 { ", ..." } else { "" }
        )))
    }

    /// Returns a reserved id that no communicator got.
    pub(super) fn release_id(&self, id: u32) {
        if let Ok(mut ids) = self.family.ids(Instant::now() + self.timeout) {
            ids.release(id);
        }
    }

    fn direct_view(&mut self) -> Option<&mut P2pView> {
        match self.channels.get(ChannelKind::Direct) {
            Some(Held::P2p(v)) => Some(v),
            _ => None,
        }
    }

    /// The AND of every member's `words` (an allreduce on the control channel).
    fn and_over(&mut self, words: &mut [u64]) -> Result<()> {
        if self.size == 1 {
            return Ok(());
        }
        let mut buf = AlignedBuf::new(words.len() * 8);
        for (c, w) in buf.chunks_exact_mut(8).zip(words.iter()) {
            c.copy_from_slice(&w.to_le_bytes());
        }
        let op = ReduceOp::builtin(BuiltinOp::BAnd);
        let t = Datatype::UInt64;
        let call = self.reduction(OpCode::Allreduce, buf.len(), t, &op)?;
        let kind = self.channels.control();
        let args = Args::Allreduce {
            send: None,
            buf: &mut buf,
            t,
            op: &op,
        };
        self.run_on(kind, &call, args).0?;
        for (c, w) in buf.chunks_exact(8).zip(words.iter_mut()) {
            *w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        }
        Ok(())
    }

    /// The communicator of context `ctx` whose rank i is rank `ranks[i]` of this one; `nonce`
    /// (of its rank 0) makes its store keys differ from those of an earlier communicator with
    /// the same id and rank 0.
    pub(super) fn derive(&self, ranks: &[usize], ctx: u32, nonce: u64) -> Result<Communicator> {
        let first = self.members[ranks[0]];
        self.derive_labelled(ranks, ctx, &format!("{ctx}.{first}.{nonce:016x}"))
    }

    fn derive_labelled(&self, ranks: &[usize], ctx: u32, label: &str) -> Result<Communicator> {
        let members: Vec<usize> = ranks.iter().map(|&r| self.members[r]).collect();
        let rank = ranks
            .iter()
            .position(|&r| r == self.rank)
            .ok_or_else(|| Error::new(ErrorKind::Internal, "derive: not a member"))?;
        let map = Arc::new(RankMap::new(members.clone(), self.family.size));
        let channels = self.channels.derive(ctx, &map, rank, label)?;
        let trace = match &self.trace {
            Some(t) => Some(t.reopen()?),
            None => None,
        };
        Ok(Communicator {
            rank,
            size: members.len(),
            name: format!("{}#{ctx}", self.name),
            timeout: self.timeout,
            hint: self.hint,
            faas_memory_mib: self.faas_memory_mib,
            config: self.config.clone(),
            channels,
            seq: 0,
            counters: ChannelCounters::default(),
            algorithms: AlgorithmCounters::default(),
            trace,
            worker: None,
            ctx,
            members: members.into(),
            family: self.family.clone(),
        })
    }
}
