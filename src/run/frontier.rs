//! Where a streamed run can resume: the last key before which every key handed out is done.
//!
//! Owns: matching completions, which arrive in any order, to the order keys were handed out,
//! holding only the ones that finished ahead of an earlier key (at most the requests in
//! flight). Must not: hold every key of the run.
//!
//! A key that failed or was not run stops the frontier for good: everything after it may be
//! done, but a rerun from the frontier repeats it, and nothing is ever skipped that was not done.

use std::collections::BTreeMap;

/// The resume point of a run, advanced as keys finish.
#[derive(Debug, Default)]
pub struct Frontier {
    /// The sequence number of the next key handed out.
    issued: u64,
    /// The first key not yet known to be done.
    next: u64,
    /// Keys done ahead of `next`: sequence number → (key, done).
    ahead: BTreeMap<u64, (String, bool)>,
    /// The last key through which everything is done.
    through: Option<String>,
    /// A key before the frontier failed: it moves no more.
    stuck: bool,
}

impl Frontier {
    /// A frontier that starts after `after` (`--start-after`), or at the beginning.
    pub fn after(after: Option<String>) -> Frontier {
        Frontier {
            through: after,
            ..Frontier::default()
        }
    }

    /// Numbers the next key handed out.
    pub fn issue(&mut self) -> u64 {
        self.issued += 1;
        self.issued - 1
    }

    /// How many keys were handed out.
    pub fn issued(&self) -> u64 {
        self.issued
    }

    /// Says key number `seq` finished: `done` when nothing about it needs doing again.
    pub fn finish(&mut self, seq: u64, key: &str, done: bool) {
        if self.stuck {
            return;
        }
        self.ahead.insert(seq, (key.to_string(), done));
        while let Some((key, done)) = self.ahead.remove(&self.next) {
            if !done {
                self.stuck = true;
                self.ahead.clear();
                return;
            }
            self.through = Some(key);
            self.next += 1;
        }
    }

    /// The last key through which every key is done (`None`: none yet, from the beginning).
    pub fn through(&self) -> Option<&str> {
        self.through.as_deref()
    }

    /// Whether every key handed out is done.
    pub fn complete(&self) -> bool {
        !self.stuck && self.next == self.issued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_over_keys_done_in_order_only() {
        let mut f = Frontier::after(Some("a".into()));
        let (b, c, d) = (f.issue(), f.issue(), f.issue());
        f.finish(c, "c", true);
        assert_eq!(f.through(), Some("a"));
        f.finish(b, "b", true);
        assert_eq!(f.through(), Some("c"));
        assert!(!f.complete());
        f.finish(d, "d", true);
        assert_eq!(f.through(), Some("d"));
        assert!(f.complete());
    }

    #[test]
    fn a_failure_stops_it_for_good() {
        let mut f = Frontier::after(None);
        let (a, b, c) = (f.issue(), f.issue(), f.issue());
        f.finish(a, "a", true);
        f.finish(b, "b", false);
        f.finish(c, "c", true);
        assert_eq!(f.through(), Some("a"));
        assert!(!f.complete());
    }
}
