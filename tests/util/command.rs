//! `TestCommand`: one run of the built s3site binary, assembled step by step (as ripgrep's and
//! fd's tests do), with a clean environment, the test server's endpoint and path style appended,
//! and stdout and stderr framed in every failure message.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The s3site binary, about to run.
pub struct TestCommand {
    cmd: Command,
    /// Appended as `--endpoint-url URL --path-style` when the command runs.
    endpoint: Option<String>,
    /// The arguments, for messages.
    shown: Vec<OsString>,
}

impl TestCommand {
    /// s3site with a clean environment: test credentials, HOME (and the working directory) at
    /// `home`, no AWS config files, no instance-metadata lookups (tests never leave loopback).
    pub fn new(home: &Path) -> TestCommand {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_s3site"));
        // Run in HOME, so no s3site.toml of the working tree is ever picked up.
        cmd.current_dir(home)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("AWS_ACCESS_KEY_ID", super::ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", super::SECRET_KEY)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", home.join("no-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"));
        TestCommand {
            cmd,
            endpoint: None,
            shown: Vec::new(),
        }
    }

    /// Sends requests to `endpoint` (`--endpoint-url` and `--path-style` are appended last).
    pub fn endpoint(mut self, endpoint: &str) -> TestCommand {
        self.endpoint = Some(endpoint.to_string());
        self
    }

    /// Appends no endpoint (the environment or nothing names one).
    pub fn no_endpoint(mut self) -> TestCommand {
        self.endpoint = None;
        self
    }

    /// One more argument.
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> TestCommand {
        self.shown.push(a.as_ref().to_os_string());
        self.cmd.arg(a);
        self
    }

    /// More arguments.
    pub fn args<A: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = A>) -> TestCommand {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> TestCommand {
        self.cmd.env(k, v);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(mut self, k: &str) -> TestCommand {
        self.cmd.env_remove(k);
        self
    }

    /// The command line, for messages.
    fn line(&self) -> String {
        let mut parts = vec!["s3site".to_string()];
        parts.extend(self.shown.iter().map(|a| a.to_string_lossy().into_owned()));
        parts.join(" ")
    }

    fn finish(&mut self) -> &mut Command {
        if let Some(e) = self.endpoint.take() {
            self.shown.extend([
                "--endpoint-url".into(),
                e.clone().into(),
                "--path-style".into(),
            ]);
            self.cmd.args(["--endpoint-url", &e, "--path-style"]);
        }
        &mut self.cmd
    }

    /// Runs it to the end; asserts nothing.
    pub fn output(mut self) -> Output {
        let line = self.line();
        self.finish()
            .output()
            .unwrap_or_else(|e| panic!("cannot run {line}: {e}"))
    }

    /// Runs it to the end and asserts the exit code, showing the command line, stdout and
    /// stderr when it differs.
    #[track_caller]
    pub fn expect(mut self, code: i32) -> Output {
        self.finish();
        let line = self.line();
        let out = self
            .cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {line}: {e}"));
        if out.status.code() != Some(code) {
            panic!(
                "exit code {:?}, expected {code}\n{}",
                out.status.code(),
                framed(&line, &out)
            );
        }
        out
    }

    /// The command as `std::process::Command`, endpoint appended (to wrap it in another).
    pub fn into_command(mut self) -> Command {
        self.finish();
        self.cmd
    }

    /// Starts it with stdout and stderr piped, for a test that acts while it runs.
    pub fn spawn(mut self) -> Child {
        let line = self.line();
        self.finish()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {line}: {e}"))
    }
}

/// A run's command line, stdout and stderr, each under a header, for a failure message.
pub fn framed(line: &str, out: &Output) -> String {
    format!(
        "--- command\n{line}\n--- stdout\n{}\n--- stderr\n{}\n---",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
