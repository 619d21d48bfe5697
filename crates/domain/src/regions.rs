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
    /// Six-digit code of a province (0 for the country) or city → its divisions, in code order,
    /// with their own names ("南山区"; a municipality's pseudo-city 市辖区 is named after it).
    children: HashMap<u32, Vec<(u32, String)>>,
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
    let mut children: HashMap<u32, Vec<(u32, String)>> = HashMap::new();
    for r in rows(PROVINCES) {
        if let (Some(code), Some(name)) = (r.first().and_then(|c| c.parse::<u32>().ok()), r.get(1)) {
            province.insert(code, (*name).to_string());
            names.insert(code * 10_000, (*name).to_string());
            children.entry(0).or_default().push((code * 10_000, (*name).to_string()));
        }
    }
    let mut city = HashMap::new();
    for r in rows(CITIES) {
        if let (Some(code), Some(name)) = (r.first().and_then(|c| c.parse::<u32>().ok()), r.get(1)) {
            let p = province.get(&(code / 100)).cloned().unwrap_or_default();
            // Municipalities' pseudo-city 市辖区 adds nothing to a name.
            let pseudo = *name == "市辖区" || name.contains("行政区划");
            let full = if pseudo { p.clone() } else { format!("{p} {name}") };
            let own = if *name == "市辖区" { p } else { (*name).to_string() };
            city.insert(code, full.clone());
            names.insert(code * 100, full);
            children.entry(code / 100 * 10_000).or_default().push((code * 100, own));
        }
    }
    for r in rows(AREAS) {
        if let (Some(code), Some(name)) = (r.first().and_then(|c| c.parse::<u32>().ok()), r.get(1)) {
            let c = city.get(&(code / 100)).cloned().unwrap_or_default();
            // A city without districts (东莞) is listed as its own only "area": not a level below it.
            if code % 100 != 0 {
                names.insert(code, format!("{c} {name}"));
                children.entry(code / 100 * 100).or_default().push((code, (*name).to_string()));
            }
        }
    }
    for v in children.values_mut() {
        v.sort();
    }
    Table { names, children }
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

/// The divisions directly under `parent` (a province's cities, a city's districts; the provinces
/// for `None`), as (six-digit code, own name) in code order. Empty for a district, for a city
/// without districts (东莞) and for an unknown code.
pub fn children(parent: Option<&str>) -> Vec<(String, String)> {
    let key = match parent.map(str::trim).filter(|p| !p.is_empty()) {
        None => 0,
        Some(p) => match p.parse::<u32>() {
            // Only a province (pp0000) or a city (ppcc00) has divisions under it.
            Ok(c) if p.len() == 6 && c % 100 == 0 => c,
            _ => return vec![],
        },
    };
    TABLE
        .children
        .get(&key)
        .map(|v| v.iter().map(|(c, n)| (format!("{c:06}"), n.clone())).collect())
        .unwrap_or_default()
}

/// The province, city and district codes a stored code stands for, as far as it goes:
/// `440305` → (`440000`, `440300`, `440305`); `440300` → (`440000`, `440300`, none); an unknown or
/// malformed code → nothing.
pub fn path(code: &str) -> [Option<String>; 3] {
    let Ok(c) = RegionCode::parse("", code) else { return [None, None, None] };
    let c = c.0;
    let province = Some(format!("{:06}", c / 10_000 * 10_000));
    let city = (c % 10_000 != 0).then(|| format!("{:06}", c / 100 * 100));
    let district = (c % 100 != 0).then(|| format!("{c:06}"));
    [province, city, district]
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
    fn the_tree_goes_province_city_district() {
        let provinces = children(None);
        assert_eq!(provinces.len(), 31);
        assert!(provinces.contains(&("440000".into(), "广东省".into())));
        let cities = children(Some("440000"));
        assert!(cities.contains(&("440300".into(), "深圳市".into())));
        assert!(cities.contains(&("441900".into(), "东莞市".into())));
        assert!(children(Some("440300")).contains(&("440305".into(), "南山区".into())));
        // A municipality's one pseudo-city carries its name; its districts hang below it.
        assert_eq!(children(Some("110000")), vec![("110100".to_string(), "北京市".to_string())]);
        assert!(children(Some("110100")).contains(&("110105".into(), "朝阳区".into())));
        assert!(children(Some("441900")).is_empty(), "东莞 has no districts");
        assert_eq!(region_name("441900"), "广东省 东莞市");
        assert!(children(Some("440305")).is_empty());
        assert!(children(Some("x")).is_empty());
        // Every child is a known code whose full name ends in the child's own name.
        for (code, own) in cities.iter().chain(&provinces) {
            let full = region_name(code);
            assert!(full.ends_with(own.as_str()) || own == "北京市", "{code}: {full} / {own}");
        }
    }

    #[test]
    fn a_code_has_its_path() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(path("440305"), [s("440000"), s("440300"), s("440305")]);
        assert_eq!(path("441900"), [s("440000"), s("441900"), None]);
        assert_eq!(path("440000"), [s("440000"), None, None]);
        assert_eq!(path("999999"), [None, None, None]);
        assert_eq!(path(""), [None, None, None]);
    }
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
