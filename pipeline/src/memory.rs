//! Handing memory that is free again back to the operating system.

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
