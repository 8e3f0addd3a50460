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

/// Prints records as they happen (text mode), with a progress bar on a terminal.
pub struct Printer {
    format: Format,
    quiet: bool,
    verbose: bool,
    bar: std::sync::OnceLock<ProgressBar>,
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
            ci: Ci::default(),
        }
    }

    /// The printer, also telling `ci` what it wants (annotations, a step summary).
    pub fn with_ci(self, ci: Ci) -> Printer {
        Printer { ci, ..self }
    }

    /// Starts the progress bar for `total` actions (`None`: not known in advance, a counter),
    /// when one is wanted.
    pub fn start_progress(&self, total: Option<u64>) {
        if self.format != Format::Text
            || self.quiet
            || !std::io::stderr().is_terminal()
            || total.is_some_and(|t| t < 2)
        {
            return;
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let template = match total {
            Some(_) => "{bar:30} {pos}/{len} {wide_msg}",
            None => "{spinner} {human_pos} objects, {per_sec} {wide_msg}",
        };
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let _ = self.bar.set(bar);
    }

    /// Shows one finished (or planned) action.
    pub fn record(&self, r: &Record) {
        if let Some(bar) = self.bar.get() {
            bar.inc(1);
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
