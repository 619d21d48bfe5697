//! The generator's PRNG and its streams.

// =====================================================================================
// screen pop: data generation
// =====================================================================================

/// splitmix64: tiny, fast, and the same sequence everywhere for a seed.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
    /// Uniform in lo..hi (hi > lo).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as usize) as i64
    }
    pub fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub fn weighted<T: Copy>(&mut self, xs: &[(T, usize)]) -> T {
        let total: usize = xs.iter().map(|x| x.1).sum();
        let mut r = self.below(total);
        for &(v, w) in xs {
            if r < w {
                return v;
            }
            r -= w;
        }
        xs[xs.len() - 1].0
    }
}

// Stream numbers of the generator: each kind of value has its own sequence, so the plan can be
// rebuilt for a kept data set without generating the rows again.
pub const S_PHONES: u64 = 1;
pub const S_CUSTOMERS: u64 = 2;
pub const S_CONTACTS: u64 = 3;
pub const S_DEVICES: u64 = 4;
pub const S_REQUESTS: u64 = 5;
pub const S_LOOKUPS: u64 = 6;
pub const S_CUSTOMER_ROWS: u64 = 11;
pub const S_CONTACT_ROWS: u64 = 12;
pub const S_DEVICE_ROWS: u64 = 13;
pub const S_BIG_REQUESTS: u64 = 14;
