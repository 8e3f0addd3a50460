//! Stopping a run early: Ctrl-C or SIGTERM, or a refusal that every further request would meet too (access
//! denied, bad credentials, the bucket gone). The flag a run checks before it starts each request.
//!
//! Owns: whether the run must stop, and why. Must not: install signal handlers (the application
//! does, at the edge) or stop requests already in flight — those finish, so no object is left
//! half-written and the report stays true.

pub use crate::report::exit::Signal;
use crate::store::StoreError;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Why an action did not run after an interruption.
pub const INTERRUPTED: &str = "interrupted (Ctrl-C) before it started";

/// Set once the run must stop starting requests.
#[derive(Debug, Default)]
pub struct Cancel {
    flag: AtomicBool,
    /// The first signal that interrupted the run, if one did.
    signal: Mutex<Option<Signal>>,
    /// Set when the run stops because the store refused a write for a reason every other
    /// request would meet too; `None` for Ctrl-C.
    halted: Mutex<Option<String>>,
}

impl Cancel {
    /// Asks the run to stop scheduling requests (Ctrl-C).
    pub fn cancel(&self) {
        self.interrupt(Signal::Int);
    }

    /// Asks the run to stop scheduling requests because of `signal` (the first one counts).
    pub fn interrupt(&self, signal: Signal) {
        self.signal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(signal);
        self.flag.store(true, Ordering::SeqCst);
    }

    /// The signal that interrupted the run, unless the store halted it first.
    pub fn signal(&self) -> Option<Signal> {
        if self.halted().is_some() {
            return None;
        }
        *self.signal.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the run was asked to stop, for any reason.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Stops the run if `err` is one every further request would meet too (access denied,
    /// credentials rejected, no such bucket); `what` says what was being done.
    pub fn halt_on(&self, err: &StoreError, what: &str) {
        if err.is_configuration() {
            let mut h = self.halted.lock().unwrap_or_else(|e| e.into_inner());
            h.get_or_insert_with(|| format!("{what}: {err}"));
            self.flag.store(true, Ordering::SeqCst);
        }
    }

    /// Why the run was halted by the store, if it was.
    pub fn halted(&self) -> Option<String> {
        self.halted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether a signal interrupted the run (as opposed to the store halting it).
    pub fn interrupted(&self) -> bool {
        self.signal().is_some()
    }

    /// Why an action was not started.
    pub fn reason(&self) -> String {
        match (self.halted(), self.signal()) {
            (Some(why), _) => format!("not tried after an earlier refusal ({why})"),
            (None, Some(Signal::Term)) => "interrupted (SIGTERM) before it started".to_string(),
            (None, _) => INTERRUPTED.to_string(),
        }
    }
}
