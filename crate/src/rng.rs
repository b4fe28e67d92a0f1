//! The one pseudo-random generator of the core, SplitMix64 (Steele, Lea & Flood 2014), and what
//! is drawn from it: mini-batches, starting weights and sampled tokens. It is tiny, has no state
//! beyond one u64, and is easy to reproduce in any language, so a reader (or a test in Python)
//! can redo every draw from the seed the page shows.

/// The golden-ratio increment of SplitMix64.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective scramble of one u64.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The generator of training step `step` under `seed`: state = mix64(seed) XOR step, so each
    /// step's draw can be redone alone, without replaying the steps before it.
    pub fn for_step(seed: u64, step: u64) -> SplitMix64 {
        SplitMix64::new(mix64(seed) ^ step)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix64(self.state)
    }

    /// A uniform number in [0, 1): the top 53 bits over 2^53.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A whole number in 0..n (n ≥ 1): the high 64 bits of next·n (Lemire's multiply-shift, without
    /// rejection; its bias is below n/2^64, far below anything a toy batch could show).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A standard normal number by Box–Muller: u1 = (top 53 bits + 1)/2^53 in (0, 1] (so ln u1
    /// is finite), u2 in [0, 1), z = √(−2 ln u1)·cos(2π u2). The sine half is not used, so each
    /// number costs exactly two draws.
    pub fn normal(&mut self) -> f64 {
        let u1 = ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// `size` distinct indices of 0..n, in the order drawn: a partial Fisher–Yates shuffle of
/// [0, 1, …, n−1] where draw i swaps position i with i + below(n − i).
pub(crate) fn draw_without_replacement(n: usize, size: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..size.min(n) {
        let j = i + rng.below((n - i) as u64) as usize;
        order.swap(i, j);
    }
    order.truncate(size.min(n));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference outputs of SplitMix64 seeded with 1234567 (from the authors' Java code and
    /// Vigna's C reference, splitmix64.c).
    #[test]
    fn matches_the_reference_sequence() {
        let mut r = SplitMix64::new(1234567);
        let got: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(
            got,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423
            ]
        );
    }

    #[test]
    fn draws_distinct_indices() {
        let mut r = SplitMix64::for_step(7, 3);
        let mut d = draw_without_replacement(10, 10, &mut r);
        d.sort_unstable();
        assert_eq!(d, (0..10).collect::<Vec<_>>());
    }
}
