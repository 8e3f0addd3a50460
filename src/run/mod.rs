//! The I/O a plan asks for: the sequence of a sync and a repair, with bounded concurrency, the
//! safe order of writes, and the stop flag that Ctrl-C, SIGTERM and fatal refusals set.
//!
//! Owns: the requests of a run and turning each result into a record. Must not: decide what to
//! do (that is `plan`) or print (records go to a callback).

pub mod cancel;
pub mod execute;
pub mod repair;
pub mod sync;
