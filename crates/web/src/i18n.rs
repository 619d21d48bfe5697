//! UI text in zh-CN (default) and English, from Fluent files compiled into the binary.
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};
use shouhou_domain::locale::Locale;
use std::borrow::Cow;
use std::collections::HashMap;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "zh-CN",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static ZH: LanguageIdentifier = langid!("zh-CN");
static EN: LanguageIdentifier = langid!("en");

/// The translator of one request.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Locale);

impl Tr {
    fn lang(&self) -> &'static LanguageIdentifier {
        match self.0 {
            Locale::ZhCn => &ZH,
            Locale::En => &EN,
        }
    }
    /// The text of `key`; the key itself when it is missing, so a gap shows rather than hides.
    pub fn t(&self, key: &str) -> String {
        LOCALES.try_lookup(self.lang(), key).unwrap_or_else(|| key.to_string())
    }
    pub fn t1(&self, key: &str, name: &'static str, value: impl std::fmt::Display) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        args.insert(Cow::Borrowed(name), FluentValue::from(value.to_string()));
        LOCALES.try_lookup_with_args(self.lang(), key, &args).unwrap_or_else(|| key.to_string())
    }
    pub fn t2(
        &self,
        key: &str,
        name1: &'static str,
        value1: impl std::fmt::Display,
        name2: &'static str,
        value2: impl std::fmt::Display,
    ) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        args.insert(Cow::Borrowed(name1), FluentValue::from(value1.to_string()));
        args.insert(Cow::Borrowed(name2), FluentValue::from(value2.to_string()));
        LOCALES.try_lookup_with_args(self.lang(), key, &args).unwrap_or_else(|| key.to_string())
    }
    /// The text of `key` with any number of arguments.
    pub fn tn(&self, key: &str, args: &[(&'static str, String)]) -> String {
        let mut map: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        for (name, value) in args {
            map.insert(Cow::Borrowed(*name), FluentValue::from(value.clone()));
        }
        LOCALES.try_lookup_with_args(self.lang(), key, &map).unwrap_or_else(|| key.to_string())
    }
    pub fn code(&self) -> &'static str {
        self.0.as_str()
    }
    /// "Region code is required" for a field error.
    pub fn field_error(&self, field: &str, code: &str) -> String {
        self.labelled(field, self.t(&format!("err-{code}")))
    }
    /// The message of a field error, with its limit when it has one ("is too long (at most 100
    /// characters)"): the key `err-CODE-limit` with `$limit`.
    pub fn field_message(&self, e: &shouhou_domain::FieldError) -> String {
        match e.limit {
            Some(limit) => self.labelled(&e.field, self.t1(&format!("err-{}-limit", e.code), "limit", limit)),
            None => self.field_error(&e.field, e.code),
        }
    }
    fn labelled(&self, field: &str, msg: String) -> String {
        let label = LOCALES.try_lookup(self.lang(), &format!("field-{field}")).unwrap_or_else(|| field.to_string());
        match self.0 {
            Locale::ZhCn => format!("{label}{msg}"),
            Locale::En => format!("{label} {msg}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn both_languages_have_every_key_of_the_other() {
        let zh = include_str!("../locales/zh-CN/main.ftl");
        let en = include_str!("../locales/en/main.ftl");
        let keys = |s: &str| -> Vec<String> {
            let mut k: Vec<String> =
                s.lines().filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_string())).collect();
            k.sort();
            k
        };
        assert_eq!(keys(zh), keys(en));
    }
    #[test]
    fn lookups_work_with_arguments() {
        assert_eq!(Tr(Locale::En).t1("common-total", "total", 3), "3 in all");
        assert_eq!(Tr(Locale::ZhCn).t("nav-stations"), "服务站");
        assert_eq!(Tr(Locale::ZhCn).field_error("region_code", "required"), "行政区划代码必填");
    }
}
