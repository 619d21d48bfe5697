//! What the benchmarks share: the machine's description, CPU use from `/proc` and percentiles.
//! Used by `bench-serve` (`src/serve.rs`) and `bench-desk` (`src/desk/`).

pub mod stats;
pub mod sys;
