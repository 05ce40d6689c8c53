//! File objects (MPI-IO on local POSIX files): an open file of the process's file system, the
//! group that opened it (a duplicate of the communicator's core, for the collective steps), the
//! access mode, the view (displacement, elementary type and file type, which maps the view's
//! data to runs of file bytes), the individual and shared file pointers and the error handler.
//!
//! A file is local to the process's file system: on a communicator of several processes every
//! rank must see the same file system (ranks of one machine, or a shared mount); serverless
//! functions each have their own. Reads and writes go straight to the file (`pread`/`pwrite`),
//! so what one rank wrote and synced is what another reads. Data representations other than
//! `native` are not implemented, nor the independent shared-pointer accesses on a group of
//! several processes.

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::handles::Table;
use crate::objects::errhandler::{self, Handler};
use crate::types::Type;
use parking_lot::Mutex;
use std::ffi::c_int;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

/// The view of a file: where the data starts and the types it is read and written in.
#[derive(Clone)]
pub struct View {
    /// The displacement in bytes of the view's first byte.
    pub disp: i64,
    pub etype: (MPI_Datatype, Arc<Type>),
    pub filetype: (MPI_Datatype, Arc<Type>),
}

impl View {
    /// The default view: displacement 0, bytes.
    pub fn bytes() -> View {
        let b = crate::objects::datatype::get(MPI_BYTE).expect("MPI_BYTE is predefined");
        View {
            disp: 0,
            etype: (MPI_BYTE, b.clone()),
            filetype: (MPI_BYTE, b),
        }
    }

    /// The data byte (counted in the view's data, holes skipped) where `offset` elementary
    /// types into the view start.
    pub fn data_byte(&self, offset: i64) -> Result<u64, MpiError> {
        offset
            .checked_mul(self.etype.1.size() as i64)
            .and_then(|b| u64::try_from(b).ok())
            .ok_or_else(|| MpiError::arg(format!("offset {offset} is outside the view")))
    }

    /// The absolute byte offset in the file of `offset` elementary types into the view.
    pub fn byte_offset(&self, offset: i64) -> Result<u64, MpiError> {
        let from = self.data_byte(offset)?;
        Ok(self.segments(from, 1)?.first().map_or(0, |s| s.0))
    }

    /// How many bytes of the view's data lie before file byte `end` (the end of the file).
    pub fn data_before(&self, end: u64) -> u64 {
        let ft = &self.filetype.1;
        let span = (end as i64 - self.disp).max(0);
        let extent = ft.extent();
        if extent <= 0 {
            return span as u64;
        }
        let tiles = (span / extent) as u64;
        let rest = span % extent;
        let partial: u64 = ft
            .flat()
            .blocks
            .iter()
            .map(|b| (rest - b.disp).clamp(0, b.len as i64) as u64)
            .sum();
        tiles * ft.size() + partial
    }

    /// The runs of file bytes (offset, length) that hold `n` bytes of the view's data from its
    /// data byte `from`, in order: the file type tiles the file from the displacement, and only
    /// its blocks hold data.
    pub fn segments(&self, from: u64, n: u64) -> Result<Vec<(u64, usize)>, MpiError> {
        let ft = &self.filetype.1;
        let size = ft.size();
        if size == 0 {
            return Err(MpiError::new(
                MPI_ERR_TYPE,
                "the view's filetype holds no data",
            ));
        }
        let outside = || MpiError::arg("the access reaches outside the file's byte range");
        let mut out: Vec<(u64, usize)> = Vec::new();
        let mut push = |at: i64, len: u64| -> Result<(), MpiError> {
            let at = u64::try_from(at).map_err(|_| outside())?;
            let len = usize::try_from(len).map_err(|_| outside())?;
            match out.last_mut() {
                Some(last) if last.0 + last.1 as u64 == at => last.1 += len,
                _ => out.push((at, len)),
            }
            Ok(())
        };
        if ft.dense() == Some(0) && ft.extent() == size as i64 {
            let at = self.disp.checked_add(from as i64).ok_or_else(outside)?;
            push(at, n)?;
            return Ok(out);
        }
        let blocks = &ft.flat().blocks;
        let extent = ft.extent();
        let mut tile = from / size;
        let mut within = from % size;
        let mut left = n;
        while left > 0 {
            let base = (tile as i64)
                .checked_mul(extent)
                .and_then(|t| t.checked_add(self.disp))
                .ok_or_else(outside)?;
            let mut cum = 0u64;
            for b in blocks {
                if within >= cum + b.len {
                    cum += b.len;
                    continue;
                }
                let skip = within - cum;
                let take = (b.len - skip).min(left);
                push(base + b.disp + skip as i64, take)?;
                left -= take;
                within += take;
                cum += b.len;
                if left == 0 {
                    break;
                }
            }
            tile += 1;
            within = 0;
        }
        Ok(out)
    }
}

