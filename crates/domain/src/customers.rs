//! Customers (PRODUCT.md §2.1): who they are (a person or a company, a tier) and the formats of
//! China they are written in: phone numbers, unified social credit codes, ID card numbers.
use crate::FieldError;
use crate::requests::choice_enum;
use jiff::civil::Date;

/// A Chinese phone number, normalised: a mobile as its 11 digits (`13812345678`), a landline as
/// area code, dash, number and an optional dash and extension (`0755-26581234`, `010-12345678-801`).
///
/// Accepted input: spaces, dashes and brackets anywhere (`(0755) 2658 1234`); full-width digits,
/// dashes, brackets and plus; a `+86`, `0086` or (mobiles only) bare `86` country prefix — with
/// `+86`/`0086`, a landline may omit the trunk `0` (`+86 755 26581234`); `转` before an extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &str, s: &str) -> Result<Phone, FieldError> {
        let invalid = || FieldError::new(field, "invalid_phone");
        let s = s.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "required"));
        }
        // Digit groups as written, and whether the number began with '+'.
        let mut groups: Vec<String> = vec![String::new()];
        let mut plus = false;
        for c in s.chars() {
            let c = match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).ok_or_else(invalid)?,
                '＋' => '+',
                _ => c,
            };
            match c {
                '0'..='9' => groups.last_mut().ok_or_else(invalid)?.push(c),
                '+' if !plus && groups.iter().all(String::is_empty) => plus = true,
                ' ' | '\u{3000}' | '\t' | '-' | '－' | '‐' | '‑' | '–' | '—' | '−' | '(' | ')' | '（' | '）' | '转' => {
                    if groups.last().is_some_and(|g| !g.is_empty()) {
                        groups.push(String::new());
                    }
                }
                _ => return Err(invalid()),
            }
        }
        groups.retain(|g| !g.is_empty());
        let all: String = groups.concat();

        // The country prefix. `international` means the trunk 0 of a landline may be missing.
        let (skip, international) = if plus {
            if !all.starts_with("86") {
                return Err(invalid());
            }
            (2, true)
        } else if all.starts_with("0086") {
            (4, true)
        } else if all.len() == 13 && all.starts_with("86") && is_mobile(&all[2..]) {
            (2, false)
        } else {
            (0, false)
        };
        let national = &all[skip..];
        if is_mobile(national) {
            return Ok(Phone(national.to_string()));
        }
        // A landline: drop the prefix from the groups too, so that their boundaries still count.
        let mut rest = skip;
        let mut groups: Vec<&str> = groups
            .iter()
            .filter_map(|g| {
                let cut = rest.min(g.len());
                rest -= cut;
                Some(&g[cut..]).filter(|g| !g.is_empty())
            })
            .collect();
        if international && !national.starts_with('0') {
            groups.insert(0, "0");
        }
        landline(&groups).map(Phone).ok_or_else(invalid)
    }

    /// The normalised number, e.g. `13812345678` or `0755-26581234`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_mobile(&self) -> bool {
        self.0.starts_with('1')
    }

    /// The last four digits of the number proper (never of an extension), for masked display.
    pub fn last4(&self) -> String {
        let number = if self.is_mobile() { self.0.as_str() } else { self.0.split('-').nth(1).unwrap_or("") };
        number.chars().skip(number.len().saturating_sub(4)).collect()
    }
}

string_newtype_serde!(Phone, "phone");

/// 11 digits starting `13`–`19`.
fn is_mobile(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) && b.iter().all(u8::is_ascii_digit)
}

/// A local number proper: 7 or 8 digits, not starting with 0 (that would be a second trunk 0).
fn is_local_number(d: &str) -> bool {
    (7..=8).contains(&d.len()) && !d.starts_with('0')
}

