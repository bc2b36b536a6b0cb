//! A request to stop, set from a signal handler and checked by long loops
//! (the detection stream, training) between units of work, so an
//! interrupted run leaves only whole outputs behind and can be resumed.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks running work to stop at its next checkpoint (safe in a signal handler).
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Forgets a stop that was asked for, so a process that goes on after an
/// interrupted run (a notebook) can start the next one.
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}
