//! C functions for tagged point-to-point messages: tags, wildcards, probe, send-receive.

use super::handle::{self, fmi_comm};
use super::status::fmi_status;
use super::types::{datatype, fmi_datatype};
use super::{byte_len, guard, in_buf, out_buf, overlaps, write_out};
use crate::channel::{MsgStatus, Source, TagSel, TAG_UB};
use crate::error::{Error, Result};
use std::ffi::{c_int, c_void};

/// A receive or probe accepts a message from any peer.
pub const FMI_ANY_SOURCE: i32 = -1;
/// A receive or probe accepts a message with any tag.
pub const FMI_ANY_TAG: i32 = -2;
/// The largest tag: tags are 0 ..= `FMI_TAG_UB` (2^31 - 1).
pub const FMI_TAG_UB: i32 = i32::MAX;

/// What a receive or probe found.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct fmi_msg_status {
    /// The rank that sent the message.
    pub source: i32,
    /// The message's tag.
    pub tag: i32,
    /// The message's size in bytes (divide by `fmi_datatype_size` for elements).
    pub count_bytes: usize,
}

impl From<MsgStatus> for fmi_msg_status {
    fn from(s: MsgStatus) -> Self {
        fmi_msg_status {
            source: s.source as i32,
            tag: s.tag as i32,
            count_bytes: s.bytes,
        }
    }
}

pub(super) fn rank(r: i32, what: &str) -> Result<usize> {
    usize::try_from(r).map_err(|_| Error::invalid(format!("{what} {r} is negative")))
}

pub(super) fn parse_send_tag(tag: i32) -> Result<u32> {
    u32::try_from(tag).map_err(|_| {
        Error::invalid(format!(
            "tag {tag} is negative (valid: 0..=FMI_TAG_UB; wildcards only in receives)"
        ))
    })
}

pub(super) fn parse_source(s: i32) -> Result<Source> {
    match s {
        FMI_ANY_SOURCE => Ok(Source::Any),
        s => rank(s, "source")
            .map(Source::Rank)
            .map_err(|e| e.context("(use FMI_ANY_SOURCE for any)")),
    }
}

pub(super) fn tag_sel(t: i32) -> Result<TagSel> {
    match t {
        FMI_ANY_TAG => Ok(TagSel::Any),
        t => u32::try_from(t)
            .ok()
            .filter(|&t| t <= TAG_UB)
            .map(TagSel::Tag)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "tag {t} is out of range (valid: 0..=FMI_TAG_UB, or FMI_ANY_TAG)"
                ))
            }),
    }
}

/// Writes `s` through `status` unless it is NULL.
pub(super) unsafe fn put_status(status: *mut fmi_msg_status, s: MsgStatus) {
    if !status.is_null() {
        status.write(s.into());
    }
}

/// Sends `count` elements of type `t` from `buf` to peer `dest` with `tag` (0 ..= `FMI_TAG_UB`).
/// Blocks until the message is handed to the channel (while the receiver's buffer for unexpected
/// messages is full, until the receiver takes messages). `fmi_send` is `fmi_send_tag` with tag 0.
///
/// # Safety
/// `buf` must be valid for `count` elements of `t`.
#[no_mangle]
pub unsafe extern "C" fn fmi_send_tag(
    comm: *mut fmi_comm,
    buf: *const c_void,
    count: usize,
    t: fmi_datatype,
    dest: i32,
    tag: i32,
) -> fmi_status {
    guard("fmi_send_tag", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_send_tag")?;
        let (dest, tag) = (rank(dest, "dest")?, parse_send_tag(tag)?);
        let data = in_buf(buf, n, "buf")?;
        handle::with_comm(comm, |c| c.send_tagged(data, dest, tag))
    })
}

/// Receives the oldest message from `source` (or `FMI_ANY_SOURCE`) with `tag` (or
/// `FMI_ANY_TAG`) into `buf`, which holds up to `count` elements of `t`. A shorter message fills
/// the front of `buf`; a longer one fails with `FMI_ERR_TRUNCATE` (it is consumed). On success,
/// `*status` (may be NULL) gets the message's source, tag and size.
///
/// # Safety
/// `buf` must be valid for `count` elements of `t`; `status` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_recv_tag(
    comm: *mut fmi_comm,
    buf: *mut c_void,
    count: usize,
    t: fmi_datatype,
    source: i32,
    tag: i32,
    status: *mut fmi_msg_status,
) -> fmi_status {
    guard("fmi_recv_tag", || {
        let n = byte_len(count, datatype(t)?.size(), "fmi_recv_tag")?;
        let (src, tag) = (parse_source(source)?, tag_sel(tag)?);
        let out = out_buf(buf, n, "buf")?;
        let s = handle::with_comm(comm, |c| c.recv_tagged(out, src, tag))?;
        put_status(status, s);
        Ok(())
    })
}

/// Waits for a message from `source` with `tag` (wildcards allowed) and writes its source, tag
/// and size to `*status` without receiving it; the next matching receive gets that message.
///
/// # Safety
/// `status` must be writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_probe(
    comm: *mut fmi_comm,
    source: i32,
    tag: i32,
    status: *mut fmi_msg_status,
) -> fmi_status {
    guard("fmi_probe", || {
        let (src, tag) = (parse_source(source)?, tag_sel(tag)?);
        if status.is_null() {
            return Err(super::null("status"));
        }
        let s = handle::with_comm(comm, |c| c.probe(src, tag))?;
        put_status(status, s);
        Ok(())
    })
}

