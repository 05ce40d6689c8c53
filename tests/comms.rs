//! Communicators derived from the one made by init, on the direct channel: split with random
//! colors and keys against a reference, dup and the isolation of contexts, collectives and
//! tagged messages on sub-communicators, create_group, group operations, free and the reuse of
//! context ids, a parent finalized before its children, and bad input.

mod common;

use fmi::{
    BuiltinOp, Communicator, Datatype, ErrorKind, Group, ReduceOp, Source, TagSel, UNDEFINED,
};
use std::time::Duration;

/// A small deterministic generator (xorshift64*), the same on every peer for one seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn sum_i64(c: &mut Communicator, v: i64) -> i64 {
    let mut b = v.to_le_bytes();
    c.allreduce_in_place(&mut b, Datatype::Int64, &ReduceOp::builtin(BuiltinOp::Sum))
        .unwrap();
    i64::from_le_bytes(b)
}

/// Every rank's parent rank, gathered on `sub` (checks that the ranks of `sub` are the processes
/// the reference says).
fn parents_of(sub: &mut Communicator, parent_rank: usize) -> Vec<usize> {
    let mut all = vec![0u8; 4 * sub.size()];
    sub.allgather(&(parent_rank as u32).to_le_bytes(), &mut all)
        .unwrap();
    all.chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as usize)
        .collect()
}

/// The members of `color`'s communicator in rank order: by key, then parent rank.
fn reference(colors: &[i32], keys: &[i32], color: i32) -> Vec<usize> {
    let mut m: Vec<usize> = (0..colors.len()).filter(|&r| colors[r] == color).collect();
    m.sort_by_key(|&r| (keys[r], r));
    m
}

#[test]
fn split_with_random_colors_and_keys_matches_the_reference() {
    for n in [4usize, 6] {
        common::run_peers(n, |c| {
            let me = c.rank();
            for trial in 0..6u64 {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (trial * 1000 + n as u64));
                let colors: Vec<i32> = (0..n)
                    .map(|_| match rng.below(4) {
                        3 => UNDEFINED,
                        x => x as i32,
                    })
                    .collect();
                // Keys with ties (broken by the parent rank) and negative values.
                let keys: Vec<i32> = (0..n).map(|_| rng.below(5) as i32 - 2).collect();
                let sub = c.split(colors[me], keys[me]).unwrap();
                match sub {
                    None => assert_eq!(colors[me], UNDEFINED),
                    Some(mut s) => {
                        let want = reference(&colors, &keys, colors[me]);
                        assert_eq!(s.size(), want.len());
                        assert_eq!(want[s.rank()], me);
                        assert_eq!(parents_of(&mut s, me), want, "trial {trial}");
                        assert_ne!(s.context_id(), c.context_id());
                        // The group of the new communicator, seen from the parent's.
                        let ranks: Vec<usize> = (0..s.size()).collect();
                        let t = s.group().translate_ranks(&ranks, &c.group()).unwrap();
                        assert_eq!(t, want.iter().map(|&r| Some(r)).collect::<Vec<_>>());
                        let total = sum_i64(&mut s, me as i64 + 1);
                        assert_eq!(total, want.iter().map(|&r| r as i64 + 1).sum::<i64>());
                        s.free().unwrap();
                    }
                }
            }
            // The parent still works after its children were freed.
            assert_eq!(sum_i64(c, 1), n as i64);
        });
    }
}

