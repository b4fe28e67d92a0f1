//! Two f64 lanes, the unit of the vectorised loops (matrix products, GELU): wasm's `f64x2` where
//! the build enables simd128, a plain `[f64; 2]` elsewhere (which the compiler vectorises
//! natively). Both do exactly the same IEEE operations lane by lane, so native tests check the
//! very arithmetic the browser runs.
//!
//! Also here: `tanh` on two lanes, built on a two-lane `exp`, since the scalar `f64::tanh` is a
//! software routine on wasm (it was a sixth of a training step with GELU).

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32 as w;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[derive(Clone, Copy)]
pub struct F64x2(w::v128);

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl F64x2 {
    #[inline(always)]
    pub fn splat(x: f64) -> F64x2 {
        F64x2(w::f64x2_splat(x))
    }

    #[inline(always)]
    pub fn load(pair: &[f64; 2]) -> F64x2 {
        // SAFETY: `pair` is a reference, so its 16 bytes are readable; `v128_load` is an
        // unaligned load, so the 8-byte alignment of f64 is enough.
        F64x2(unsafe { w::v128_load(pair.as_ptr().cast()) })
    }

    /// The two f64 at `p` and `p + 1`.
    ///
    /// # Safety
    /// Both must be readable.
    #[inline(always)]
    pub unsafe fn load_ptr(p: *const f64) -> F64x2 {
        // SAFETY: the caller's promise; `v128_load` is an unaligned load.
        F64x2(unsafe { w::v128_load(p.cast()) })
    }

    #[inline(always)]
    pub fn to_array(self) -> [f64; 2] {
        [
            w::f64x2_extract_lane::<0>(self.0),
            w::f64x2_extract_lane::<1>(self.0),
        ]
    }

    #[inline(always)]
    pub fn store(self, out: &mut [f64; 2]) {
        // SAFETY: `out` is a unique reference, so its 16 bytes are writable; `v128_store` is an
        // unaligned store, so the 8-byte alignment of f64 is enough.
        unsafe { w::v128_store(out.as_mut_ptr().cast(), self.0) }
    }

    /// self + a·b, rounded after the multiply and after the add (no fused multiply-add).
    #[cfg(not(target_feature = "relaxed-simd"))]
    #[inline(always)]
    pub fn add_mul(self, a: F64x2, b: F64x2) -> F64x2 {
        F64x2(w::f64x2_add(self.0, w::f64x2_mul(a.0, b.0)))
    }

    /// self + a·b through relaxed SIMD's madd: one fused multiply-add (one rounding) where the
    /// machine has one, as x86-64 with FMA3 and ARM64 do; a multiply and an add elsewhere.
    // f64x2_relaxed_madd is stable since Rust 1.82: the relaxed build needs it, while the
    // crate's rust-version (1.80) still holds for the simd128 and native builds.
    #[cfg(target_feature = "relaxed-simd")]
    #[allow(clippy::incompatible_msrv)]
    #[inline(always)]
    pub fn add_mul(self, a: F64x2, b: F64x2) -> F64x2 {
        F64x2(w::f64x2_relaxed_madd(a.0, b.0, self.0))
    }

    #[inline(always)]
    pub fn add(self, b: F64x2) -> F64x2 {
        F64x2(w::f64x2_add(self.0, b.0))
    }

    #[inline(always)]
    pub fn sub(self, b: F64x2) -> F64x2 {
        F64x2(w::f64x2_sub(self.0, b.0))
    }

    #[inline(always)]
    pub fn mul(self, b: F64x2) -> F64x2 {
        F64x2(w::f64x2_mul(self.0, b.0))
    }

    #[inline(always)]
    fn abs(self) -> F64x2 {
        F64x2(w::f64x2_abs(self.0))
    }

    /// The smaller of self and `hi` (NaN stays NaN).
    #[inline(always)]
    fn at_most(self, hi: F64x2) -> F64x2 {
        // pmin(a, b) is `b < a ? b : a`: a NaN in a is kept.
        F64x2(w::f64x2_pmin(self.0, hi.0))
    }

    /// self with the sign of `sign`.
    #[inline(always)]
    fn copysign(self, sign: F64x2) -> F64x2 {
        let mask = w::u64x2_splat(1 << 63);
        F64x2(w::v128_bitselect(sign.0, self.0, mask))
    }

    /// 2^k for lanes holding `MAGIC + k`, k an integer in −1022..=1023: the exponent field is
    /// k + 1023, and k sits in the low bits of the magic number's mantissa.
    #[inline(always)]
    fn pow2_of_magic(self) -> F64x2 {
        let k = w::i64x2_shl(self.0, 52);
        F64x2(w::i64x2_add(k, w::i64x2_splat(1023 << 52)))
    }

    /// 2^⌊k/2⌋ and 2^(k − ⌊k/2⌋) for lanes holding `MAGIC + k`, k in −1100..=1100: two
    /// normal factors whose product is 2^k even where 2^k itself is subnormal or overflows.
    #[inline(always)]
    fn pow2_halves_of_magic(self) -> (F64x2, F64x2) {
        let k = w::i64x2_sub(self.0, w::i64x2_splat(MAGIC.to_bits() as i64));
        let k1 = w::i64x2_shr(k, 1);
        let k2 = w::i64x2_sub(k, k1);
        let bias = w::i64x2_splat(1023);
        let pow = |k| F64x2(w::i64x2_shl(w::i64x2_add(k, bias), 52));
        (pow(k1), pow(k2))
    }

    /// The larger of self and `lo` (NaN stays NaN).
    #[inline(always)]
    fn at_least(self, lo: F64x2) -> F64x2 {
        // pmax(a, b) is `a < b ? b : a`: a NaN in a is kept.
        F64x2(w::f64x2_pmax(self.0, lo.0))
    }

    /// The larger of the two, lane by lane; NaN if either is.
    #[inline(always)]
    pub fn max(self, b: F64x2) -> F64x2 {
        F64x2(w::f64x2_max(self.0, b.0))
    }

    #[inline(always)]
    pub fn div(self, b: F64x2) -> F64x2 {
        F64x2(w::f64x2_div(self.0, b.0))
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[derive(Clone, Copy)]
pub struct F64x2([f64; 2]);

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
impl F64x2 {
    #[inline(always)]
    fn map(self, f: impl Fn(f64) -> f64) -> F64x2 {
        F64x2(self.0.map(f))
    }

    #[inline(always)]
    fn zip(self, b: F64x2, f: impl Fn(f64, f64) -> f64) -> F64x2 {
        F64x2([f(self.0[0], b.0[0]), f(self.0[1], b.0[1])])
    }

    #[inline(always)]
    pub fn splat(x: f64) -> F64x2 {
        F64x2([x, x])
    }

    #[inline(always)]
    pub fn load(pair: &[f64; 2]) -> F64x2 {
        F64x2(*pair)
    }

    /// The two f64 at `p` and `p + 1`.
    ///
    /// # Safety
    /// Both must be readable.
    #[inline(always)]
    pub unsafe fn load_ptr(p: *const f64) -> F64x2 {
        // SAFETY: the caller's promise.
        F64x2(unsafe { [*p, *p.add(1)] })
    }

    #[inline(always)]
    pub fn to_array(self) -> [f64; 2] {
        self.0
    }

    #[inline(always)]
    pub fn store(self, out: &mut [f64; 2]) {
        *out = self.0;
    }

    /// self + a·b, rounded after the multiply and after the add (no fused multiply-add).
    #[inline(always)]
    pub fn add_mul(self, a: F64x2, b: F64x2) -> F64x2 {
        self.add(a.mul(b))
    }

    #[inline(always)]
    pub fn add(self, b: F64x2) -> F64x2 {
        self.zip(b, |x, y| x + y)
    }

    #[inline(always)]
    pub fn sub(self, b: F64x2) -> F64x2 {
        self.zip(b, |x, y| x - y)
    }

    #[inline(always)]
    pub fn mul(self, b: F64x2) -> F64x2 {
        self.zip(b, |x, y| x * y)
    }

    #[inline(always)]
    pub fn div(self, b: F64x2) -> F64x2 {
        self.zip(b, |x, y| x / y)
    }

    /// The larger of the two, lane by lane; NaN if either is, as wasm's max.
    #[inline(always)]
    pub fn max(self, b: F64x2) -> F64x2 {
        self.zip(b, |x, y| {
            if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.max(y)
            }
        })
    }

    /// The larger of self and `lo` (NaN stays NaN), as wasm's pmax.
    #[inline(always)]
    fn at_least(self, lo: F64x2) -> F64x2 {
        self.zip(lo, |x, l| if x < l { l } else { x })
    }

    #[inline(always)]
    fn abs(self) -> F64x2 {
        self.map(f64::abs)
    }

    /// The smaller of self and `hi` (NaN stays NaN), as wasm's pmin.
    #[inline(always)]
    fn at_most(self, hi: F64x2) -> F64x2 {
        self.zip(hi, |x, h| if h < x { h } else { x })
    }

    #[inline(always)]
    fn copysign(self, sign: F64x2) -> F64x2 {
        self.zip(sign, f64::copysign)
    }

    #[inline(always)]
    fn pow2_of_magic(self) -> F64x2 {
        self.map(|m| f64::from_bits((m.to_bits() << 52).wrapping_add(1023 << 52)))
    }

    #[inline(always)]
    fn pow2_halves_of_magic(self) -> (F64x2, F64x2) {
        let k = |m: f64| (m.to_bits() as i64).wrapping_sub(MAGIC.to_bits() as i64);
        let pow = |k: i64| f64::from_bits(((k + 1023) as u64) << 52);
        (
            self.map(|m| pow(k(m) >> 1)),
            self.map(|m| pow(k(m) - (k(m) >> 1))),
        )
    }
}

/// 1.5·2⁵²: adding it rounds a number of magnitude below 2⁵¹ to an integer (ties to even), which
/// then sits in the low bits of the sum's mantissa.
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// The vector constants of `exp_reduced` and `tanh`, as values. The plain paths build them in
/// place (the compiler folds them into the code); a loop over a whole matrix passes them through
/// `std::hint::black_box` once before the loop, because V8 rebuilds a vector constant at every use
/// inside a loop body (three instructions each, about twenty per GELU pair) where it keeps a
/// value in a register or reads it from a spill slot. The same numbers either way.
#[derive(Clone, Copy)]
pub struct Consts {
    inv_ln2: F64x2,
    magic: F64x2,
    ln2_hi: F64x2,
    ln2_lo: F64x2,
    p: [F64x2; 5],
    pub one: F64x2,
    two: F64x2,
    minus_two: F64x2,
    twenty: F64x2,
    lowest: F64x2,
    highest: F64x2,
}

impl Consts {
    #[inline(always)]
    pub fn new() -> Consts {
        let s = F64x2::splat;
        Consts {
            inv_ln2: s(std::f64::consts::LOG2_E),
            magic: s(MAGIC),
            // ln 2 split so that k·LN2_HI is exact for the k used here.
            ln2_hi: s(0.693_147_180_369_123_8),
            ln2_lo: s(1.908_214_929_270_587_7e-10),
            p: [
                s(0.166_666_666_666_666_02),
                s(-0.002_777_777_777_701_559_3),
                s(6.613_756_321_437_934e-5),
                s(-1.653_390_220_546_525_2e-6),
                s(4.138_136_797_057_238_5e-8),
            ],
            one: s(1.0),
            two: s(2.0),
            minus_two: s(-2.0),
            twenty: s(20.0),
            lowest: s(-746.0),
            highest: s(710.0),
        }
    }
}

/// e^x for x in [−45, 0] (what `tanh` needs; no overflow or subnormal handling), within about
/// one ulp: fdlibm's e_exp.c for two lanes. x = k·ln 2 + r with |r| ≤ ln2/2, e^r from a rational
/// approximation, times 2^k.
#[inline(always)]
fn exp_small(x: F64x2, k: &Consts) -> F64x2 {
    let (y, magic) = exp_reduced(x, k);
    y.mul(magic.pow2_of_magic())
}

/// e^x for every x (the softmaxes' exponentials), within one ulp of libm (tests below): x is
/// clamped to [−746, 710], where e^x already rounds to 0 or overflows to ∞, and 2^k is applied
/// as two normal factors so that subnormal results round once, as libm's do. NaN stays NaN.
#[inline(always)]
pub fn exp(x: F64x2) -> F64x2 {
    exp_with(x, &Consts::new())
}

/// [`exp`] with its constants given (see [`Consts`]).
#[inline(always)]
pub fn exp_with(x: F64x2, k: &Consts) -> F64x2 {
    let x = x.at_least(k.lowest).at_most(k.highest);
    let (y, magic) = exp_reduced(x, k);
    let (p1, p2) = magic.pow2_halves_of_magic();
    y.mul(p1).mul(p2)
}

/// e^x on one number: lane 0 of [`exp`], so one entry gets the same number as a whole row.
pub fn exp1(x: f64) -> f64 {
    exp(F64x2::splat(x)).to_array()[0]
}

/// e^r (as y) and MAGIC + k, for x = k·ln 2 + r with |r| ≤ ln2/2 (|x| ≤ 746).
#[inline(always)]
fn exp_reduced(x: F64x2, k: &Consts) -> (F64x2, F64x2) {
    let magic = x.mul(k.inv_ln2).add(k.magic);
    let n = magic.sub(k.magic);
    let hi = x.sub(n.mul(k.ln2_hi));
    let lo = n.mul(k.ln2_lo);
    let r = hi.sub(lo);
    let rr = r.mul(r);
    let poly = k.p[4]
        .mul(rr)
        .add(k.p[3])
        .mul(rr)
        .add(k.p[2])
        .mul(rr)
        .add(k.p[1]);
    let c = r.sub(rr.mul(poly.mul(rr).add(k.p[0])));
    let y = k.one.sub(lo.sub(r.mul(c).div(k.two.sub(c))).sub(hi));
    (y, magic)
}

/// tanh on two lanes: (1 − e)/(1 + e) with e = e^(−2|y|), then y's sign. Its absolute error is
/// about one ulp of 1, which is what GELU needs (it uses 1 + tanh and 1 − tanh², never tanh
/// alone); near 0 its relative error is larger than libm's. |y| ≥ 20 gives ±1 exactly.
#[inline(always)]
pub fn tanh(y: F64x2, k: &Consts) -> F64x2 {
    let a = y.abs().at_most(k.twenty);
    let e = exp_small(a.mul(k.minus_two), k);
    k.one.sub(e).div(k.one.add(e)).copysign(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_is_within_one_ulp_of_libm() {
        let mut worst = 0;
        for i in 0..=90_000 {
            let x = -45.0 * i as f64 / 90_000.0;
            let [got, _] = exp_small(F64x2::load(&[x, 0.0]), &Consts::new()).to_array();
            worst = worst.max(ulps(got, x.exp()));
        }
        assert!(worst <= 1, "{worst} ulps");
    }

    /// The general exp against libm over its whole range, subnormal results, ±∞ and NaN.
    #[test]
    fn exp_is_within_one_ulp_of_libm_everywhere() {
        let mut worst = 0;
        for i in 0..=400_000 {
            let x = -750.0 + 1462.0 * i as f64 / 400_000.0 + 1e-7;
            let [got, _] = exp(F64x2::load(&[x, 0.0])).to_array();
            let want = x.exp();
            if want.is_infinite() || want == 0.0 {
                assert_eq!(got, want, "{x}");
            } else {
                worst = worst.max(ulps(got, want));
            }
        }
        assert!(worst <= 1, "{worst} ulps");
        for x in [
            0.0, -0.0, 1e-300, -1e-300, 709.78, -708.4, -745.1, -1e300, 1e300,
        ] {
            assert!(
                ulps(exp1(x), x.exp()) <= 1,
                "{x}: {} vs {}",
                exp1(x),
                x.exp()
            );
        }
        assert_eq!(exp1(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp1(f64::INFINITY), f64::INFINITY);
        assert!(exp1(f64::NAN).is_nan());
    }

    #[test]
    fn tanh_is_within_an_ulp_of_one_of_libm() {
        let mut worst: f64 = 0.0;
        for i in -200_000..=200_000 {
            let y = i as f64 * 1e-4 + 1e-9;
            let [a, b] = tanh(F64x2::load(&[y, -y]), &Consts::new()).to_array();
            assert_eq!(a, -b, "odd at {y}");
            worst = worst.max((a - y.tanh()).abs());
        }
        assert!(worst <= f64::EPSILON, "{worst:e}");
        for y in [0.0, -0.0, 1e-300, 19.0, 20.0, 1e300, f64::INFINITY] {
            let [got, neg] =
                tanh(F64x2::load(&[y, -y]), &std::hint::black_box(Consts::new())).to_array();
            assert!((got - y.tanh()).abs() <= f64::EPSILON / 2.0, "{y}");
            assert_eq!(got.to_bits(), (-neg).to_bits(), "{y}");
        }
        assert!(tanh(F64x2::splat(f64::NAN), &Consts::new()).to_array()[0].is_nan());
    }
}
