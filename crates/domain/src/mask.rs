//! Masking of personal data for roles without the right to see it (PRODUCT.md §2.14).

/// `13812341234` → `138****1234`; landlines keep the area code and last four digits.
pub fn mask_phone(phone: &str) -> String {
    let mut digits: Vec<char> = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() == 13 && digits.starts_with(&['8', '6']) {
        digits.drain(..2);
    }
    if digits.len() < 7 {
        return "*".repeat(digits.len().max(4));
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Only the family name stays: `张三` → `张*`, `欧阳娜娜` → `欧***`; Latin names keep the first letter.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// An address keeps its first six characters (province and city) and hides the rest.
pub fn mask_address(address: &str) -> String {
    let kept: String = address.chars().take(6).collect();
    if address.chars().count() > 6 { format!("{kept}****") } else { kept }
}

/// An identity number keeps its first four and last four characters: `4403**********1234`.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len().max(4));
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn phones_names_and_addresses_are_masked() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("+86 138 1234 1234"), "138****1234");
        assert_eq!(mask_phone("0755-26581234"), "075****1234");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_address("广东省深圳市南山区科技园"), "广东省深圳市****");
        assert_eq!(mask_id_number("11010519491231002X"), "1101**********002X");
    }
}
