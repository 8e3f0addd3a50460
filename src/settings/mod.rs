//! Everything validated before the first request: the destination URL, the rules file, the
//! exclusion filters, and `explain` (what the rules give a path).
//!
//! Owns: turning command-line values and the rules file into checked settings; every error here
//! is a usage error (exit 2). Must not: touch a store, walk the site, or print.

pub mod explain;
pub mod filter;
pub mod rules;
pub mod url;