/// Like `fmi_probe` but answers at once: `*flag` is 1 and `*status` (may be NULL) is written
/// when a matching message has arrived, else `*flag` is 0.
///
/// # Safety
/// `flag` must be writable; `status` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_iprobe(
    comm: *mut fmi_comm,
    source: i32,
    tag: i32,
    flag: *mut c_int,
    status: *mut fmi_msg_status,
) -> fmi_status {
    guard("fmi_iprobe", || {
        let (src, tag) = (parse_source(source)?, tag_sel(tag)?);
        if flag.is_null() {
            return Err(super::null("flag"));
        }
        let s = handle::with_comm(comm, |c| c.iprobe(src, tag))?;
        write_out(flag, c_int::from(s.is_some()), "flag")?;
        if let Some(s) = s {
            put_status(status, s);
        }
        Ok(())
    })
}

/// Sends `send_count` elements of `send_type` from `send_buf` to `dest` with `send_tag`, and
/// receives up to `recv_count` elements of `recv_type` from `source` with `recv_tag` (wildcards
/// allowed) into `recv_buf`, concurrently: a ring of send-receives does not deadlock. The receive
/// is as in `fmi_recv_tag`; `status` (may be NULL) describes the received message.
///
/// # Safety
/// The buffers must be valid for their counts; `status` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fmi_sendrecv(
    comm: *mut fmi_comm,
    send_buf: *const c_void,
    send_count: usize,
    send_type: fmi_datatype,
    dest: i32,
    send_tag: i32,
    recv_buf: *mut c_void,
    recv_count: usize,
    recv_type: fmi_datatype,
    source: i32,
    recv_tag: i32,
    status: *mut fmi_msg_status,
) -> fmi_status {
    guard("fmi_sendrecv", || {
        let sn = byte_len(send_count, datatype(send_type)?.size(), "fmi_sendrecv")?;
        let rn = byte_len(recv_count, datatype(recv_type)?.size(), "fmi_sendrecv")?;
        let (dest, stag) = (rank(dest, "dest")?, parse_send_tag(send_tag)?);
        let (src, rtag) = (parse_source(source)?, tag_sel(recv_tag)?);
        let data = in_buf(send_buf, sn, "send_buf")?;
        // The receive may write where the send reads: send a copy then.
        let copy;
        let data = if overlaps(send_buf, sn, recv_buf, rn) {
            copy = data.to_vec();
            &copy[..]
        } else {
            data
        };
        let out = out_buf(recv_buf, rn, "recv_buf")?;
        let s = handle::with_comm(comm, |c| c.sendrecv(data, dest, stag, out, src, rtag))?;
        put_status(status, s);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::status::fmi_status as S;
    use std::ptr::{null, null_mut};

    #[test]
    fn integers_are_checked_before_the_handle() {
        let b = [0u8; 4];
        let mut st = fmi_msg_status {
            source: 0,
            tag: 0,
            count_bytes: 0,
        };
        let p = b.as_ptr() as *const c_void;
        let q = null_mut();
        unsafe {
            assert_eq!(fmi_send_tag(q, p, 4, 1, 0, -1), S::FMI_ERR_INVALID_ARG);
            assert_eq!(fmi_send_tag(q, p, 4, 1, -3, 0), S::FMI_ERR_INVALID_ARG);
            assert_eq!(
                fmi_send_tag(q, p, usize::MAX, 1, 0, 0),
                S::FMI_ERR_INVALID_ARG
            );
            assert_eq!(fmi_send_tag(q, p, 4, 99, 0, 0), S::FMI_ERR_INVALID_ARG);
            assert_eq!(fmi_send_tag(q, null(), 4, 1, 0, 0), S::FMI_ERR_NULL_ARG);
            assert_eq!(fmi_send_tag(q, p, 4, 1, 0, FMI_TAG_UB), S::FMI_ERR_NULL_ARG);
            let r = null_mut();
            assert_eq!(
                fmi_recv_tag(q, r, 0, 1, -5, 0, &mut st),
                S::FMI_ERR_INVALID_ARG
            );
            assert_eq!(
                fmi_recv_tag(q, r, 0, 1, 0, -7, &mut st),
                S::FMI_ERR_INVALID_ARG
            );
            assert_eq!(
                fmi_recv_tag(q, r, 0, 1, FMI_ANY_TAG, 0, null_mut()),
                S::FMI_ERR_INVALID_ARG
            );
            let any = (FMI_ANY_SOURCE, FMI_ANY_TAG);
            assert_eq!(
                fmi_recv_tag(q, r, 0, 1, any.0, any.1, null_mut()),
                S::FMI_ERR_NULL_ARG
            );
            assert_eq!(fmi_probe(q, any.0, any.1, null_mut()), S::FMI_ERR_NULL_ARG);
            assert_eq!(fmi_probe(q, -9, 0, &mut st), S::FMI_ERR_INVALID_ARG);
            assert_eq!(
                fmi_iprobe(q, 0, 0, null_mut(), &mut st),
                S::FMI_ERR_NULL_ARG
            );
            assert_eq!(
                fmi_iprobe(q, 0, i32::MIN, null_mut(), null_mut()),
                S::FMI_ERR_INVALID_ARG
            );
            assert_eq!(
                fmi_sendrecv(q, p, 4, 1, 0, -1, r, 0, 1, 0, 0, null_mut()),
                S::FMI_ERR_INVALID_ARG
            );
            assert_eq!(
                fmi_sendrecv(
                    q,
                    p,
                    4,
                    1,
                    0,
                    0,
                    r,
                    0,
                    1,
                    FMI_ANY_SOURCE,
                    FMI_ANY_TAG,
                    null_mut()
                ),
                S::FMI_ERR_NULL_ARG
            );
        }
    }
}