#[test]
fn dup_isolates_messages_with_the_same_tags() {
    common::run_peers(3, |c| {
        let mut d = c.dup().unwrap();
        assert_eq!((d.rank(), d.size()), (c.rank(), c.size()));
        assert_ne!(d.context_id(), c.context_id());
        let me = c.rank();
        if me == 0 {
            // The same tags and destinations on both, the dup's first.
            for tag in [5u32, 6] {
                d.send_tagged(b"dup", 1, tag).unwrap();
                c.send_tagged(b"parent", 1, tag).unwrap();
            }
            d.send(b"plain-dup", 2).unwrap();
            c.send(b"plain-par", 2).unwrap();
        } else if me == 1 {
            let mut buf = [0u8; 16];
            // The parent's message is not overtaken by the dup's, which arrived first.
            for tag in [5u32, 6] {
                let st = c.recv_tagged(&mut buf, Source::Any, TagSel::Any).unwrap();
                assert_eq!(
                    (&buf[..st.bytes], st.source, st.tag),
                    (&b"parent"[..], 0, tag)
                );
            }
            assert_eq!(c.iprobe(Source::Any, TagSel::Any).unwrap(), None);
            for tag in [5u32, 6] {
                let st = d
                    .recv_tagged(&mut buf, Source::Rank(0), TagSel::Tag(tag))
                    .unwrap();
                assert_eq!(&buf[..st.bytes], b"dup");
            }
        } else {
            let mut b = [0u8; 9];
            c.recv(&mut b, 0).unwrap();
            assert_eq!(&b, b"plain-par");
            d.recv(&mut b, 0).unwrap();
            assert_eq!(&b, b"plain-dup");
        }
        // Collectives alternate on both, with the same call numbers.
        for i in 0..5i64 {
            assert_eq!(sum_i64(c, i), 3 * i);
            assert_eq!(sum_i64(&mut d, i + 1), 3 * (i + 1));
        }
        d.free().unwrap();
    });
}

#[test]
fn collectives_on_sub_communicators() {
    common::run_peers(6, |c| {
        let me = c.rank();
        // Even and odd ranks, each in reverse order.
        let mut s = c.split((me % 2) as i32, -(me as i32)).unwrap().unwrap();
        let members: Vec<usize> = (0..6).rev().filter(|r| r % 2 == me % 2).collect();
        assert_eq!(members[s.rank()], me);
        let (r, n) = (s.rank(), s.size());
        assert_eq!(n, 3);

        let mut b = [0u8; 8];
        if r == 1 {
            b = (me as u64 * 100).to_le_bytes();
        }
        s.bcast(&mut b, 1).unwrap();
        assert_eq!(u64::from_le_bytes(b), members[1] as u64 * 100);

        let mut all = vec![0u8; 8 * n];
        let recv = if r == 2 { Some(&mut all[..]) } else { None };
        s.gather(&(me as u64).to_le_bytes(), recv, 2).unwrap();
        if r == 2 {
            let got: Vec<usize> = all
                .chunks(8)
                .map(|x| u64::from_le_bytes(x.try_into().unwrap()) as usize)
                .collect();
            assert_eq!(got, members);
        }

        let mut scan = [0u8; 8];
        s.scan(
            &(me as i64).to_le_bytes(),
            &mut scan,
            Datatype::Int64,
            &ReduceOp::builtin(BuiltinOp::Sum),
        )
        .unwrap();
        let want: i64 = members[..=r].iter().map(|&m| m as i64).sum();
        assert_eq!(i64::from_le_bytes(scan), want);

        // A large allreduce (the ring: several transfers per exchange) and an alltoall.
        let len = 1 << 18;
        let mine: Vec<f64> = (0..len).map(|i| (i % 97) as f64 + me as f64).collect();
        let send: Vec<u8> = mine.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut out = vec![0u8; send.len()];
        s.allreduce(
            &send,
            &mut out,
            Datatype::Double,
            &ReduceOp::builtin(BuiltinOp::Sum),
        )
        .unwrap();
        let msum: f64 = members.iter().map(|&m| m as f64).sum();
        for (i, x) in out.chunks(8).enumerate().step_by(4099) {
            let v = f64::from_le_bytes(x.try_into().unwrap());
            assert_eq!(v, 3.0 * (i % 97) as f64 + msum);
        }
        let a2a: Vec<u8> = (0..n).map(|j| (me * 10 + j) as u8).collect();
        let mut got = vec![0u8; n];
        s.alltoall(&a2a, &mut got).unwrap();
        let want: Vec<u8> = (0..n).map(|i| (members[i] * 10 + r) as u8).collect();
        assert_eq!(got, want);
        s.barrier().unwrap();

        // A split of the split, then a ring of tagged send-receives in it.
        let mut t = s.split(0, 0).unwrap().unwrap();
        let k = t.size();
        let mut buf = [0u8; 8];
        let st = t
            .sendrecv(
                &(me as u64).to_le_bytes(),
                (t.rank() + 1) % k,
                3,
                &mut buf,
                Source::Rank((t.rank() + k - 1) % k),
                TagSel::Tag(3),
            )
            .unwrap();
        assert_eq!(st.source, (t.rank() + k - 1) % k);
        assert_eq!(u64::from_le_bytes(buf) as usize, members[(r + n - 1) % n]);
        t.free().unwrap();
        // Counters are per communicator: the parent ran none of these.
        assert!(s.counters(None).unwrap().operations >= 6);
        assert_eq!(c.counters(None).unwrap().operations, 0);
        s.free().unwrap();
    });
}

