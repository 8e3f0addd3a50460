//! Showing a run as it happens: a line per action (text mode), a progress bar on a terminal,
//! and at the end the summary or the JSON document.
//!
//! Owns: the text lines and where each goes (stdout, or stderr for failures). Must not: decide
//! anything; everything shown comes from records and the report.

use super::ci::Ci;
use super::{Action, Invalidation, Outcome, Record, Report};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// How the run talks to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Lines for people.
    Text,
    /// One JSON document at the end, nothing else on stdout.
    Json,
    /// One JSON line per record as it happens, then one with the totals.
    Ndjson,
}

/// What a sync's plan will do, for the progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Planned {
    /// Actions, unchanged files included.
    pub actions: u64,
    /// Bytes the uploads will send.
    pub upload_bytes: u64,
}

/// Prints records as they happen (text mode), with a progress bar on a terminal.
pub struct Printer {
    format: Format,
    quiet: bool,
    verbose: bool,
    bar: std::sync::OnceLock<ProgressBar>,
    /// Whether the bar counts bytes sent (a sync with uploads) rather than actions.
    by_bytes: std::sync::atomic::AtomicBool,
    /// Actions shown so far, and how many there are (for the bar's message in bytes mode).
    done: std::sync::atomic::AtomicU64,
    actions: std::sync::atomic::AtomicU64,
    ci: Ci,
}

impl Printer {
    /// A printer; the progress bar only appears on a terminal, in text mode, without `-q`.
    pub fn new(format: Format, quiet: bool, verbose: bool) -> Printer {
        Printer {
            format,
            quiet,
            verbose,
            bar: std::sync::OnceLock::new(),
            by_bytes: std::sync::atomic::AtomicBool::new(false),
            done: std::sync::atomic::AtomicU64::new(0),
            actions: std::sync::atomic::AtomicU64::new(0),
            ci: Ci::default(),
        }
    }

    /// The printer, also telling `ci` what it wants (annotations, a step summary).
    pub fn with_ci(self, ci: Ci) -> Printer {
        Printer { ci, ..self }
    }

    /// Whether a progress bar is shown: on a terminal, in text mode, without `-q`.
    fn wants_bar(&self) -> bool {
        self.format == Format::Text && !self.quiet && std::io::stderr().is_terminal()
    }

