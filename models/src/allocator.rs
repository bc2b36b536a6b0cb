//! glibc's allocator set for libtorch's allocation pattern.

use std::sync::Once;

/// Blocks up to this size come from the heap rather than their own mapping.
/// The most glibc's adaptive threshold would ever rise to, set from the start.
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Free memory at the top of the heap kept for the next batch, not returned:
/// twice the above, as glibc would pair them.
const TRIM_THRESHOLD: i32 = 64 << 20;

/// Keeps freed tensor memory in the process for the next batch. Every
/// forward pass allocates and frees the same activations; with glibc's
/// defaults, whose thresholds adapt only slowly and stay low for a few-MB
/// activation, the freed pages go back to the kernel and come back as page
/// faults, which on a small network took over a third of the CPU time
/// (googlenet-small on 64 px patches ran 1.8 times faster with this, the
/// shipped heatmap network 1.2 times).
/// Blocks over 32 MB (a heatmap network's large-tile activations) still get
/// their own mappings and are returned when freed, and the callers that
/// need memory back between tiles trim the heap themselves. Once per
/// process; a user's `MALLOC_MMAP_THRESHOLD_` or `MALLOC_TRIM_THRESHOLD_`
/// wins.
pub fn keep_freed_memory() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let user_set =
            ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"].iter().any(|v| std::env::var_os(v).is_some());
        if !user_set {
            set_thresholds();
        }
    });
}

/// Serves every allocation from the heap, none from a mapping of its own,
/// and keeps freed memory there, for a process that runs the same forward
/// pass tile after tile: a heatmap network's activations on a detection
/// tile are tens of megabytes each, over any mmap threshold, so each was
/// mapped, faulted in and zeroed by the kernel page by page, and unmapped
/// again when freed (3.2 million page faults in 5 s of the shipped network
/// on 864 px tiles, a third of its time). From the heap the next tile finds
/// them again: 1.3 times the pixels a second, and a smaller peak, since
/// blocks are reused rather than mapped beside ones not yet unmapped. The
/// caller hands memory back where the process grows past its budget
/// ([`crate::memory::release_free_memory_over`]). Once per process; a
/// user's `MALLOC_MMAP_MAX_` or `MALLOC_TRIM_THRESHOLD_` wins.
pub fn reuse_working_set() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let user_set = ["MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_"].iter().any(|v| std::env::var_os(v).is_some());
        if !user_set {
            heap_only();
        }
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap_only() {
    // SAFETY: mallopt only sets glibc's tunables; zero mappings and a
    // trim threshold of i32::MAX are within their documented ranges.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

/// Other allocators manage their own memory.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_only() {}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_thresholds() {
    // SAFETY: mallopt only sets glibc's tunables; both values are within
    // their documented ranges.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

/// Other allocators manage their own thresholds.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_thresholds() {}
