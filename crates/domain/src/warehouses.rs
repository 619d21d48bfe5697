//! Warehouses: the central one at headquarters and one per station.
use crate::ValidationErrors;
use crate::regions::RegionCode;
use crate::text::OrgCode;
use crate::text::required_text;

/// A warehouse: the central one at headquarters (no station) or one per station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarehouseInput {
    pub code: OrgCode,
    pub name: String,
    pub region: RegionCode,
    pub address: String,
}

impl WarehouseInput {
    pub fn parse(code: &str, name: &str, region_code: &str, address: &str) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let code = e.take(OrgCode::parse("code", code));
        let name = e.take(required_text("name", name, 100));
        let region = e.take(RegionCode::parse("region_code", region_code));
        let address = e.take(required_text("address", address, 200));
        match (code, name, region, address) {
            (Some(code), Some(name), Some(region), Some(address)) if e.is_empty() => {
                Ok(WarehouseInput { code, name, region, address })
            }
            _ => Err(e),
        }
    }
}
