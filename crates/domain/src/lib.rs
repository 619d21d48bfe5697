//! Pure business rules of shouhou. No I/O, no clock: time is always an argument.
#![forbid(unsafe_code)]

/// Serialize a newtype as its string; deserialize by parsing, so bad stored data is refused.
macro_rules! string_newtype_serde {
    ($name:ident, $field:literal) => {
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                $name::parse($field, &s).map_err(|e| serde::de::Error::custom(e.code))
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod complaints;
pub mod customers;
pub mod devices;
pub mod dispatch;
pub mod entitlement;
pub mod error;
pub mod ids;
pub mod lifecycle;
pub mod locale;
pub mod mask;
pub mod part_applications;
pub mod parts;
pub mod portal;
pub mod recalls;
pub mod regions;
pub mod requests;
pub mod return_visits;
pub mod returns;
pub mod sla;
pub mod stations;
pub mod stocktakes;
pub mod suggestions;
pub mod text;
pub mod warehouses;
pub mod warranty_cards;
pub mod work_orders;

pub use error::{FieldError, ValidationErrors};
