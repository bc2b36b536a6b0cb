//! Handing memory that is free again back to the operating system: what
//! libtorch frees between forward passes stays in glibc's arenas otherwise.

/// Resident memory of this process in bytes (Linux: /proc/self/statm), if known.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// Returns the heap's free pages to the operating system once the process
/// holds more than `budget` bytes. Trimming after every tile would hand back
/// the pages the next tile's forward pass needs again, each one a page fault
/// (detect on the shipped model ran about 10% slower so); held under a
/// budget, they are reused.
pub fn release_free_memory_over(budget: u64) {
    if resident_bytes().is_none_or(|r| r > budget) {
        release_free_memory();
    }
}

/// Returns the heap's free pages to the operating system. A heatmap
/// network's forward pass allocates and frees hundreds of megabytes per
/// tile, and glibc keeps what is freed in its arenas, fragmented: without
/// this, resident memory creeps up over a long raster instead of staying at
/// one tile's worth.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn resident_memory_is_read() {
        let before = resident_bytes().expect("/proc/self/statm");
        // A test binary holds at least its own code.
        assert!(before > 1 << 20, "{before}");
        release_free_memory_over(0);
        release_free_memory_over(u64::MAX);
    }
}
