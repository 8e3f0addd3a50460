//! s3site's integration tests: one binary, run against real S3-compatible servers on loopback
//! (started by scripts/s3-server.sh; see scripts/test.sh).

// A test that cannot unwrap has failed; that is what a panic in a test is for.
#![allow(clippy::unwrap_used)]

mod util;

mod architecture;
mod bad_input;
mod batch;
mod cloudfront;
mod faults;
mod generated;
mod placement;
mod reliability;
mod repair;
mod rules;
mod scale;
mod security;
mod sync;
mod tls;
mod website;
