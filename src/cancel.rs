//! Interruption (Ctrl-C): the flag a run checks before it starts each request.
//!
//! Owns: whether the user asked to stop. Must not: install signal handlers (the application
//! does, at the edge) or stop requests already in flight — those finish, so no object is left
//! half-written and the report stays true.

use std::sync::atomic::{AtomicBool, Ordering};

/// Why an action did not run after an interruption.
pub const INTERRUPTED: &str = "interrupted (Ctrl-C) before it started";

/// Set once the user asked to stop.
#[derive(Debug, Default)]
pub struct Cancel {
    flag: AtomicBool,
}

impl Cancel {
    /// Asks the run to stop scheduling requests.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether the run was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}
