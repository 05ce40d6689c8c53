//! This host's name and identity: processes with the same identity share memory
//! (`MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)`).

/// The host name (`MPI_Get_processor_name`).
pub fn name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// A number equal on the processes of one host (one kernel, one network namespace's host
/// name) and different, with high probability, across hosts: a hash of the host name and the
/// kernel's boot id.
pub fn identity() -> u64 {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    // FNV-1a: stable across processes and builds (std's hasher is randomly keyed).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name().bytes().chain([0]).chain(boot.trim().bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}
