//! The user's buffers as the core sees them. A buffer is one or more regions (`count` elements
//! of a datatype at an address: one for most collectives, one per rank for the v- and
//! w-forms); the core gets bytes with one block per region. When every region is dense (its
//! data one run of bytes) the core works in the user's memory; otherwise the data is packed into
//! a scratch buffer (inputs, and outputs the call reads first) and unpacked into the user's
//! layout when the call ends ([`Output::finish`]).

use crate::engine::{Class, Error, Result};
use crate::types::Type;
use fmi::channel::request::{RecvBuf, SendBuf};
use fmi::collective::shape::{packed, Blocks};
use fmi::BlockList;
use std::sync::Arc;

/// `count` elements of `t` at `ptr`, in the user's memory.
#[derive(Clone)]
pub struct Region {
    pub ptr: *mut u8,
    pub count: u64,
    pub t: Arc<Type>,
}

impl Region {
    pub fn new(ptr: *const u8, count: u64, t: Arc<Type>) -> Region {
        Region {
            ptr: ptr as *mut u8,
            count,
            t,
        }
    }

    /// Bytes of data.
    pub fn bytes(&self) -> Result<usize> {
        usize::try_from(self.t.bytes(self.count)?)
            .map_err(|_| Error::new(Class::Count, "the buffer's size does not fit in memory"))
    }

    /// Where the data starts when it is one run of bytes.
    fn dense_at(&self) -> Option<*mut u8> {
        if self.count == 0 || self.t.size() == 0 {
            return Some(self.ptr);
        }
        self.t.dense().map(|d| self.ptr.wrapping_offset(d as isize))
    }
}

/// Bytes for the core: in the user's memory, or a scratch buffer.
enum Mem {
    User { base: *mut u8, len: usize },
    Scratch(Vec<u8>),
}

/// The regions' bytes and blocks (block i: region i).
struct Laid {
    mem: Mem,
    counts: Vec<usize>,
    offs: Vec<usize>,
    regions: Vec<Region>,
}

impl Laid {
    fn new(regions: Vec<Region>) -> Result<Laid> {
        let counts = regions
            .iter()
            .map(Region::bytes)
            .collect::<Result<Vec<_>>>()?;
        let starts: Option<Vec<*mut u8>> = regions.iter().map(Region::dense_at).collect();
        if let Some(starts) = starts {
            let used = || (0..regions.len()).filter(|&i| counts[i] > 0);
            let base = used().map(|i| starts[i] as usize).min();
            if let Some(base) = base {
                let offs: Vec<usize> = (0..regions.len())
                    .map(|i| {
                        if counts[i] > 0 {
                            starts[i] as usize - base
                        } else {
                            0
                        }
                    })
                    .collect();
                let len = used().map(|i| offs[i] + counts[i]).max().unwrap_or(0);
                let mem = Mem::User {
                    base: base as *mut u8,
                    len,
                };
                return Ok(Laid {
                    mem,
                    counts,
                    offs,
                    regions,
                });
            }
        }
        let offs = packed(&counts);
        let len = counts.iter().sum();
        Ok(Laid {
            mem: Mem::Scratch(vec![0; len]),
            counts,
            offs,
            regions,
        })
    }

    /// Packs the user's data into the scratch buffer (nothing to do in the user's memory).
    ///
    /// # Safety
    /// Every region must be readable.
    unsafe fn fill(&mut self) -> Result<()> {
        if let Mem::Scratch(s) = &mut self.mem {
            for (i, r) in self.regions.iter().enumerate() {
                let b = &mut s[self.offs[i]..self.offs[i] + self.counts[i]];
                r.t.pack(r.ptr, r.count, b)?;
            }
        }
        Ok(())
    }

    fn bytes(&self) -> &[u8] {
        match &self.mem {
            Mem::User { len: 0, .. } => &[],
            // SAFETY: the regions' owner keeps them valid for the collective (MPI's rule).
            Mem::User { base, len } => unsafe { std::slice::from_raw_parts(*base, *len) },
            Mem::Scratch(s) => s,
        }
    }

    fn parts(&mut self) -> (&mut [u8], Blocks<'_>) {
        let b = match &mut self.mem {
            Mem::User { len: 0, .. } => &mut [],
            // SAFETY: as in `bytes`; the program does not touch an output buffer during the call.
            Mem::User { base, len } => unsafe { std::slice::from_raw_parts_mut(*base, *len) },
            Mem::Scratch(s) => &mut s[..],
        };
        (b, Blocks::new(&self.counts, &self.offs))
    }
}

/// Data a collective sends.
pub struct Input(Laid);

// SAFETY: the regions point at the program's buffers, which MPI requires to stay valid and
// untouched until the collective completes, whichever thread completes it.
unsafe impl Send for Input {}

