use super::*;

fn named(n: Named) -> Arc<Type> {
    Type::named(n)
}

fn bytes<T: Copy>(v: &[T]) -> Vec<u8> {
    // SAFETY: plain-old-data values viewed as bytes.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
        .to_vec()
}

fn run(op: Op, n: Named, input: &[u8], inout: &[u8]) -> Vec<u8> {
    op.check(&named(n)).unwrap();
    let mut out = inout.to_vec();
    op.apply(n, input, &mut out);
    out
}

#[test]
fn the_table_of_operators_and_types() {
    let err = |op: Op, n: Named| op.check(&named(n)).unwrap_err().class;
    assert_eq!(err(Op::Band, Named::Float), Class::Op);
    assert_eq!(err(Op::Sum, Named::Char), Class::Op);
    assert_eq!(err(Op::Max, Named::CDoubleComplex), Class::Op);
    assert_eq!(err(Op::Maxloc, Named::Double), Class::Op);
    assert_eq!(err(Op::Land, Named::Double), Class::Op);
    assert_eq!(err(Op::Land, Named::Integer), Class::Op);
    assert_eq!(err(Op::Sum, Named::Byte), Class::Op);
    assert_eq!(err(Op::Sum, Named::Real16), Class::Unsupported);
    for (op, n) in [
        (Op::Lxor, Named::CBool),
        (Op::Land, Named::Logical),
        (Op::Bxor, Named::Byte),
        (Op::Band, Named::Integer),
        (Op::Sum, Named::CFloatComplex),
        (Op::Prod, Named::Aint),
        (Op::Maxloc, Named::DoubleInt),
        (Op::Minloc, Named::TwoDoublePrecision),
        (Op::Replace, Named::Char),
        (Op::Max, Named::Real2),
    ] {
        assert_eq!(op.check(&named(n)).unwrap(), n, "{op:?} {n:?}");
    }
    // Every operator on every predefined type: defined (and then it runs) or refused.
    for &n in Named::ALL {
        for op in Op::ALL {
            if op.check(&named(n)).is_ok() {
                let a = vec![1u8; n.size() * 3];
                let mut b = vec![1u8; n.size() * 3];
                op.apply(n, &a, &mut b);
            }
        }
    }
    // A struct of an int and a double mixes types: no predefined operator reduces it.
    let s = Type::create_struct(
        &[1, 1],
        &[0, 8],
        &[named(Named::Int), named(Named::Double)],
        false,
    )
    .unwrap();
    s.commit();
    assert_eq!(Op::Sum.check(&s).unwrap_err().class, Class::Op);
    // A vector of doubles is doubles.
    let v = Type::vector(2, 1, 3, &named(Named::Double), false).unwrap();
    v.commit();
    assert_eq!(Op::Sum.check(&v).unwrap(), Named::Double);
}

#[test]
fn arithmetic_logical_and_bitwise_kernels() {
    let i = |v: &[i32]| bytes(v);
    assert_eq!(
        run(Op::Sum, Named::Int, &i(&[1, -5]), &i(&[2, 7])),
        i(&[3, 2])
    );
    assert_eq!(
        run(Op::Prod, Named::Int, &i(&[i32::MAX, 3]), &i(&[2, 4])),
        i(&[-2, 12])
    );
    assert_eq!(
        run(Op::Max, Named::Int, &i(&[1, 9]), &i(&[2, 7])),
        i(&[2, 9])
    );
    assert_eq!(
        run(Op::Min, Named::Int, &i(&[1, 9]), &i(&[2, 7])),
        i(&[1, 7])
    );
    assert_eq!(
        run(Op::Land, Named::Int, &i(&[0, 5, 3]), &i(&[2, 7, 0])),
        i(&[0, 1, 0])
    );
    assert_eq!(
        run(Op::Lor, Named::Int, &i(&[0, 0, 3]), &i(&[0, 7, 0])),
        i(&[0, 1, 1])
    );
    assert_eq!(
        run(Op::Lxor, Named::Int, &i(&[0, 4, 3]), &i(&[0, 7, 0])),
        i(&[0, 0, 1])
    );
    assert_eq!(
        run(Op::Bxor, Named::Byte, &[0xf0, 0x0f], &[0xff, 0xff]),
        vec![0x0f, 0xf0]
    );
    assert_eq!(
        run(Op::Lxor, Named::CBool, &[1, 1, 0], &[1, 0, 0]),
        vec![0, 1, 0]
    );
    let d = |v: &[f64]| bytes(v);
    assert_eq!(
        run(Op::Max, Named::Double, &d(&[1.5, -2.0]), &d(&[0.5, -1.0])),
        d(&[1.5, -1.0])
    );
    assert_eq!(
        run(
            Op::Sum,
            Named::Integer16,
            &bytes(&[1i128 << 100]),
            &bytes(&[1i128])
        ),
        bytes(&[(1i128 << 100) + 1])
    );
    let h = |v: &[f32]| -> Vec<u8> {
        v.iter()
            .flat_map(|x| half::f16::from_f32(*x).to_ne_bytes())
            .collect()
    };
    assert_eq!(
        run(Op::Sum, Named::Real2, &h(&[1.5, 2.0]), &h(&[0.25, -3.0])),
        h(&[1.75, -1.0])
    );
    assert_eq!(run(Op::Replace, Named::Char, b"ab", b"cd"), b"ab".to_vec());
    assert_eq!(run(Op::NoOp, Named::Char, b"ab", b"cd"), b"cd".to_vec());
}

