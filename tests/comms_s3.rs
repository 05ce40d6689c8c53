//! Communicators derived from the one made by init, on the S3 channel (a real moto_server):
//! collectives on a split communicator and on one made by create_group, disjoint communicators
//! with one context id, and no object left behind.

mod s3_harness;

use fmi::{BuiltinOp, Communicator, Datatype, ReduceOp};
use s3_harness::{run_peers, S3Server};

fn sum_i64(c: &mut Communicator, v: i64) -> i64 {
    let mut b = v.to_le_bytes();
    c.allreduce_in_place(&mut b, Datatype::Int64, &ReduceOp::builtin(BuiltinOp::Sum))
        .unwrap();
    i64::from_le_bytes(b)
}

#[test]
fn collectives_on_split_and_group_communicators() {
    let server = S3Server::start();
    run_peers(&server.config(), 3, |c| {
        assert_eq!(c.channel_names(), vec!["s3"]);
        let me = c.rank();
        // {0, 2} in reverse order and {1}: the same context id, disjoint key namespaces.
        let mut s = c.split((me % 2) as i32, -(me as i32)).unwrap().unwrap();
        let members: Vec<usize> = if me % 2 == 0 { vec![2, 0] } else { vec![1] };
        assert_eq!(members[s.rank()], me);
        assert_eq!(
            sum_i64(&mut s, me as i64),
            members.iter().sum::<usize>() as i64
        );
        let mut b = [0u8; 4];
        if s.rank() == 0 {
            b = (me as u32).to_le_bytes();
        }
        s.bcast(&mut b, 0).unwrap();
        assert_eq!(u32::from_le_bytes(b) as usize, members[0]);
        s.barrier().unwrap();
        let g = c.group().incl(&[1, 2]).unwrap();
        if g.rank().is_some() {
            let mut h = c.create_group(&g, 3).unwrap();
            assert_eq!(sum_i64(&mut h, me as i64), 3);
            let mut got = [0u8; 1];
            h.send(&[me as u8], 1 - h.rank()).unwrap();
            h.recv(&mut got, 1 - h.rank()).unwrap();
            assert_eq!(got[0] as usize, 3 - me);
            h.free().unwrap();
        }
        s.free().unwrap();
        assert_eq!(sum_i64(c, 1), 3);
    });
    assert!(server.keys("fmi").is_empty(), "{:?}", server.keys("fmi"));
}
