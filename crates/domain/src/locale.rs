use serde::{Deserialize, Serialize};

/// The UI languages: Chinese first, English second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
    /// Lenient parse of a stored value or a language tag (`zh`, `zh-CN`, `en-US`…).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Locale::ZhCn)
        } else if s.starts_with("en") {
            Some(Locale::En)
        } else {
            None
        }
    }
    /// First supported language of an `Accept-Language` header, else Chinese.
    pub fn from_accept_language(header: &str) -> Self {
        header
            .split(',')
            .filter_map(|part| Locale::parse(part.split(';').next().unwrap_or("")))
            .next()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn accept_language_picks_first_supported() {
        assert_eq!(Locale::from_accept_language("fr-FR,en-US;q=0.8,zh;q=0.5"), Locale::En);
        assert_eq!(Locale::from_accept_language("zh-CN,zh;q=0.9"), Locale::ZhCn);
        assert_eq!(Locale::from_accept_language("de"), Locale::ZhCn);
    }
}
