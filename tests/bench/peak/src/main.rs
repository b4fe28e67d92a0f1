//! Native FMA peaks of this CPU, 128-bit and 256-bit lanes, best of five rounds, as JSON:
//! {"fma128": GFLOP/s, "fma256": GFLOP/s} (null where the CPU lacks AVX2/FMA).
use std::time::Instant;

use fma_peak::CHAINS;
const ROUNDS: u64 = 20_000_000;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use fma_peak::CHAINS;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn fma256(n: u64, x: f64) -> f64 {
        let (b, c) = (_mm256_set1_pd(0.999_999_9), _mm256_set1_pd(1e-9));
        let mut acc = [_mm256_set1_pd(x); CHAINS];
        for (i, v) in acc.iter_mut().enumerate() {
            *v = _mm256_add_pd(*v, _mm256_set1_pd(i as f64));
        }
        for _ in 0..n {
            for v in acc.iter_mut() {
                *v = _mm256_fmadd_pd(*v, b, c);
            }
        }
        let mut out = [0.0; 4];
        _mm256_storeu_pd(
            out.as_mut_ptr(),
            acc.iter()
                .fold(_mm256_setzero_pd(), |s, v| _mm256_add_pd(s, *v)),
        );
        out.iter().sum()
    }

    #[target_feature(enable = "fma")]
    pub unsafe fn fma128(n: u64, x: f64) -> f64 {
        let (b, c) = (_mm_set1_pd(0.999_999_9), _mm_set1_pd(1e-9));
        let mut acc = [_mm_set1_pd(x); CHAINS];
        for (i, v) in acc.iter_mut().enumerate() {
            *v = _mm_add_pd(*v, _mm_set1_pd(i as f64));
        }
        for _ in 0..n {
            for v in acc.iter_mut() {
                *v = _mm_fmadd_pd(*v, b, c);
            }
        }
        let mut out = [0.0; 2];
        _mm_storeu_pd(
            out.as_mut_ptr(),
            acc.iter().fold(_mm_setzero_pd(), |s, v| _mm_add_pd(s, *v)),
        );
        out.iter().sum()
    }
}

/// Best GFLOP/s of five rounds of `f` (`lanes` f64 per FMA): a shared machine only ever slows it.
fn best(lanes: f64, f: impl Fn(u64) -> f64) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f(ROUNDS));
            ROUNDS as f64 * CHAINS as f64 * lanes * 2.0 / t.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        let x = std::hint::black_box(1.0);
        let fma128 = best(2.0, |n| unsafe { x86::fma128(n, x) });
        let fma256 = best(4.0, |n| unsafe { x86::fma256(n, x) });
        println!("{{\"fma128\":{fma128:.2},\"fma256\":{fma256:.2}}}");
        return;
    }
    println!("{{\"fma128\":null,\"fma256\":null}}");
}
