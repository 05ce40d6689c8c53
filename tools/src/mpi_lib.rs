//! Where fmirun finds libfmi's MPI library (`libmpi_abi.so.1`, the MPI 5.0 standard ABI) and how
//! it hands it to the programs it starts: its directory first on `LD_LIBRARY_PATH` (a binary
//! built with `mpicc_abi`/`fmicc`, or mpi4py built for the ABI, loads it by its SONAME) and
//! `MPI4PY_LIBMPI` naming the file (mpi4py's own switch for builds that pick their library at
//! run time), unless the user set it.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The library's file name (its SONAME).
pub const SONAME: &str = "libmpi_abi.so.1";

/// The `libmpi_abi.so.1` that belongs with the executable at `exe`: beside it (a cargo target
/// directory) or in the installed prefix's library directory (`<prefix>/bin/fmirun` with
/// `<prefix>/lib`, `lib64` or `lib/<multiarch>`). `None` when there is none.
pub fn beside(exe: &Path) -> Option<PathBuf> {
    let bin = exe.parent()?;
    let mut dirs = vec![bin.to_path_buf()];
    if let Some(prefix) = bin.parent() {
        dirs.push(prefix.join("lib"));
        dirs.push(prefix.join("lib64"));
        if let Ok(entries) = std::fs::read_dir(prefix.join("lib")) {
            let mut multiarch: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(OsStr::to_str)
                        .is_some_and(|n| n.ends_with("-linux-gnu"))
                })
                .collect();
            multiarch.sort();
            dirs.extend(multiarch);
        }
    }
    dirs.into_iter()
        .map(|d| d.join(SONAME))
        .find(|f| f.exists())
}

/// The environment a program gets to run on the library `lib`: `(name, value)` pairs to set,
/// given the current `LD_LIBRARY_PATH` and `MPI4PY_LIBMPI`.
pub fn environment(
    lib: &Path,
    ld_library_path: Option<&OsStr>,
    mpi4py_libmpi: Option<&OsStr>,
) -> Vec<(&'static str, OsString)> {
    let mut out = Vec::new();
    if let Some(dir) = lib.parent() {
        let mut path = OsString::from(dir);
        if let Some(old) = ld_library_path.filter(|p| !p.is_empty()) {
            path.push(":");
            path.push(old);
        }
        out.push(("LD_LIBRARY_PATH", path));
    }
    if mpi4py_libmpi.is_none_or(OsStr::is_empty) {
        out.push(("MPI4PY_LIBMPI", lib.as_os_str().to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fmi-mpilib-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    }

    #[test]
    fn found_beside_the_executable_or_in_the_prefix() {
        let t = scratch("beside");
        std::fs::write(t.join(SONAME), b"x").unwrap();
        assert_eq!(beside(&t.join("fmirun")), Some(t.join(SONAME)));

        let p = scratch("prefix");
        std::fs::create_dir_all(p.join("bin")).unwrap();
        assert_eq!(beside(&p.join("bin/fmirun")), None);
        std::fs::create_dir_all(p.join("lib/x86_64-linux-gnu")).unwrap();
        std::fs::write(p.join("lib/x86_64-linux-gnu").join(SONAME), b"x").unwrap();
        assert_eq!(
            beside(&p.join("bin/fmirun")),
            Some(p.join("lib/x86_64-linux-gnu").join(SONAME))
        );
        std::fs::write(p.join("lib").join(SONAME), b"x").unwrap();
        assert_eq!(
            beside(&p.join("bin/fmirun")),
            Some(p.join("lib").join(SONAME))
        );
        let _ = std::fs::remove_dir_all(t);
        let _ = std::fs::remove_dir_all(p);
    }

    #[test]
    fn directory_goes_first_and_a_users_mpi4py_choice_stays() {
        let lib = Path::new("/p/lib/libmpi_abi.so.1");
        let env = environment(lib, Some(OsStr::new("/a:/b")), None);
        assert_eq!(
            env,
            [
                ("LD_LIBRARY_PATH", OsString::from("/p/lib:/a:/b")),
                ("MPI4PY_LIBMPI", OsString::from("/p/lib/libmpi_abi.so.1")),
            ]
        );
        let env = environment(lib, Some(OsStr::new("")), Some(OsStr::new("/mine.so")));
        assert_eq!(env, [("LD_LIBRARY_PATH", OsString::from("/p/lib"))]);
    }
}
