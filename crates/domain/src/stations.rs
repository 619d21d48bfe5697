//! Service stations: headquarters' branches and contracted providers.
use crate::ValidationErrors;
use crate::regions::RegionCode;
use crate::text::OrgCode;
use crate::text::optional_text;
use crate::text::required_text;

/// A service station as entered: validated, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationInput {
    pub code: OrgCode,
    pub name: String,
    pub region: RegionCode,
    pub address: String,
    pub phone: Option<String>,
}

impl StationInput {
    pub fn parse(
        code: &str,
        name: &str,
        region_code: &str,
        address: &str,
        phone: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let code = e.take(OrgCode::parse("code", code));
        let name = e.take(required_text("name", name, 100));
        let region = e.take(RegionCode::parse("region_code", region_code));
        let address = e.take(required_text("address", address, 200));
        let phone = e.take(optional_text("phone", phone, 30));
        match (code, name, region, address, phone) {
            (Some(code), Some(name), Some(region), Some(address), Some(phone)) if e.is_empty() => {
                Ok(StationInput { code, name, region, address, phone })
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_station_with_every_field_wrong_reports_every_field() {
        let Err(e) = StationInput::parse("", "", "12", "", None) else { panic!("accepted") };
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["code", "name", "region_code", "address"]);
    }
    #[test]
    fn a_good_station_parses() {
        let s = StationInput::parse("sz-ns01", "深圳南山服务站", "440305", "科技园南区 18 栋", Some("0755-26581234"));
        assert_eq!(s.map(|s| s.code.as_str().to_string()), Ok("SZ-NS01".into()));
    }
}
