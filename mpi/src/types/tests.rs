use super::*;
use std::mem::{offset_of, size_of};

fn int() -> Arc<Type> {
    Type::named(Named::Int)
}

fn committed(t: Result<Arc<Type>>) -> Arc<Type> {
    let t = t.unwrap();
    t.commit();
    t
}

/// Packs `count` elements of `t` from an array of i32 0, 1, 2, ... starting at index `base`
/// and returns the values packed, in order.
fn packed_ints(t: &Type, count: u64, base: usize) -> Vec<i32> {
    let src: Vec<i32> = (0..1000).collect();
    let mut out = vec![0u8; (t.size() * count) as usize];
    unsafe {
        t.pack(src.as_ptr().add(base) as *const u8, count, &mut out)
            .unwrap()
    };
    out.chunks_exact(4)
        .map(|c| i32::from_ne_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn contiguous_is_one_block_and_one_copy() {
    let t = committed(Type::contiguous(5, &int(), false));
    assert_eq!(
        (t.size(), t.extent(), t.lb(), t.true_extent()),
        (20, 20, 0, 20)
    );
    assert_eq!(t.flat().blocks, vec![Block { disp: 0, len: 20 }]);
    assert_eq!(t.dense(), Some(0));
    assert_eq!(t.flat().sig, vec![(Named::Int, 5)]);
    assert_eq!(packed_ints(&t, 2, 3), (3..13).collect::<Vec<_>>());
    // Nested contiguous types stay one block.
    let tt = committed(Type::contiguous(3, &t, false));
    assert_eq!(tt.flat().blocks, vec![Block { disp: 0, len: 60 }]);
}

#[test]
fn vector_and_hvector() {
    let v = committed(Type::vector(3, 2, 4, &int(), false));
    assert_eq!(v.size(), 24);
    assert_eq!(v.extent(), 40);
    assert_eq!(v.flat().blocks.len(), 3);
    assert_eq!(v.dense(), None);
    assert_eq!(packed_ints(&v, 1, 0), vec![0, 1, 4, 5, 8, 9]);
    // Two elements: the second starts one extent (10 ints) later.
    assert_eq!(
        packed_ints(&v, 2, 0),
        vec![0, 1, 4, 5, 8, 9, 10, 11, 14, 15, 18, 19]
    );
    let h = committed(Type::hvector(3, 2, 16, &int(), false));
    assert_eq!(packed_ints(&h, 1, 0), packed_ints(&v, 1, 0));
    // A stride equal to the block length is contiguous: one block.
    let c = committed(Type::vector(4, 2, 2, &int(), false));
    assert_eq!(c.flat().blocks.len(), 1);
    // A negative stride walks backwards; the lower bound is negative.
    let n = committed(Type::vector(3, 1, -2, &int(), false));
    assert_eq!(n.lb(), -16);
    assert_eq!(n.extent(), 20);
    assert_eq!(packed_ints(&n, 1, 10), vec![10, 8, 6]);
}

#[test]
fn indexed_family() {
    let i = committed(Type::indexed(&[2, 1, 3], &[5, 0, 8], &int(), false));
    assert_eq!(i.size(), 24);
    assert_eq!((i.lb(), i.ub()), (0, 44));
    assert_eq!(packed_ints(&i, 1, 0), vec![5, 6, 0, 8, 9, 10]);
    let h = committed(Type::hindexed(&[2, 1, 3], &[20, 0, 32], &int(), false));
    assert_eq!(packed_ints(&h, 1, 0), packed_ints(&i, 1, 0));
    let ib = committed(Type::indexed_block(2, &[4, 0], &int(), false));
    assert_eq!(packed_ints(&ib, 1, 0), vec![4, 5, 0, 1]);
    let hb = committed(Type::hindexed_block(2, &[16, 0], &int(), false));
    assert_eq!(packed_ints(&hb, 1, 0), vec![4, 5, 0, 1]);
    assert_eq!(
        Type::indexed(&[1], &[0, 1], &int(), false)
            .unwrap_err()
            .class,
        Class::Arg
    );
    assert_eq!(
        Type::indexed(&[-1], &[0], &int(), false).unwrap_err().class,
        Class::Arg
    );
    assert_eq!(
        Type::contiguous(-1, &int(), false).unwrap_err().class,
        Class::Count
    );
}

#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Debug)]
struct S {
    c: u8,
    d: f64,
    i: i32,
}

fn s_type() -> Arc<Type> {
    committed(Type::create_struct(
        &[1, 1, 1],
        &[
            offset_of!(S, c) as i64,
            offset_of!(S, d) as i64,
            offset_of!(S, i) as i64,
        ],
        &[
            Type::named(Named::Char),
            Type::named(Named::Double),
            Type::named(Named::Int),
        ],
        false,
    ))
}

#[test]
fn struct_is_padded_to_its_alignment_and_packs_without_holes() {
    let t = s_type();
    assert_eq!(t.size(), 13);
    assert_eq!(t.extent(), size_of::<S>() as i64);
    assert_eq!(t.true_extent(), 20);
    assert_eq!(
        t.flat().blocks,
        vec![Block { disp: 0, len: 1 }, Block { disp: 8, len: 12 }]
    );
    assert_eq!(t.elements(), 3);
    let src = [
        S {
            c: 7,
            d: 2.5,
            i: -3,
        },
        S {
            c: 9,
            d: -1.0,
            i: 44,
        },
    ];
    let mut packed = vec![0u8; 26];
    unsafe { t.pack(src.as_ptr() as *const u8, 2, &mut packed).unwrap() };
    assert_eq!(packed[0], 7);
    assert_eq!(f64::from_ne_bytes(packed[1..9].try_into().unwrap()), 2.5);
    assert_eq!(i32::from_ne_bytes(packed[22..26].try_into().unwrap()), 44);
    let mut back = [S::default(); 2];
    unsafe { t.unpack(&packed, back.as_mut_ptr() as *mut u8, 2).unwrap() };
    assert_eq!(back, src);
    // A short message fills the first element and part of the second, nothing more.
    let mut part = [S::default(); 2];
    unsafe {
        t.unpack(&packed[..14], part.as_mut_ptr() as *mut u8, 2)
            .unwrap()
    };
    assert_eq!(part[0], src[0]);
    assert_eq!((part[1].c, part[1].d), (9, 0.0));
    // get_elements: 13 bytes per element, three basic elements each.
    assert_eq!(t.get_elements(26), Some(6));
    assert_eq!(t.get_elements(14), Some(4));
    assert_eq!(t.get_elements(22), Some(5));
    assert_eq!(t.get_elements(15), None);
    // Too much data is a truncation, and nothing is written.
    let mut one = [S::default(); 1];
    let e = unsafe { t.unpack(&packed, one.as_mut_ptr() as *mut u8, 1) }.unwrap_err();
    assert_eq!(e.class, Class::Truncate);
    assert_eq!(one[0], S::default());
}

#[test]
fn resized_changes_the_stride_of_elements() {
    // One int with an extent of three ints: count 3 picks every third int.
    let r = committed(Type::resized(&int(), 0, 12, false));
    assert_eq!((r.size(), r.extent(), r.true_extent()), (4, 12, 4));
    assert_eq!(r.dense(), None);
    assert_eq!(packed_ints(&r, 3, 1), vec![1, 4, 7]);
    let shifted = committed(Type::resized(&int(), -4, 8, false));
    assert_eq!((shifted.lb(), shifted.ub()), (-4, 4));
}

#[test]
fn pair_types_pack_their_data_only() {
    #[repr(C)]
    struct DoubleInt(f64, i32);
    let t = Type::named(Named::DoubleInt);
    assert_eq!((t.size(), t.extent()), (12, 16));
    let v = [DoubleInt(1.5, 3), DoubleInt(-2.0, 9)];
    let mut out = vec![0u8; 24];
    unsafe { t.pack(v.as_ptr() as *const u8, 2, &mut out).unwrap() };
    assert_eq!(f64::from_ne_bytes(out[12..20].try_into().unwrap()), -2.0);
    assert_eq!(i32::from_ne_bytes(out[20..24].try_into().unwrap()), 9);
    assert_eq!(t.get_elements(24), Some(4));
    assert_eq!(t.get_elements(20), Some(3));
    let c = committed(Type::contiguous(2, &t, false));
    assert_eq!(c.uniform(), Some(Named::DoubleInt));
    assert_eq!(c.elements(), 4);
}

#[test]
fn contents_and_commit() {
    let v = Type::vector(3, 2, 4, &int(), false).unwrap();
    assert!(!v.is_committed());
    let mut out = [0u8; 24];
    let e = unsafe { v.pack([0i32; 16].as_ptr() as *const u8, 1, &mut out) }.unwrap_err();
    assert_eq!(e.class, Class::Type);
    let c = v.contents().unwrap();
    assert_eq!(c.combiner, Combiner::Vector);
    assert_eq!(c.ints, vec![3, 2, 4]);
    assert!(c.aints.is_empty() && c.counts.is_empty());
    assert_eq!(c.types[0].as_named(), Some(Named::Int));
    let h = Type::hindexed(&[1, 2], &[8, 0], &int(), true).unwrap();
    let c = h.contents().unwrap();
    assert!(c.ints.is_empty() && c.aints.is_empty());
    assert_eq!(c.counts, vec![2, 1, 2, 8, 0]);
    let s = Type::create_struct(&[1], &[4], &[int()], false).unwrap();
    assert_eq!(s.contents().unwrap().aints, vec![4]);
    assert!(int().contents().is_none());
    let d = Type::dup(&int()).unwrap();
    assert!(d.is_committed());
    assert_eq!(d.contents().unwrap().combiner, Combiner::Dup);
    let dv = Type::dup(&v).unwrap();
    assert!(!dv.is_committed());
    let r = Type::resized(&int(), 0, 8, true).unwrap();
    assert_eq!(r.contents().unwrap().counts, vec![0, 8]);
}

#[test]
fn empty_and_huge_types() {
    let e = committed(Type::contiguous(0, &int(), false));
    assert_eq!((e.size(), e.extent()), (0, 0));
    assert_eq!(e.get_elements(0), Some(0));
    unsafe { e.pack(std::ptr::null(), 5, &mut []).unwrap() };
    // A billion bytes as one block, without walking them.
    let big = committed(Type::contiguous(1 << 30, &Type::named(Named::Byte), false));
    assert_eq!(
        big.flat().blocks,
        vec![Block {
            disp: 0,
            len: 1 << 30
        }]
    );
    assert_eq!(
        Type::contiguous(i64::MAX, &big, false).unwrap_err().class,
        Class::Count
    );
}
