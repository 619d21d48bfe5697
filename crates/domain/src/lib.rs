//! Pure business rules of shouhou. No I/O, no clock: time is always an argument.
#![forbid(unsafe_code)]

pub mod attachment;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod customer;
pub mod error;
pub mod ids;
pub mod locale;
pub mod mask;
pub mod org;
pub mod region;
pub mod request;
pub mod sla;

pub use error::{FieldError, ValidationErrors};
