//! Reference data and sequential results shared by the collective matrices (direct and Redis):
//! deterministic contributions, the left fold they must reduce to, and order-sensitive user ops.
#![allow(dead_code)]

use fmi::{BuiltinOp, Datatype, ReduceOp};
use std::sync::Arc;

/// Element i of rank r's contribution in test `seed`, as a small integer 0..=2 (exact in floats).
pub fn value(r: usize, i: usize, seed: usize) -> u8 {
    ((r * 7 + i * 3 + seed) % 3) as u8
}

pub fn encode(t: Datatype, v: u8, out: &mut Vec<u8>) {
    match t {
        Datatype::Int8 => out.extend_from_slice(&(v as i8).to_ne_bytes()),
        Datatype::UInt8 | Datatype::Byte => out.push(v),
        Datatype::Int16 => out.extend_from_slice(&(v as i16).to_ne_bytes()),
        Datatype::UInt16 => out.extend_from_slice(&(v as u16).to_ne_bytes()),
        Datatype::Int32 => out.extend_from_slice(&(v as i32).to_ne_bytes()),
        Datatype::UInt32 => out.extend_from_slice(&(v as u32).to_ne_bytes()),
        Datatype::Int64 => out.extend_from_slice(&(v as i64).to_ne_bytes()),
        Datatype::UInt64 => out.extend_from_slice(&(v as u64).to_ne_bytes()),
        Datatype::Float => out.extend_from_slice(&(v as f32).to_ne_bytes()),
        Datatype::Double => out.extend_from_slice(&(v as f64).to_ne_bytes()),
        Datatype::Opaque(_) => panic!("opaque elements have no reference encoding"),
    }
}

pub fn contribution(t: Datatype, r: usize, count: usize, seed: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(count * t.size());
    for i in 0..count {
        encode(t, value(r, i, seed), &mut v);
    }
    v
}

/// Bytes for untyped collectives: distinct per rank and position.
pub fn pattern(r: usize, len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + r * 17 + seed) % 251) as u8)
        .collect()
}

/// Sequential reference: left fold of ranks 0..=upto.
pub fn fold(t: Datatype, op: &ReduceOp, upto: usize, count: usize, seed: usize) -> Vec<u8> {
    let mut acc = contribution(t, 0, count, seed);
    for r in 1..=upto {
        op.apply(&mut acc, &contribution(t, r, count, seed), t);
    }
    acc
}

pub fn builtin_cases() -> Vec<(Datatype, BuiltinOp)> {
    let mut v = Vec::new();
    for t in Datatype::ALL {
        for op in BuiltinOp::ALL {
            if op.supports(t) {
                v.push((t, op));
            }
        }
    }
    v
}

/// 2x2 integer matrix product (row-major, 4 i64 per matrix): associative, not commutative.
pub fn matmul_op() -> ReduceOp {
    ReduceOp::user(
        Arc::new(|acc: &mut [u8], next: &[u8], count: usize, t: Datatype| {
            assert_eq!(t, Datatype::Int64);
            assert_eq!(count % 4, 0);
            let rd =
                |b: &[u8], k: usize| i64::from_ne_bytes(b[k * 8..k * 8 + 8].try_into().unwrap());
            for m in 0..count / 4 {
                let a = &acc[m * 32..m * 32 + 32];
                let b = &next[m * 32..m * 32 + 32];
                let (a0, a1, a2, a3) = (rd(a, 0), rd(a, 1), rd(a, 2), rd(a, 3));
                let (b0, b1, b2, b3) = (rd(b, 0), rd(b, 1), rd(b, 2), rd(b, 3));
                let c = [
                    a0.wrapping_mul(b0).wrapping_add(a1.wrapping_mul(b2)),
                    a0.wrapping_mul(b1).wrapping_add(a1.wrapping_mul(b3)),
                    a2.wrapping_mul(b0).wrapping_add(a3.wrapping_mul(b2)),
                    a2.wrapping_mul(b1).wrapping_add(a3.wrapping_mul(b3)),
                ];
                for (k, x) in c.iter().enumerate() {
                    acc[m * 32 + k * 8..m * 32 + k * 8 + 8].copy_from_slice(&x.to_ne_bytes());
                }
            }
        }),
        false,
        true,
    )
}

/// a - b: neither commutative nor associative.
pub fn sub_op() -> ReduceOp {
    ReduceOp::user(
        Arc::new(|acc: &mut [u8], next: &[u8], _count: usize, _t: Datatype| {
            for (a, b) in acc.chunks_exact_mut(8).zip(next.chunks_exact(8)) {
                let x = i64::from_ne_bytes((&*a).try_into().unwrap())
                    - i64::from_ne_bytes(b.try_into().unwrap());
                a.copy_from_slice(&x.to_ne_bytes());
            }
        }),
        false,
        false,
    )
}

/// Matrices that do not commute: [[1, r+1], [r % 3, 1]].
pub fn matrices(r: usize, k: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for m in 0..k {
        for x in [1i64, (r + 1 + m) as i64, (r % 3) as i64, 1] {
            v.extend_from_slice(&x.to_ne_bytes());
        }
    }
    v
}