/// One open file.
pub struct FileObj {
    pub file: File,
    pub path: PathBuf,
    pub amode: c_int,
    /// The world ranks of the group that opened it.
    pub members: Vec<usize>,
    pub rank: usize,
    /// A duplicate of the opening communicator's core (the collective steps run on it).
    pub core: Mutex<fmi::Communicator>,
    pub errhandler: Mutex<(MPI_Errhandler, Arc<Handler>)>,
    pub view: Mutex<View>,
    /// The individual file pointer, in elementary types of the view.
    pub position: Mutex<i64>,
    /// The shared file pointer, in elementary types of the view: every rank's copy moves with
    /// the collective shared-pointer calls (ordered accesses, `MPI_File_seek_shared`,
    /// `MPI_File_set_view`); the independent ones (`*_shared`) need a group of one process.
    pub shared: Mutex<i64>,
    pub atomic: Mutex<bool>,
    pub info: Mutex<Vec<(String, String)>>,
    /// The status of a split collective access begun and not yet ended.
    pub split: Mutex<Option<MPI_Status>>,
}

impl FileObj {
    /// Runs a collective step on the file's group.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut fmi::Communicator) -> fmi::Result<T>,
    ) -> Result<T, MpiError> {
        let mut core = self.core.try_lock().ok_or_else(|| {
            MpiError::other(
                "the file is in use by another thread (this library provides \
                 MPI_THREAD_SERIALIZED: one MPI call at a time)",
            )
        })?;
        f(&mut core).map_err(MpiError::from)
    }

    pub fn readable(&self) -> Result<(), MpiError> {
        if self.amode & MPI_MODE_WRONLY != 0 {
            return Err(MpiError::new(
                MPI_ERR_ACCESS,
                "the file was opened write-only (MPI_MODE_WRONLY)",
            ));
        }
        Ok(())
    }

    pub fn writable(&self) -> Result<(), MpiError> {
        if self.amode & MPI_MODE_RDONLY != 0 {
            return Err(MpiError::new(
                MPI_ERR_READ_ONLY,
                "the file was opened read-only (MPI_MODE_RDONLY)",
            ));
        }
        Ok(())
    }

    /// Reads at byte `at` into `buf` until it is full or the file ends; the bytes read.
    pub fn read_at(&self, at: u64, buf: &mut [u8]) -> Result<usize, MpiError> {
        let mut done = 0;
        while done < buf.len() {
            match self.file.read_at(&mut buf[done..], at + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(&e, &self.path)),
            }
        }
        Ok(done)
    }

    /// Writes all of `data` at byte `at`.
    pub fn write_at(&self, at: u64, data: &[u8]) -> Result<(), MpiError> {
        self.file
            .write_all_at(data, at)
            .map_err(|e| io_error(&e, &self.path))
    }

    pub fn size(&self) -> Result<u64, MpiError> {
        Ok(self
            .file
            .metadata()
            .map_err(|e| io_error(&e, &self.path))?
            .len())
    }
}

/// The open files by handle.
pub static FILES: Table<FileObj> = Table::new("file");

