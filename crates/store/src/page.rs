use serde::Serialize;
use shouhou_domain::{FieldError, ValidationErrors};

/// Page-based pagination with a hard maximum page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl PageRequest {
    pub const MAX_PER_PAGE: u32 = 100;
    pub const DEFAULT_PER_PAGE: u32 = 20;

    /// What an API caller asked for, checked: `page` ≥ 1 and 1 ≤ `per_page` ≤ 100, else a field
    /// error `out_of_range` (with the largest page size as its limit) — never silently capped,
    /// so a client asking for 500 rows learns it gets at most 100.
    pub fn parse(page: Option<u32>, per_page: Option<u32>) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        if page == Some(0) {
            e.push("page", "out_of_range");
        }
        if per_page.is_some_and(|n| n == 0 || n > Self::MAX_PER_PAGE) {
            e.0.push(FieldError::with_limit("per_page", "out_of_range", Self::MAX_PER_PAGE as usize));
        }
        e.into_result()?;
        Ok(Self::new(page, per_page))
    }

    /// Clamp what the caller asked for: page ≥ 1, 1 ≤ per_page ≤ 100 (pages, whose links make
    /// the numbers).
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Self {
        Self {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(Self::DEFAULT_PER_PAGE).clamp(1, Self::MAX_PER_PAGE),
        }
    }
    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        }
    }
    pub fn pages(&self) -> u32 {
        let per = i64::from(self.per_page.max(1));
        u32::try_from((self.total + per - 1) / per).unwrap_or(u32::MAX).max(1)
    }
}