impl Input {
    /// The data of `regions` (packed when not dense).
    ///
    /// # Safety
    /// Every region must be readable until the collective ends.
    pub unsafe fn new(regions: Vec<Region>) -> Result<Input> {
        let mut l = Laid::new(regions)?;
        l.fill()?;
        Ok(Input(l))
    }

    /// A copy of the data of `regions`, whatever their layout (a contribution read from the
    /// buffer the result then overwrites).
    ///
    /// # Safety
    /// Every region must be readable now.
    pub unsafe fn copied(regions: Vec<Region>) -> Result<Input> {
        let mut l = Laid::new(regions)?;
        l.fill()?;
        if let Mem::User { .. } = l.mem {
            l.mem = Mem::Scratch(l.bytes().to_vec());
        }
        l.regions.clear();
        Ok(Input(l))
    }

    /// A copy of `data` in blocks `counts` (consecutive).
    pub fn copy(data: &[u8], counts: Vec<usize>) -> Input {
        Input(Laid {
            offs: packed(&counts),
            mem: Mem::Scratch(data.to_vec()),
            counts,
            regions: Vec::new(),
        })
    }

    pub fn bytes(&self) -> &[u8] {
        self.0.bytes()
    }

    pub fn blocks(&self) -> Blocks<'_> {
        Blocks::new(&self.0.counts, &self.0.offs)
    }

    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes for a collective that runs in the background.
    ///
    /// # Safety
    /// `self` must outlive that collective (its scratch buffer does not move with it).
    pub unsafe fn send_buf(&self) -> SendBuf {
        let b = self.bytes();
        SendBuf::new(b.as_ptr(), b.len())
    }

    pub fn block_list(&self) -> BlockList {
        BlockList {
            counts: self.0.counts.clone(),
            displs: self.0.offs.clone(),
        }
    }
}

/// Where a collective's result goes.
pub struct Output {
    laid: Laid,
    /// Leave the user's buffer as it was (rank 0 of an exscan).
    untouched: bool,
}

// SAFETY: as for `Input`.
unsafe impl Send for Output {}

impl Output {
    /// The result's place: `regions`; `read`: the call reads them first (in-place forms, the
    /// root of a broadcast), so their data is packed into the scratch buffer.
    ///
    /// # Safety
    /// Every region must be writable (and readable when `read`) until the collective ends.
    pub unsafe fn new(regions: Vec<Region>, read: bool) -> Result<Output> {
        let mut laid = Laid::new(regions)?;
        if read {
            laid.fill()?;
        }
        Ok(Output {
            laid,
            untouched: false,
        })
    }

    /// `n` bytes of scratch whose result is dropped (the root's own block of an in-place
    /// scatter).
    pub fn discard(n: usize) -> Output {
        let laid = Laid {
            mem: Mem::Scratch(vec![0; n]),
            counts: vec![n],
            offs: vec![0],
            regions: Vec::new(),
        };
        Output {
            laid,
            untouched: false,
        }
    }

    /// The call writes nothing here: the user's buffer stays as it was.
    pub fn untouched(mut self) -> Output {
        self.untouched = true;
        self
    }

    pub fn bytes(&self) -> &[u8] {
        self.laid.bytes()
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.laid.parts().0
    }

    pub fn parts(&mut self) -> (&mut [u8], Blocks<'_>) {
        self.laid.parts()
    }

    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes for a collective that runs in the background.
    ///
    /// # Safety
    /// `self` must outlive that collective and not be used until it ends.
    pub unsafe fn recv_buf(&mut self) -> RecvBuf {
        let b = self.bytes_mut();
        RecvBuf::new(b.as_mut_ptr(), b.len())
    }

    pub fn block_list(&self) -> BlockList {
        BlockList {
            counts: self.laid.counts.clone(),
            displs: self.laid.offs.clone(),
        }
    }

    /// The current data of block `i`, copied (an in-place contribution).
    pub fn block(&self, i: usize) -> Input {
        let (at, n) = (self.laid.offs[i], self.laid.counts[i]);
        Input::copy(&self.bytes()[at..at + n], vec![n])
    }

    /// The current data of every block, copied in the same layout (an in-place contribution).
    pub fn snapshot(&self) -> Input {
        Input(Laid {
            mem: Mem::Scratch(self.bytes().to_vec()),
            counts: self.laid.counts.clone(),
            offs: self.laid.offs.clone(),
            regions: Vec::new(),
        })
    }

    /// Unpacks the result into the user's layout (nothing to do when it is there already).
    ///
    /// # Safety
    /// Every region must still be writable.
    pub unsafe fn finish(self) -> Result<()> {
        if self.untouched {
            return Ok(());
        }
        if let Mem::Scratch(s) = &self.laid.mem {
            for (i, r) in self.laid.regions.iter().enumerate() {
                let at = self.laid.offs[i];
                r.t.unpack(&s[at..at + self.laid.counts[i]], r.ptr, r.count)?;
            }
        }
        Ok(())
    }
}