    /// The bar, made (hidden until styled) when one is wanted.
    fn bar(&self) -> Option<&ProgressBar> {
        if !self.wants_bar() {
            return None;
        }
        Some(
            self.bar
                .get_or_init(|| ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())),
        )
    }

    /// Shows what the run is doing before its actions are known (`hashing and listing`).
    pub fn phase(&self, what: &str) {
        if let Some(bar) = self.bar() {
            bar.set_style(style("{spinner} {prefix} {elapsed} {wide_msg}"));
            bar.set_prefix(what.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
    }

    /// Starts the progress bar for `total` actions (`None`: not known in advance, a counter),
    /// when one is wanted.
    pub fn start_progress(&self, total: Option<u64>) {
        if total.is_some_and(|t| t < 2) {
            if let Some(bar) = self.bar.get() {
                bar.finish_and_clear();
            }
            return;
        }
        if let Some(bar) = self.bar() {
            match total {
                Some(t) => bar.set_length(t),
                None => bar.unset_length(),
            }
            bar.set_position(0);
            bar.set_style(style(match total {
                Some(_) => "{bar:30} {pos}/{len} {wide_msg}",
                None => "{spinner} {human_pos} objects, {per_sec} {wide_msg}",
            }));
        }
    }

    /// Starts a sync's bar: bytes sent, rate and time left while it uploads (as rclone `-P`
    /// does), then the deletes; by actions when nothing is uploaded.
    pub fn start_sync(&self, planned: Planned) {
        use std::sync::atomic::Ordering::Relaxed;
        if planned.upload_bytes == 0 {
            return self.start_progress(Some(planned.actions));
        }
        self.actions.store(planned.actions, Relaxed);
        self.by_bytes.store(true, Relaxed);
        if let Some(bar) = self.bar() {
            bar.set_style(style(
                "{prefix} {bar:20} {msg} {binary_bytes}/{binary_total_bytes} \
                 {binary_bytes_per_sec} ETA {eta}",
            ));
            bar.set_message(format!("0/{} files", planned.actions));
            bar.set_prefix("uploading");
            bar.set_length(planned.upload_bytes);
            bar.set_position(0);
        }
    }

    /// Shows one finished (or planned) action.
    pub fn record(&self, r: &Record) {
        if let Some(bar) = self.bar.get() {
            use std::sync::atomic::Ordering::Relaxed;
            if self.by_bytes.load(Relaxed) {
                let done = self.done.fetch_add(1, Relaxed) + 1;
                if r.action == Action::Upload {
                    bar.inc(r.bytes);
                } else if r.action == Action::Delete {
                    bar.set_prefix("deleting");
                }
                bar.set_message(format!("{done}/{} files", self.actions.load(Relaxed)));
            } else {
                bar.inc(1);
            }
        }
        if self.ci.annotations
            && let Some(a) = super::ci::annotation(r)
        {
            self.eprint(&a);
        }
        if self.format == Format::Ndjson {
            crate::report::output::line(&r.to_json().to_string());
        }
        if self.format != Format::Text {
            return;
        }
        let line = match r.action {
            Action::Unchanged => format!("{} {}", r.action.verb(), r.key),
            _ => format!("{} {} ({})", r.action.verb(), r.key, r.reason_text()),
        };
        match &r.outcome {
            Outcome::Failed(e) => self.eprint(&format!("FAILED {line}: {e}")),
            Outcome::NotRun(why) if !self.quiet => self.print(&format!("not run: {line}: {why}")),
            // An object left as it is and skipped: the key and why ("unchanged" would mislead).
            Outcome::Skipped(why) if !self.quiet && r.action == Action::Unchanged => {
                self.print(&format!("skipped: {}: {why}", r.key))
            }
            Outcome::Skipped(why) if !self.quiet => self.print(&format!("skipped: {line}: {why}")),
            _ if self.quiet => {}
            _ if r.action == Action::Unchanged && !self.verbose => {}
            _ => match &r.remains {
                Some(still) => self.print(&format!("{line}; still to do: {still}")),
                None => self.print(&line),
            },
        }
    }

    /// Ends the run: the summary line, or the JSON document.
    pub fn finish(&self, report: &Report) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
        if let Some(path) = &self.ci.step_summary {
            super::ci::append_summary(path, report);
        }
        match self.format {
            Format::Json => {
                let doc = serde_json::to_string_pretty(&report.to_json()).unwrap_or_default();
                crate::report::output::line(&doc);
            }
            Format::Ndjson => crate::report::output::line(&report.end_json().to_string()),
            Format::Text => {
                if let Some(why) = &report.delete_blocked {
                    self.eprint(&format!("not deleting anything: {why}"));
                }
                for inv in &report.invalidations {
                    self.invalidation(inv);
                }
                if self.quiet
                    && let Some(hint) = report.resume_hint()
                {
                    // Even with -q: without it the work done is lost to the next run.
                    self.eprint(&format!("s3site: {hint}"));
                }
                if !self.quiet {
                    self.print(&report.summary());
                    for note in &report.notes {
                        self.print(&format!("note: {note}"));
                    }
                }
                if let Some(why) = &report.halted {
                    self.eprint(&format!("s3site: error: stopped: {why}"));
                }
            }
        }
    }

    /// The lines of one invalidation: each path in a dry run (or with `-v`), then what became
    /// of it; a failure on stderr, with the paths left cached.
    fn invalidation(&self, inv: &Invalidation) {
        if inv.error.is_none() && (inv.id.is_none() || self.verbose) && !self.quiet {
            for p in &inv.paths {
                self.print(&format!("invalidate {p}"));
            }
        }
        match (&inv.error, &inv.id) {
            (Some(e), _) => self.eprint(&format!(
                "FAILED invalidating {} path(s) on CloudFront distribution {}: {e}; the content is \
                 live, but the edge may serve the old version of: {}",
                inv.paths.len(),
                inv.distribution,
                inv.paths.join(" ")
            )),
            (None, Some(id)) if !self.quiet => self.print(&format!(
                "invalidated {} path(s) on CloudFront distribution {} ({id}): {}",
                inv.paths.len(),
                inv.distribution,
                inv.status
            )),
            _ => {}
        }
    }

    fn print(&self, line: &str) {
        match self.bar.get() {
            Some(bar) => bar.suspend(|| crate::report::output::line(line)),
            None => crate::report::output::line(line),
        }
    }

    fn eprint(&self, line: &str) {
        match self.bar.get() {
            Some(bar) => bar.suspend(|| crate::report::output::err_line(line)),
            None => crate::report::output::err_line(line),
        }
    }
}

/// A bar style from a template (the default bar if the template were wrong).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}