/// A landline from its digit groups: area code (`010` and `02x` three digits, `03x`–`09x` four),
/// local number, and an extension only when written as a separate last group.
fn landline(groups: &[&str]) -> Option<String> {
    let all: String = groups.concat();
    let area_len = match all.as_bytes() {
        [b'0', b'1', b'0', ..] | [b'0', b'2', ..] => 3,
        [b'0', b'3'..=b'9', ..] => 4,
        _ => return None,
    };
    let (area, rest) = (all.get(..area_len)?, all.get(area_len..)?);
    // With an extension: the last group, after a number of the right length.
    if let Some(last) = groups.last().filter(|_| groups.len() > 1) {
        let number = &rest[..rest.len().saturating_sub(last.len())];
        if (1..=6).contains(&last.len()) && is_local_number(number) {
            return Some(format!("{area}-{number}-{last}"));
        }
    }
    is_local_number(rest).then(|| format!("{area}-{rest}"))
}

/// The 31 characters of a unified social credit code, in value order (no I, O, S, V, Z).
const CREDIT_CODE_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of the first 17 characters: 3^i mod 31.
const CREDIT_CODE_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A unified social credit code (统一社会信用代码, GB 32100-2015) of a company customer: 18
/// characters whose last is a check character. Lower case input is upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

