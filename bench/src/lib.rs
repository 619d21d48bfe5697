//! What the benchmarks share: the machine's description, CPU use from `/proc` and percentiles.
//! Used by `bench-serve` (`src/serve.rs`), `bench-desk` (`src/desk/`) and `bench-field` (`src/field.rs`);
//! `http` serves the whole product in the benchmark's process and logs clients in.

pub mod http;
pub mod stats;
pub mod sys;
