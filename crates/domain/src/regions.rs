//! GB/T 2260 administrative division codes, shipped in the binary.
use crate::FieldError;
use std::collections::HashMap;
use std::sync::LazyLock;

static PROVINCES: &str = include_str!("../../../data/regions-cn/provinces.csv");
static CITIES: &str = include_str!("../../../data/regions-cn/cities.csv");
static AREAS: &str = include_str!("../../../data/regions-cn/areas.csv");

struct Table {
    /// Six-digit code → full name ("广东省 深圳市 南山区").
    names: HashMap<u32, String>,
}

fn rows(csv: &str) -> impl Iterator<Item = Vec<&str>> {
    csv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|c| c.trim().trim_matches('"')).collect())
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut province = HashMap::new();
    let mut names = HashMap::new();
    for r in rows(PROVINCES) {
        if let (Some(code), Some(name)) = (r.first().and_then(|c| c.parse::<u32>().ok()), r.get(1)) {
            province.insert(code, (*name).to_string());
            names.insert(code * 10_000, (*name).to_string());
        }
    }
    let mut city = HashMap::new();
    for r in rows(CITIES) {
        if let (Some(code), Some(name)) = (r.first().and_then(|c| c.parse::<u32>().ok()), r.get(1)) {
            let p = province.get(&(code / 100)).cloned().unwrap_or_default();
            // Municipalities' pseudo-city 市辖区 adds nothing to a name.
            let full = if *name == "市辖区" || name.contains("行政区划") { p } else { format!("{p} {name}") };
            city.insert(code, full.clone());
            names.insert(code * 100, full);
        }
    }
    for r in rows(AREAS) {
        if let (Some(code), Some(name)) = (r.first().and_then(|c| c.parse::<u32>().ok()), r.get(1)) {
            let c = city.get(&(code / 100)).cloned().unwrap_or_default();
            names.insert(code, format!("{c} {name}"));
        }
    }
    Table { names }
});

/// A six-digit GB/T 2260 code of a province (`440000`), city (`440300`) or district (`440305`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegionCode(u32);

impl RegionCode {
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "required"));
        }
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(field, "invalid_region"));
        }
        let code: u32 = s.parse().map_err(|_| FieldError::new(field, "invalid_region"))?;
        if TABLE.names.contains_key(&code) {
            Ok(RegionCode(code))
        } else {
            Err(FieldError::new(field, "unknown_region"))
        }
    }
    pub fn code(self) -> String {
        format!("{:06}", self.0)
    }
    /// Full Chinese name, e.g. "广东省 深圳市 南山区".
    pub fn name(self) -> &'static str {
        TABLE.names.get(&self.0).map(String::as_str).unwrap_or("")
    }
}

/// Name of a stored code, or the code itself when it is no longer in the table.
pub fn region_name(code: &str) -> String {
    code.parse::<u32>().ok().and_then(|c| TABLE.names.get(&c).cloned()).unwrap_or_else(|| code.to_string())
}

/// Every district, city and province whose name or code contains `q`; at most `limit`.
pub fn search(q: &str, limit: usize) -> Vec<(String, String)> {
    let q = q.trim();
    let mut out: Vec<(String, String)> = TABLE
        .names
        .iter()
        .filter(|(code, name)| !q.is_empty() && (name.contains(q) || format!("{code:06}").starts_with(q)))
        .map(|(c, n)| (format!("{c:06}"), n.clone()))
        .collect();
    out.sort();
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn districts_cities_and_provinces_are_known() {
        assert_eq!(RegionCode::parse("r", "440305").map(|r| r.name()), Ok("广东省 深圳市 南山区"));
        assert_eq!(RegionCode::parse("r", "110105").map(|r| r.name()), Ok("北京市 朝阳区"));
        assert!(RegionCode::parse("r", "441900").is_ok(), "东莞 has no districts: the city code stands");
        assert!(RegionCode::parse("r", "440000").is_ok());
    }
    #[test]
    fn bad_codes_are_refused_with_a_reason() {
        assert_eq!(RegionCode::parse("region_code", "44030"), Err(FieldError::new("region_code", "invalid_region")));
        assert_eq!(RegionCode::parse("region_code", "999999"), Err(FieldError::new("region_code", "unknown_region")));
        assert_eq!(RegionCode::parse("region_code", ""), Err(FieldError::new("region_code", "required")));
    }
    #[test]
    fn search_finds_by_name() {
        assert!(search("南山", 10).iter().any(|(c, _)| c == "440305"));
    }
}