impl CreditCode {
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let t = s.trim().to_ascii_uppercase();
        if t.is_empty() {
            return Err(FieldError::new(field, "required"));
        }
        let values: Option<Vec<u32>> = t.chars().map(credit_code_value).collect();
        match values {
            Some(v) if v.len() == 18 && credit_code_check(&v[..17]) == v[17] => Ok(CreditCode(t)),
            _ => Err(FieldError::new(field, "invalid_credit_code")),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_serde!(CreditCode, "credit_code");

fn credit_code_value(c: char) -> Option<u32> {
    CREDIT_CODE_CHARS.find(c).and_then(|i| u32::try_from(i).ok())
}

/// The value of the check character: 31 − (Σ value × weight mod 31), with 31 written as 0.
fn credit_code_check(first17: &[u32]) -> u32 {
    let sum: u32 = first17.iter().zip(CREDIT_CODE_WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

/// Weights of the first 17 digits of a resident identity card number (GB 11643-1999): 2^(17−i) mod 11.
const ID_NUMBER_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for Σ digit × weight mod 11 = 0, 1, 2, ….
const ID_NUMBER_CHECK: &[u8; 11] = b"10X98765432";

/// A citizen identity number (公民身份号码, GB 11643-1999) of a person customer: 18 characters,
/// six of region (its province must be a GB/T 2260 province), eight of birth date, three of
/// sequence and an ISO 7064 MOD 11-2 check character (`X` for ten). A lower-case `x` is
/// upper-cased. Personal data: stored encrypted, shown masked without the right.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let t = s.trim().to_ascii_uppercase();
        if t.is_empty() {
            return Err(FieldError::new(field, "required"));
        }
        let bad = || FieldError::new(field, "invalid_id_number");
        let b = t.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let sum: u32 = b[..17].iter().zip(ID_NUMBER_WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
        if ID_NUMBER_CHECK[(sum % 11) as usize] != b[17] {
            return Err(bad());
        }
        let id = IdNumber(t);
        if id.birth_date().is_none()
            || crate::regions::RegionCode::parse(field, &format!("{}0000", &id.0[..2])).is_err()
        {
            return Err(bad());
        }
        Ok(id)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The birth date the number carries (digits 7–14), when it is a real date from 1900 on.
    pub fn birth_date(&self) -> Option<Date> {
        let (y, m, d) = (self.0[6..10].parse().ok()?, self.0[10..12].parse().ok()?, self.0[12..14].parse().ok()?);
        if y < 1900 {
            return None;
        }
        Date::new(y, m, d).ok()
    }
}

string_newtype_serde!(IdNumber, "id_number");

choice_enum! {
    /// A private person or a company (which may carry a credit code).
    pub enum CustomerKind {
        Person => "person",
        Company => "company",
    }
}

choice_enum! {
    /// Service tier; VIP and key customers get tighter SLAs.
    pub enum CustomerTier {
        Vip => "vip",
        Key => "key",
        Standard => "standard",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn phone(s: &str) -> Result<String, &'static str> {
        Phone::parse("phone", s).map(|p| p.as_str().to_string()).map_err(|e| e.code)
    }

    #[test]
    fn a_mobile_number_loses_its_country_prefix_and_spaces() {
        for s in [
            "13812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "+8613812345678",
            "8613812345678",
            "0086 13812345678",
            "138-1234-5678",
            " 138 1234 5678 ",
            "（+86）13812345678",
        ] {
            assert_eq!(phone(s), Ok("13812345678".into()), "{s:?}");
        }
        assert_eq!(phone("19912345678"), Ok("19912345678".into()));
    }

    #[test]
    fn full_width_digits_and_dashes_are_understood() {
        assert_eq!(phone("１３８１２３４５６７８"), Ok("13812345678".into()));
        assert_eq!(phone("＋８６ １３８ １２３４ ５６７８"), Ok("13812345678".into()));
        assert_eq!(phone("０７５５－２６５８１２３４"), Ok("0755-26581234".into()));
    }

    #[test]
    fn a_beijing_landline_has_a_three_digit_area_code() {
        assert_eq!(phone("010-12345678"), Ok("010-12345678".into()));
        assert_eq!(phone("010 12345678"), Ok("010-12345678".into()));
        assert_eq!(phone("010 1234 5678"), Ok("010-12345678".into()));
        assert_eq!(phone("01082345678"), Ok("010-82345678".into()));
        assert_eq!(phone("(010) 8234 5678"), Ok("010-82345678".into()));
        assert_eq!(phone("021-6888-8888"), Ok("021-68888888".into()));
    }

    #[test]
    fn a_shenzhen_landline_has_a_four_digit_area_code() {
        for s in [
            "0755-26581234",
            "0755 26581234",
            "075526581234",
            "(0755)2658 1234",
            "+86 755 2658 1234",
            "0086-755-26581234",
            "+86 (0755) 2658-1234",
        ] {
            assert_eq!(phone(s), Ok("0755-26581234".into()), "{s:?}");
        }
        assert_eq!(phone("0571-8765432"), Ok("0571-8765432".into()), "seven-digit local numbers exist");
    }

    #[test]
    fn a_landline_keeps_an_extension_written_apart() {
        assert_eq!(phone("0755-26581234-8001"), Ok("0755-26581234-8001".into()));
        assert_eq!(phone("0755-26581234转8001"), Ok("0755-26581234-8001".into()));
        assert_eq!(phone("010 6512 3456 1"), Ok("010-65123456-1".into()));
        assert_eq!(phone("0755265812348001"), Err("invalid_phone"), "an extension must be written apart");
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for s in [
            "12345678901", // 12 is no mobile prefix
            "0755-123",    // local number too short
            "0755-123456789",
            "138abc45678",  // letters
            "1381234567",   // ten digits
            "138123456789", // twelve digits
            "26581234",     // no area code
            "0755-06581234",
            "011-12345678",
            "+1 415 555 0100",
            "86-755-26581234",
            "13812345678+",
            "0755-26581234-1234567",
            "02",
            "0",
            "+86",
            "+",
            "--",
        ] {
            assert_eq!(phone(s), Err("invalid_phone"), "{s:?}");
        }
        assert_eq!(phone("   "), Err("required"));
    }

    #[test]
    fn a_normalised_number_parses_to_itself() {
        for s in ["13812345678", "010-12345678", "0755-26581234", "0755-26581234-8001"] {
            assert_eq!(phone(s), Ok(s.to_string()));
        }
    }

    #[test]
    fn a_phone_knows_whether_it_is_a_mobile_and_its_last_four_digits() {
        let m = Phone::parse("p", "+86 138 1234 5678").unwrap();
        assert!(m.is_mobile());
        assert_eq!(m.last4(), "5678");
        let l = Phone::parse("p", "0755-26581234-8001").unwrap();
        assert!(!l.is_mobile());
        assert_eq!(l.last4(), "1234");
    }

    #[test]
    fn a_phone_serializes_as_its_string_and_refuses_bad_stored_data() {
        let p = Phone::parse("p", "0755 2658 1234").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"0755-26581234\"");
        assert_eq!(serde_json::from_str::<Phone>("\"0755-26581234\"").unwrap(), p);
        assert!(serde_json::from_str::<Phone>("\"12345\"").is_err());
    }

    /// The check character of 17 characters, by the algorithm under test.
    fn check_char(first17: &str) -> char {
        let v: Vec<u32> = first17.chars().map(|c| credit_code_value(c).unwrap()).collect();
        CREDIT_CODE_CHARS.chars().nth(credit_code_check(&v) as usize).unwrap()
    }

    #[test]
    fn the_widely_quoted_credit_code_example_is_valid() {
        assert_eq!(check_char("91350100M000100Y4"), '3');
        assert_eq!(
            CreditCode::parse("c", "91350100M000100Y43").map(|c| c.as_str().to_string()),
            Ok("91350100M000100Y43".into())
        );
        assert_eq!(
            CreditCode::parse("c", " 91350100m000100y43 ").map(|c| c.as_str().to_string()),
            Ok("91350100M000100Y43".into())
        );
    }

    #[test]
    fn a_credit_code_whose_check_character_is_a_letter_or_zero_is_valid() {
        // By hand: 91440300MA5ABCDE1 has values 9,1,4,4,0,3,0,0,21,10,5,10,11,12,13,14,1, so
        // Σ v·w = 2153 = 31·69 + 14 and the check value is 31 − 14 = 17, written H.
        assert_eq!(check_char("91440300MA5ABCDE1"), 'H');
        assert!(CreditCode::parse("c", "91440300MA5ABCDE1H").is_ok());
        // With G (16) last, Σ v·w = 2153 + 15·28 = 2573 = 31·83: the check value 31 is written 0.
        assert_eq!(check_char("91440300MA5ABCDEG"), '0');
        assert!(CreditCode::parse("c", "91440300MA5ABCDEG0").is_ok());
        assert!(CreditCode::parse("c", "91440300MA5ABCDE10").is_err());
    }

    #[test]
    fn a_credit_code_with_a_wrong_check_character_is_refused() {
        let bad = Err(FieldError::new("credit_code", "invalid_credit_code"));
        assert_eq!(CreditCode::parse("credit_code", "91350100M000100Y44"), bad);
        assert_eq!(CreditCode::parse("credit_code", "91350100M000100Y4"), bad, "17 characters");
        assert_eq!(CreditCode::parse("credit_code", "91350100M000100Y433"), bad, "19 characters");
        assert_eq!(CreditCode::parse("credit_code", "91350100I000100Y43"), bad, "I is not in the alphabet");
        assert_eq!(CreditCode::parse("credit_code", ""), Err(FieldError::new("credit_code", "required")));
    }

    #[test]
    fn id_numbers_are_checked_by_check_character_birth_date_and_province() {
        // The example of GB 11643-1999: check character X.
        let id = IdNumber::parse("id_number", " 11010519491231002x ").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), Some(date(1949, 12, 31)));
        assert_eq!(
            IdNumber::parse("id_number", "440305199003071236").map(|i| i.to_string()),
            Ok("440305199003071236".into())
        );
        let bad = Err(FieldError::new("id_number", "invalid_id_number"));
        assert_eq!(IdNumber::parse("id_number", "110105194912310021"), bad, "wrong check character");
        assert_eq!(IdNumber::parse("id_number", "11010519491231002"), bad, "17 characters");
        assert_eq!(IdNumber::parse("id_number", "1101051949123100X2"), bad, "X only last");
        assert_eq!(IdNumber::parse("id_number", "110105194902301234"), bad, "30 February");
        assert_eq!(IdNumber::parse("id_number", "990105194912310023"), bad, "no province 99");
        assert_eq!(IdNumber::parse("id_number", ""), Err(FieldError::new("id_number", "required")));
    }

    #[test]
    fn kinds_and_tiers_have_snake_case_names() {
        assert_eq!(CustomerTier::ALL.map(CustomerTier::as_str), ["vip", "key", "standard"]);
        assert_eq!(CustomerKind::ALL.map(CustomerKind::as_str), ["person", "company"]);
        assert_eq!(CustomerTier::parse("tier", "key"), Ok(CustomerTier::Key));
        assert_eq!(CustomerTier::parse("tier", "gold"), Err(FieldError::new("tier", "invalid_choice")));
        assert_eq!(serde_json::to_string(&CustomerKind::Company).unwrap(), "\"company\"");
        assert_eq!(serde_json::from_str::<CustomerTier>("\"vip\"").unwrap(), CustomerTier::Vip);
    }
}
