//! Communicators derived from the one made by init, on the Redis channel (a real redis-server):
//! collectives on a split communicator and on one made by create_group, send/recv on a dup,
//! concurrent disjoint communicators with the same context id, and nothing left on the server.

mod redis_harness;

use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp, UNDEFINED};
use redis_harness::{run_peers, RedisServer};

fn sum_i64(c: &mut Communicator, v: i64) -> i64 {
    let mut b = v.to_le_bytes();
    c.allreduce_in_place(&mut b, Datatype::Int64, &ReduceOp::builtin(BuiltinOp::Sum))
        .unwrap();
    i64::from_le_bytes(b)
}

#[test]
fn collectives_on_split_and_group_communicators() {
    let server = RedisServer::start();
    let cfg = server.config();
    run_peers(&cfg, 3, |c| {
        assert_eq!(c.channel(), "redis");
        let me = c.rank();
        // {0, 2} in reverse order, {1} alone: the same context id on disjoint communicators
        // that run their collectives at the same time, each in its own keys.
        let mut s = c.split((me % 2) as i32, -(me as i32)).unwrap().unwrap();
        let members: Vec<usize> = if me % 2 == 0 { vec![2, 0] } else { vec![1] };
        assert_eq!(members[s.rank()], me);
        for i in 0..3 {
            assert_eq!(
                sum_i64(&mut s, me as i64 + i),
                members.iter().map(|&m| m as i64 + i).sum::<i64>()
            );
        }
        let mut b = [0u8; 5];
        if s.rank() == 0 {
            b = *b"hello";
            b[0] = b'0' + me as u8;
        }
        s.bcast(&mut b, 0).unwrap();
        assert_eq!(b[0], b'0' + members[0] as u8);
        let mut all = vec![0u8; 4 * s.size()];
        let recv = if s.rank() == 0 {
            Some(&mut all[..])
        } else {
            None
        };
        s.gather(&(me as u32).to_le_bytes(), recv, 0).unwrap();
        if s.rank() == 0 {
            let got: Vec<usize> = all
                .chunks(4)
                .map(|x| u32::from_le_bytes(x.try_into().unwrap()) as usize)
                .collect();
            assert_eq!(got, members);
        }
        s.barrier().unwrap();

        // Send/recv on a dup of the parent while the split is alive.
        let mut d = c.dup().unwrap();
        let mut got = [0u8; 4];
        d.send(&(me as u32).to_le_bytes(), (me + 1) % 3).unwrap();
        d.recv(&mut got, (me + 2) % 3).unwrap();
        assert_eq!(u32::from_le_bytes(got) as usize, (me + 2) % 3);

        // create_group of {1, 2}; rank 0 splits itself out meanwhile.
        let g = c.group().incl(&[1, 2]).unwrap();
        if g.rank().is_some() {
            let mut h = c.create_group(&g, 3).unwrap();
            assert_eq!(sum_i64(&mut h, me as i64), 3);
            h.free().unwrap();
        }
        assert!(c.split(UNDEFINED, 0).unwrap().is_none());
        d.free().unwrap();
        s.free().unwrap();
        assert_eq!(sum_i64(c, 1), 3);
    });
    assert!(
        server.scan("fmi:*").is_empty(),
        "{:?}",
        server.scan("fmi:*")
    );
}
