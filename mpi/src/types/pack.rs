//! Pack and unpack: the data of `count` elements of a datatype between a user buffer (laid out
//! by the type map) and contiguous bytes (the data only, in type-map order). A dense type is
//! one copy.

use super::Type;
use crate::engine::{Class, Error, Result};

impl Type {
    /// Calls `f(memory offset, packed offset, length)` for each run of the first `bytes` bytes
    /// of data of `count` elements, in order (the last run may end inside a block).
    pub(crate) fn walk(&self, count: u64, bytes: u64, mut f: impl FnMut(i64, usize, usize)) {
        if bytes == 0 {
            return;
        }
        if let Some(disp) = self.dense() {
            f(disp, 0, bytes as usize);
            return;
        }
        let blocks = &self.flat().blocks;
        let extent = self.extent();
        let mut done = 0u64;
        for i in 0..count as i64 {
            let base = i * extent;
            for b in blocks {
                let len = b.len.min(bytes - done);
                f(base + b.disp, done as usize, len as usize);
                done += len;
                if done == bytes {
                    return;
                }
            }
        }
    }

    /// Copies the data of `count` elements at `src` into `out`, which must be exactly
    /// `count * size` bytes.
    ///
    /// # Safety
    /// `src` plus every displacement of the type map of `count` elements must be readable.
    pub unsafe fn pack(&self, src: *const u8, count: u64, out: &mut [u8]) -> Result<()> {
        self.check_committed()?;
        let bytes = self.bytes(count)?;
        if out.len() as u64 != bytes {
            return Err(Error::new(
                Class::Truncate,
                format!(
                    "packing {count} elements needs {bytes} bytes, the buffer has {}",
                    out.len()
                ),
            ));
        }
        self.walk(count, bytes, |mem, at, len| {
            // SAFETY: the caller guarantees the type map's bytes at `src` are readable; `out`
            // has `bytes` bytes and the walk stays within them.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    src.wrapping_offset(mem as isize),
                    out.as_mut_ptr().add(at),
                    len,
                )
            }
        });
        Ok(())
    }

    /// Copies `data` (at most `count * size` bytes: a shorter message fills the first elements
    /// and leaves the rest untouched) into `count` elements at `dst`. More data than fits is
    /// `MPI_ERR_TRUNCATE` and nothing is written.
    ///
    /// # Safety
    /// `dst` plus every displacement of the type map of `count` elements must be writable and
    /// must not overlap `data`.
    pub unsafe fn unpack(&self, data: &[u8], dst: *mut u8, count: u64) -> Result<()> {
        self.check_committed()?;
        let room = self.bytes(count)?;
        if data.len() as u64 > room {
            return Err(Error::new(
                Class::Truncate,
                format!(
                    "{} bytes of data do not fit {count} elements of {room} bytes",
                    data.len()
                ),
            ));
        }
        self.walk(count, data.len() as u64, |mem, at, len| {
            // SAFETY: the caller guarantees the type map's bytes at `dst` are writable; `data`
            // has at least `at + len` bytes (the walk stops at its length).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    data.as_ptr().add(at),
                    dst.wrapping_offset(mem as isize),
                    len,
                )
            }
        });
        Ok(())
    }
}