#[test]
fn complex_products() {
    // (1+2i)(3-1i) = 5+5i; (0+1i)(0+1i) = -1
    let c = |v: &[f32]| bytes(v);
    assert_eq!(
        run(
            Op::Prod,
            Named::CFloatComplex,
            &c(&[1.0, 2.0, 0.0, 1.0]),
            &c(&[3.0, -1.0, 0.0, 1.0])
        ),
        c(&[5.0, 5.0, -1.0, 0.0])
    );
    let d = |v: &[f64]| bytes(v);
    assert_eq!(
        run(
            Op::Sum,
            Named::DoubleComplex,
            &d(&[1.0, 2.0]),
            &d(&[0.5, 0.25])
        ),
        d(&[1.5, 2.25])
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn long_double_kernels() {
    use longdouble::Ld;
    let ld = |v: &[f64]| -> Vec<u8> {
        v.iter()
            .flat_map(|x| {
                let mut b = [0u8; 16];
                Ld::from_f64(*x).write(&mut b);
                b
            })
            .collect()
    };
    assert_eq!(
        run(
            Op::Sum,
            Named::LongDouble,
            &ld(&[1.5, 2.0]),
            &ld(&[2.25, -8.0])
        ),
        ld(&[3.75, -6.0])
    );
    assert_eq!(
        run(
            Op::Max,
            Named::LongDouble,
            &ld(&[1.5, 2.0]),
            &ld(&[2.25, -8.0])
        ),
        ld(&[2.25, 2.0])
    );
    // (1+1i)(1-1i) = 2
    assert_eq!(
        run(
            Op::Prod,
            Named::CLongDoubleComplex,
            &ld(&[1.0, 1.0]),
            &ld(&[1.0, -1.0])
        ),
        ld(&[2.0, 0.0])
    );
    // MAXLOC on long double pairs (packed: 16 bytes of value, 4 of index).
    let pair = |v: f64, i: i32| {
        let mut p = ld(&[v]);
        p.extend_from_slice(&i.to_ne_bytes());
        p
    };
    assert_eq!(
        run(
            Op::Maxloc,
            Named::LongDoubleInt,
            &pair(3.0, 7),
            &pair(3.0, 2)
        ),
        pair(3.0, 2)
    );
    assert_eq!(
        run(
            Op::Minloc,
            Named::LongDoubleInt,
            &pair(-1.0, 7),
            &pair(3.0, 2)
        ),
        pair(-1.0, 7)
    );
}

/// Packed (value, index) pairs of MPI_DOUBLE_INT: 8 + 4 bytes.
fn di(v: &[(f64, i32)]) -> Vec<u8> {
    v.iter()
        .flat_map(|(x, i)| {
            let mut b = x.to_ne_bytes().to_vec();
            b.extend_from_slice(&i.to_ne_bytes());
            b
        })
        .collect()
}

#[test]
fn maxloc_minloc_take_the_lower_index_on_ties() {
    let a = di(&[(1.0, 5), (4.0, 1), (2.0, 9), (2.0, 3)]);
    let b = di(&[(3.0, 2), (4.0, 0), (1.0, 0), (2.0, 8)]);
    assert_eq!(
        run(Op::Maxloc, Named::DoubleInt, &a, &b),
        di(&[(3.0, 2), (4.0, 0), (2.0, 9), (2.0, 3)])
    );
    assert_eq!(
        run(Op::Minloc, Named::DoubleInt, &a, &b),
        di(&[(1.0, 5), (4.0, 0), (1.0, 0), (2.0, 3)])
    );
    let si = |v: &[(i16, i32)]| -> Vec<u8> {
        v.iter()
            .flat_map(|(x, i)| {
                let mut b = x.to_ne_bytes().to_vec();
                b.extend_from_slice(&i.to_ne_bytes());
                b
            })
            .collect()
    };
    assert_eq!(
        run(Op::Maxloc, Named::ShortInt, &si(&[(7, 4)]), &si(&[(7, 1)])),
        si(&[(7, 1)])
    );
    assert_eq!(
        run(
            Op::Maxloc,
            Named::ShortInt,
            &si(&[(-7, 4)]),
            &si(&[(-9, 1)])
        ),
        si(&[(-7, 4)])
    );
}

#[test]
fn core_operators_reduce_packed_values() {
    // The core's own kernel where it has one.
    let int = named(Named::Int);
    let (d, op) = Operator::Predefined(Op::Sum).core(&int).unwrap();
    assert_eq!(d, fmi::Datatype::Int32);
    let mut acc = bytes(&[1i32, 2]);
    op.apply(&mut acc, &bytes(&[10i32, 20]), d);
    assert_eq!(acc, bytes(&[11i32, 22]));
    // Pairs: opaque 12-byte elements reduced by the kernels.
    let (d, op) = Operator::Predefined(Op::Maxloc)
        .core(&named(Named::DoubleInt))
        .unwrap();
    assert_eq!(d.size(), 12);
    let mut acc = di(&[(1.0, 0), (5.0, 0)]);
    op.apply(&mut acc, &di(&[(2.0, 1), (5.0, 1)]), d);
    assert_eq!(acc, di(&[(2.0, 1), (5.0, 0)]));
    // LXOR is not in the core: opaque elements of 4 bytes.
    let (d, _) = Operator::Predefined(Op::Lxor).core(&int).unwrap();
    assert_eq!(d, fmi::Datatype::opaque(4).unwrap());
    // An uncommitted type is refused.
    let v = Type::vector(2, 1, 2, &int, false).unwrap();
    assert_eq!(
        Operator::Predefined(Op::Sum).core(&v).unwrap_err().class,
        Class::Type
    );
}

/// A user function on ints: inout[i] = 10 * in[i] + inout[i] (not commutative).
fn ten_x_plus_y(calls: Arc<std::sync::atomic::AtomicU64>, stride: usize, max_count: u64) -> UserFn {
    UserFn {
        f: Arc::new(move |input: *mut u8, inout: *mut u8, n: u64| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for k in 0..n as usize {
                // SAFETY: the engine passes n elements of the datatype in its layout.
                unsafe {
                    let a = (input.add(k * stride) as *const i32).read_unaligned();
                    let p = inout.add(k * stride) as *mut i32;
                    p.write_unaligned(10 * a + p.read_unaligned());
                }
            }
        }),
        max_count,
    }
}

#[test]
fn user_operators_keep_the_order_and_see_their_layout() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let calls = Arc::new(AtomicU64::new(0));
    // A dense int: acc = acc op next = 10 * acc + next.
    let int = named(Named::Int);
    let user = Operator::User {
        f: ten_x_plus_y(calls.clone(), 4, 2),
        commute: false,
    };
    let (d, op) = user.core(&int).unwrap();
    assert!(op.ordered());
    let mut acc = bytes(&[1i32, 2, 3]);
    op.apply(&mut acc, &bytes(&[4i32, 5, 6]), d);
    assert_eq!(acc, bytes(&[14i32, 25, 36]));
    assert_eq!(
        calls.load(Ordering::Relaxed),
        2,
        "three elements in calls of at most two"
    );
    // An int with an extent of 12 (holes): the user function sees elements 12 bytes apart.
    let holey = Type::resized(&int, 0, 12, false).unwrap();
    holey.commit();
    let user = Operator::User {
        f: ten_x_plus_y(calls.clone(), 12, 100),
        commute: false,
    };
    let (d, op) = user.core(&holey).unwrap();
    assert_eq!(d.size(), 4);
    let mut acc = bytes(&[1i32, 2]);
    op.apply(&mut acc, &bytes(&[7i32, 8]), d);
    assert_eq!(acc, bytes(&[17i32, 28]));
    // Reduce_local works in the user's layout: inout = in op inout.
    let input = [1i32, 0, 0, 2, 0, 0];
    let mut inout = [5i32, -1, -1, 6, -1, -1];
    unsafe {
        user.reduce_local(
            &holey,
            input.as_ptr() as *const u8,
            inout.as_mut_ptr() as *mut u8,
            2,
        )
        .unwrap()
    };
    assert_eq!(inout, [15, -1, -1, 26, -1, -1]);
    let mut inout = [5i32, -1, -1, 6, -1, -1];
    unsafe {
        Operator::Predefined(Op::Sum)
            .reduce_local(
                &holey,
                input.as_ptr() as *const u8,
                inout.as_mut_ptr() as *mut u8,
                2,
            )
            .unwrap()
    };
    assert_eq!(inout, [6, -1, -1, 8, -1, -1]);
}