#[test]
fn create_group_of_a_subset_and_of_its_complement_at_once() {
    common::run_peers(5, |c| {
        let me = c.rank();
        let world = c.group();
        assert_eq!((world.size(), world.rank()), (5, Some(me)));
        let g = world.incl(&[4, 1, 3]).unwrap();
        let h = world.excl(&[4, 1, 3]).unwrap();
        // Disjoint groups, the same tag, concurrently.
        let (mine, order): (&Group, Vec<usize>) = if g.rank().is_some() {
            (&g, vec![4, 1, 3])
        } else {
            (&h, vec![0, 2])
        };
        let mut s = c.create_group(mine, 7).unwrap();
        assert_eq!(s.size(), order.len());
        assert_eq!(order[s.rank()], me);
        assert_eq!(parents_of(&mut s, me), order);
        assert_eq!(
            sum_i64(&mut s, me as i64),
            order.iter().map(|&r| r as i64).sum::<i64>()
        );
        // Non-members of a group may not call it.
        let other = if std::ptr::eq(mine, &g) { &h } else { &g };
        let e = c.create_group(other, 8).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArg, "{e}");
        assert!(e.message().contains("not a member of the group"), "{e}");
        // A group of the new communicator's group, created on the new communicator.
        if s.size() == 3 {
            let sg = s.group().incl(&[2, 0]).unwrap();
            if let Some(_r) = sg.rank() {
                let mut t = s.create_group(&sg, 0).unwrap();
                assert_eq!(parents_of(&mut t, me), vec![3, 4]);
                t.free().unwrap();
            }
        }
        s.free().unwrap();
    });
}

