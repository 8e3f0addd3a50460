//! How a run ends: the documented exit codes, and the signal that interrupted it, if one did.
//!
//! Owns: every exit code s3site returns and how two outcomes combine into one. Must not: decide
//! what failed (the report and the errors say) or exit the process (the binary does).

/// The process exit code of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitCode {
    /// Everything went as planned.
    Ok,
    /// Some operation failed at run time; the summary says which. Nothing was deleted.
    Failed,
    /// Bad usage, configuration or input, detected before any write, or a refusal every
    /// further request would meet too (access denied, expired credentials).
    Usage,
    /// Interrupted by Ctrl-C (SIGINT): requests in flight finished, nothing else started.
    Interrupted,
    /// Stopped by SIGTERM (a CI cancel or timeout), handled like the first Ctrl-C.
    Terminated,
}

impl ExitCode {
    /// The number the process exits with: 0, 1, 2, 130 (128 + SIGINT) or 143 (128 + SIGTERM).
    pub fn code(self) -> u8 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::Failed => 1,
            ExitCode::Usage => 2,
            ExitCode::Interrupted => 130,
            ExitCode::Terminated => 143,
        }
    }

    /// The code of a run that ended both ways: a signal over a refusal over a failure over
    /// success; of two signals, the first (`self`).
    pub fn merge(self, other: ExitCode) -> ExitCode {
        match (self, other) {
            (ExitCode::Interrupted | ExitCode::Terminated, _) => self,
            _ => self.max(other),
        }
    }

    /// Whether this is success.
    pub fn is_ok(self) -> bool {
        self == ExitCode::Ok
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> std::process::ExitCode {
        std::process::ExitCode::from(code.code())
    }
}

impl serde::Serialize for ExitCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

/// The signal that interrupted a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Int,
    /// SIGTERM: what CI systems send on cancel and timeout.
    Term,
}

impl Signal {
    /// The exit code of a run it interrupted.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Signal::Int => ExitCode::Interrupted,
            Signal::Term => ExitCode::Terminated,
        }
    }

    /// `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_numbers() {
        let all = [
            ExitCode::Ok,
            ExitCode::Failed,
            ExitCode::Usage,
            ExitCode::Interrupted,
            ExitCode::Terminated,
        ];
        assert_eq!(all.map(ExitCode::code), [0, 1, 2, 130, 143]);
        assert_eq!(Signal::Int.exit_code().code(), 130);
        assert_eq!(Signal::Term.exit_code().code(), 143);
    }

    #[test]
    fn merge_keeps_the_worse_and_the_first_signal() {
        use ExitCode::*;
        for (a, b, want) in [
            (Ok, Ok, Ok),
            (Ok, Failed, Failed),
            (Failed, Ok, Failed),
            (Failed, Usage, Usage),
            (Usage, Failed, Usage),
            (Usage, Interrupted, Interrupted),
            (Interrupted, Usage, Interrupted),
            (Terminated, Interrupted, Terminated),
            (Interrupted, Terminated, Interrupted),
            (Ok, Terminated, Terminated),
        ] {
            assert_eq!(a.merge(b), want, "{a:?} + {b:?}");
        }
    }
}
