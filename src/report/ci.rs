//! What a run tells a CI system besides its output: under GitHub Actions, an `::error::`
//! annotation per failed action and a Markdown summary appended to `$GITHUB_STEP_SUMMARY`.
//!
//! Owns: the text of both (pure) and where they go. Must not: read the environment (the
//! application says which CI it runs under) or decide anything.

use super::{Command, Outcome, Record, Report, human_bytes};

/// What the CI wants to be told.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ci {
    /// Print `::error::` workflow commands for failures (`GITHUB_ACTIONS=true`).
    pub annotations: bool,
    /// Append a Markdown summary to this file (`GITHUB_STEP_SUMMARY`).
    pub step_summary: Option<std::path::PathBuf>,
}

/// Escapes the message of a workflow command (`%`, CR and LF).
fn escape(v: &str) -> String {
    v.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The `::error::` line of a failed record, or `None`.
pub fn annotation(r: &Record) -> Option<String> {
    let Outcome::Failed(e) = &r.outcome else {
        return None;
    };
    Some(format!(
        "::error title=s3site {}::{}",
        r.action.verb(),
        escape(&format!("{} {}: {e}", r.action.verb(), r.key))
    ))
}

/// The Markdown summary of a run: a heading, the totals as a table, the invalidations, where
/// to go on, and the first failures.
pub fn step_summary(report: &Report) -> String {
    const SHOWN: usize = 20;
    let t = report.totals();
    let what = match report.command {
        Command::Repair => "repair",
        Command::Sync => "sync",
    };
    let dry = if report.dry_run { " (dry run)" } else { "" };
    let mut s = format!(
        "### s3site {what} s3://{}/{}{dry}\n\n| uploaded | bytes | unchanged | deleted | \
         repaired | skipped | failed | time |\n|---|---|---|---|---|---|---|---|\n| {} | {} | \
         {} | {} | {} | {} | {} | {:.1} s |\n\n",
        report.bucket,
        report.prefix,
        t.uploaded,
        human_bytes(t.uploaded_bytes),
        t.unchanged,
        t.deleted,
        t.repaired,
        t.skipped,
        t.failed,
        t.seconds,
    );
    for inv in &report.invalidations {
        s.push_str(&format!(
            "- CloudFront {}: {} path(s), {}{}\n",
            inv.distribution,
            inv.paths.len(),
            inv.id.as_deref().unwrap_or("no id"),
            inv.error
                .as_deref()
                .map(|e| format!(", failed: {e}"))
                .unwrap_or_else(|| format!(", {}", inv.status))
        ));
    }
    if let Some(hint) = report.resume_hint() {
        s.push_str(&format!("- {hint}\n"));
    }
    if let Some(why) = &report.halted {
        s.push_str(&format!("- stopped: {why}\n"));
    }
    let failed: Vec<&Record> = report
        .records
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .collect();
    if !failed.is_empty() {
        s.push_str("\n**Failed**\n\n");
        for r in failed.iter().take(SHOWN) {
            if let Outcome::Failed(e) = &r.outcome {
                s.push_str(&format!("- `{}` {}: {e}\n", r.key, r.action.verb()));
            }
        }
        if failed.len() > SHOWN {
            s.push_str(&format!("- and {} more\n", failed.len() - SHOWN));
        }
    }
    s.push('\n');
    s
}

/// Appends the summary of `report` to `path`; a file that cannot be written is said on stderr
/// and does not fail the run.
pub fn append_summary(path: &std::path::Path, report: &Report) {
    use std::io::Write as _;
    let done = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut f| f.write_all(step_summary(report).as_bytes()));
    if let Err(e) = done {
        super::output::err_line(&format!(
            "s3site: warning: cannot write the step summary {}: {e}",
            path.display()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Action, Reason};

    #[test]
    fn a_failure_is_one_escaped_annotation_and_a_line_of_the_summary() {
        let failed = Record::new(
            "a%b.css",
            Action::Upload,
            Reason::Unchanged,
            Outcome::Failed("denied\nfor good".into()),
        );
        assert_eq!(
            annotation(&failed).as_deref(),
            Some("::error title=s3site upload::upload a%25b.css: denied%0Afor good")
        );
        let ok = Record::new("b.css", Action::Upload, Reason::Unchanged, Outcome::Ok);
        assert_eq!(annotation(&ok), None);
        let report = Report {
            bucket: "b".into(),
            prefix: "site/".into(),
            records: vec![failed, ok],
            ..Report::default()
        };
        let md = step_summary(&report);
        assert!(md.starts_with("### s3site sync s3://b/site/\n"), "{md}");
        assert!(md.contains("| 1 | 0 B | 0 | 0 | 0 | 0 | 1 |"), "{md}");
        assert!(md.contains("- `a%b.css` upload: denied"), "{md}");
    }
}