#[test]
fn group_operations_against_a_reference() {
    common::run_peers(2, |c| {
        let w = c.group();
        let mut rng = Rng(77);
        let mut all: Vec<usize> = (0..2).collect();
        let mut g = w.clone();
        // Random chains of incl and excl on the world group of two (permutations and subsets).
        for _ in 0..50 {
            let mut pick: Vec<usize> = (0..g.size()).collect();
            for i in (1..pick.len()).rev() {
                pick.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let k = rng.below(pick.len() as u64 + 1) as usize;
            pick.truncate(k);
            if rng.below(2) == 0 {
                g = g.incl(&pick).unwrap();
                all = pick.iter().map(|&i| all[i]).collect();
            } else {
                g = g.excl(&pick).unwrap();
                all = (0..all.len())
                    .filter(|i| !pick.contains(i))
                    .map(|i| all[i])
                    .collect();
            }
            assert_eq!(g.size(), all.len());
            assert_eq!(g.rank(), all.iter().position(|&m| m == c.rank()));
            let ranks: Vec<usize> = (0..g.size()).collect();
            let t = g.translate_ranks(&ranks, &w).unwrap();
            assert_eq!(t, all.iter().map(|&m| Some(m)).collect::<Vec<_>>());
            if g.size() == 0 {
                g = w.clone();
                all = vec![0, 1];
            }
        }
        // Bad ranks.
        assert_eq!(w.incl(&[2]).unwrap_err().kind(), ErrorKind::InvalidArg);
        assert_eq!(w.incl(&[1, 1]).unwrap_err().kind(), ErrorKind::InvalidArg);
        assert_eq!(w.excl(&[5]).unwrap_err().kind(), ErrorKind::InvalidArg);
        assert_eq!(
            w.translate_ranks(&[2], &w).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
    });
}

#[test]
fn bad_input_is_an_error_on_every_peer() {
    common::run_peers(3, |c| {
        // A negative color other than UNDEFINED on one rank: every rank gets InvalidArg.
        let color = if c.rank() == 1 { -5 } else { 0 };
        let e = c.split(color, 0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArg, "{e}");
        assert!(e.message().contains("rank 1 passed color -5"), "{e}");
        // The communicator is still usable.
        let mut s = c.split(0, 0).unwrap().unwrap();
        // Ranks of the sub-communicator are checked against its size.
        let mut one = c.split(c.rank() as i32, 0).unwrap().unwrap();
        assert_eq!(one.size(), 1);
        assert_eq!(one.send(b"x", 1).unwrap_err().kind(), ErrorKind::InvalidArg);
        let mut b = [0u8; 8];
        one.allreduce_in_place(&mut b, Datatype::Int64, &ReduceOp::builtin(BuiltinOp::Sum))
            .unwrap();
        one.free().unwrap();
        // Tags out of range, and groups with members outside the communicator.
        let g = c.group();
        assert_eq!(
            c.create_group(&g, u32::MAX).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        // Ranks 0 and 1 in one communicator, rank 2 alone: the group of `c` has members
        // outside either.
        let mut pair = c.split((c.rank() == 2) as i32, 0).unwrap().unwrap();
        let e = pair.create_group(&g, 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArg, "{e}");
        assert!(
            e.message().contains("not a member of this communicator"),
            "{e}"
        );
        pair.free().unwrap();
        // A message sent on a communicator and never received: free reports it.
        if c.rank() == 0 {
            s.send_tagged(b"lost", 1, 4).unwrap();
        }
        let r = s.free();
        if c.rank() == 1 {
            let e = r.unwrap_err();
            assert!(e.message().contains("never received"), "{e}");
        } else {
            r.unwrap();
        }
    });
}

#[test]
fn context_ids_are_reused_after_free() {
    // More communicators than there are context ids, created and freed one after the other.
    common::run_peers(2, |c| {
        c.set_timeout(Duration::from_secs(60)).unwrap();
        let mut max = 0;
        for i in 0..2100 {
            let mut d = c.dup().unwrap();
            max = max.max(d.context_id());
            if i % 500 == 0 {
                assert_eq!(sum_i64(&mut d, 1), 2);
            }
            d.free().unwrap();
        }
        assert_eq!(max, 1);
        // Without free, ids run out after 2047 live communicators, with a clear error.
        let mut live = Vec::new();
        let e = loop {
            match c.dup() {
                Ok(d) => live.push(d),
                Err(e) => break e,
            }
        };
        assert_eq!(live.len(), 2047);
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        for d in live {
            d.free().unwrap();
        }
        c.dup().unwrap().free().unwrap();
    });
}

#[test]
fn children_outlive_the_parent_finalize() {
    let server = common::start_server();
    let cfg = common::config_for(&server);
    let name = common::unique_name("outlive");
    std::thread::scope(|s| {
        for rank in 0..3u32 {
            let cfg = cfg.clone();
            let name = &name;
            s.spawn(move || {
                let mut c = Communicator::new(rank, 3, cfg, name, 128).unwrap();
                let mut d = c.split(0, -(rank as i32)).unwrap().unwrap();
                c.finalize().unwrap();
                assert_eq!(sum_i64(&mut d, rank as i64), 3);
                let mut e = d.dup().unwrap();
                d.free().unwrap();
                let mut b = [0u8; 4];
                if e.rank() == 0 {
                    b = *b"root";
                }
                e.bcast(&mut b, 0).unwrap();
                assert_eq!(&b, b"root");
                e.free().unwrap();
            });
        }
    });
}

#[test]
fn nonblocking_requests_on_a_sub_communicator_report_its_ranks() {
    common::run_peers(4, |c| {
        let me = c.rank();
        // {3, 1} (in that order) and {2, 0}.
        let mut s = c.split((me % 2) as i32, -(me as i32)).unwrap().unwrap();
        let other = 1 - s.rank();
        let mut r = s.irecv(8, Source::Any, TagSel::Any).unwrap();
        // The same tag on the parent, to the same process: must not match the sub's receive.
        let parent_peer = if me % 2 == 0 { 2 - me } else { 4 - me };
        c.send_tagged(&[9u8; 3], parent_peer, 1).unwrap();
        let mut w = s
            .isend((me as u64).to_le_bytes().to_vec(), other, 1)
            .unwrap();
        let st = r.wait().unwrap();
        assert_eq!((st.source, st.tag, st.bytes), (other, 1, 8));
        let got = u64::from_le_bytes(r.take_buffer().unwrap().try_into().unwrap());
        assert_eq!(got as usize, parent_peer);
        assert_eq!(w.wait().unwrap().source, other);
        let mut b = [0u8; 3];
        let st = c.recv_tagged(&mut b, Source::Any, TagSel::Any).unwrap();
        assert_eq!((st.source, b), (parent_peer, [9u8; 3]));
        s.free().unwrap();
    });
}