/// The error handler of `MPI_FILE_NULL`: the one files get when opened (`MPI_ERRORS_RETURN`
/// until the program sets another), and the one errors of `MPI_File_open` are raised on.
static DEFAULT_HANDLER: Mutex<Option<(MPI_Errhandler, Arc<Handler>)>> = Mutex::new(None);

/// The error handler of `MPI_FILE_NULL`.
pub fn default_errhandler() -> (MPI_Errhandler, Arc<Handler>) {
    DEFAULT_HANDLER
        .lock()
        .get_or_insert_with(|| (MPI_ERRORS_RETURN, Arc::new(Handler::Return)))
        .clone()
}

/// Sets the error handler of `MPI_FILE_NULL`.
pub fn set_default_errhandler(h: (MPI_Errhandler, Arc<Handler>)) {
    *DEFAULT_HANDLER.lock() = Some(h);
}

/// The file behind `fh`.
pub fn get(fh: MPI_File) -> Result<Arc<FileObj>, MpiError> {
    FILES.get(fh.0).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_FILE,
            if fh == MPI_FILE_NULL {
                "the file is MPI_FILE_NULL".to_string()
            } else {
                format!("{:#x} is not an open file (closed, or not a file)", fh.0)
            },
        )
    })
}

/// The error handler errors about `fh` are raised on: the file's, or `MPI_FILE_NULL`'s for
/// `MPI_FILE_NULL` and handles that are not open files.
pub fn errhandler_of(fh: MPI_File) -> (MPI_Errhandler, Arc<Handler>) {
    FILES
        .get(fh.0)
        .map(|o| o.errhandler.lock().clone())
        .unwrap_or_else(default_errhandler)
}

/// The error handler `h` for attaching to a file (a predefined one or one made by
/// MPI_File_create_errhandler).
pub fn errhandler_for_file(h: MPI_Errhandler) -> Result<(MPI_Errhandler, Arc<Handler>), MpiError> {
    errhandler::for_kind(h, errhandler::Kind::File)
}

/// The MPI error class of an I/O error on `path`, with a message naming it.
pub fn io_error(e: &std::io::Error, path: &std::path::Path) -> MpiError {
    let class = match e.kind() {
        ErrorKind::NotFound => MPI_ERR_NO_SUCH_FILE,
        ErrorKind::AlreadyExists => MPI_ERR_FILE_EXISTS,
        ErrorKind::PermissionDenied => MPI_ERR_ACCESS,
        _ => match e.raw_os_error() {
            Some(libc::ENOSPC) => MPI_ERR_NO_SPACE,
            Some(libc::EDQUOT) => MPI_ERR_QUOTA,
            Some(libc::EROFS) => MPI_ERR_READ_ONLY,
            Some(libc::ENAMETOOLONG) | Some(libc::EISDIR) | Some(libc::ENOTDIR) => MPI_ERR_BAD_FILE,
            _ => MPI_ERR_IO,
        },
    };
    MpiError::new(class, format!("{}: {e}", path.display()))
}

/// Closes every file left open at MPI_Finalize (deleting those opened with
/// MPI_MODE_DELETE_ON_CLOSE).
pub fn close_all() {
    for (_, f) in FILES.clear() {
        if f.amode & MPI_MODE_DELETE_ON_CLOSE != 0 {
            let _ = std::fs::remove_file(&f.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_file_classes() {
        let p = std::path::Path::new("/x");
        let nf = std::io::Error::from(ErrorKind::NotFound);
        assert_eq!(io_error(&nf, p).class, MPI_ERR_NO_SUCH_FILE);
        let ex = std::io::Error::from(ErrorKind::AlreadyExists);
        assert_eq!(io_error(&ex, p).class, MPI_ERR_FILE_EXISTS);
        let sp = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(io_error(&sp, p).class, MPI_ERR_NO_SPACE);
        assert!(io_error(&nf, p).msg.starts_with("/x: "));
    }
}
