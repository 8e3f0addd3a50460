//! How many requests s3site has in flight at once, lowered when the store says SlowDown.
//!
//! Owns: an additive-increase, multiplicative-decrease limit on requests in flight — halved on
//! each throttled request, raised by one after a limit's worth of requests that were not — and
//! the waiting for a free place. Must not: retry anything (that is `patiently`) or know which
//! request it admits.

use std::sync::Mutex;
use tokio::sync::Notify;

/// The in-flight limit.
#[derive(Debug)]
pub(crate) struct Gate {
    state: Mutex<State>,
    freed: Notify,
}

#[derive(Debug)]
struct State {
    /// The most in flight ever allowed (the run's `--concurrency`).
    max: usize,
    /// In flight allowed now.
    limit: usize,
    in_flight: usize,
    /// Unthrottled requests since the limit last changed.
    calm: usize,
}

/// A place in flight; frees it when dropped.
pub(crate) struct Pass<'a>(&'a Gate);

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
        self.0.freed.notify_waiters();
    }
}

impl Gate {
    /// A gate admitting up to `max` at once.
    pub(crate) fn new(max: usize) -> Gate {
        let max = max.max(1);
        Gate {
            state: Mutex::new(State {
                max,
                limit: max,
                in_flight: 0,
                calm: 0,
            }),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the most in flight (the run's concurrency), and the limit with it.
    pub(crate) fn set_max(&self, max: usize) {
        let mut s = self.lock();
        s.max = max.max(1);
        s.limit = s.max;
        drop(s);
        self.freed.notify_waiters();
    }

    /// Waits for a place in flight.
    pub(crate) async fn enter(&self) -> Pass<'_> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut s = self.lock();
                if s.in_flight < s.limit {
                    s.in_flight += 1;
                    return Pass(self);
                }
            }
            freed.await;
        }
    }

    /// The store throttled a request: halve the limit. Returns the new limit when it changed.
    pub(crate) fn throttled(&self) -> Option<usize> {
        let mut s = self.lock();
        s.calm = 0;
        let before = s.limit;
        s.limit = (s.limit / 2).max(1);
        (s.limit != before).then_some(s.limit)
    }

    /// A request went through unthrottled: after a limit's worth of them, allow one more.
    pub(crate) fn calm(&self) {
        let mut s = self.lock();
        if s.limit >= s.max {
            return;
        }
        s.calm += 1;
        if s.calm >= s.limit {
            s.calm = 0;
            s.limit += 1;
            drop(s);
            self.freed.notify_waiters();
        }
    }

    /// In flight allowed now.
    #[cfg(test)]
    pub(crate) fn limit(&self) -> usize {
        self.lock().limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halves_on_throttling_and_grows_back_slowly() {
        let g = Gate::new(16);
        assert_eq!(g.throttled(), Some(8));
        assert_eq!(g.throttled(), Some(4));
        assert_eq!(g.limit(), 4);
        for _ in 0..4 {
            g.calm();
        }
        assert_eq!(g.limit(), 5);
        for _ in 0..4 {
            g.throttled();
        }
        assert_eq!(g.limit(), 1);
        assert_eq!(g.throttled(), None);
    }

    #[tokio::test]
    async fn admits_no_more_than_the_limit() {
        let g = std::sync::Arc::new(Gate::new(2));
        let a = g.enter().await;
        let _b = g.enter().await;
        let waiting = {
            let g = g.clone();
            tokio::spawn(async move {
                let _c = g.enter().await;
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "a third waits");
        drop(a);
        tokio::time::timeout(std::time::Duration::from_secs(1), waiting)
            .await
            .expect("admitted once a place is free")
            .expect("task");
    }
}
