//! `peak(n, x)`: n rounds of CHAINS independent f64x2 fused multiply-adds (n · CHAINS · 4 flops),
//! enough independent chains to hide the FMA latency on two pipes.
#![cfg_attr(target_arch = "wasm32", no_std)]

/// Independent FMA chains per round, in the wasm kernel and the native ones (src/main.rs).
pub const CHAINS: usize = 12;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::CHAINS;
    use core::arch::wasm32::*;

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        loop {}
    }

    /// The flops of one round of `peak`, for the page that times it (tests/bench/roofline.mjs).
    #[no_mangle]
    pub extern "C" fn flops_per_round() -> u32 {
        (CHAINS * 2 * 2) as u32
    }

    #[no_mangle]
    pub extern "C" fn peak(n: u32, x: f64) -> f64 {
        let (b, c) = (f64x2_splat(0.999_999_9), f64x2_splat(1e-9));
        let mut acc = [f64x2_splat(x); CHAINS];
        for (i, v) in acc.iter_mut().enumerate() {
            *v = f64x2_add(*v, f64x2_splat(i as f64));
        }
        for _ in 0..n {
            for v in acc.iter_mut() {
                *v = f64x2_relaxed_madd(*v, b, c);
            }
        }
        // The sum is returned so that no chain can be optimised away.
        let s = acc.iter().fold(f64x2_splat(0.0), |s, v| f64x2_add(s, *v));
        f64x2_extract_lane::<0>(s) + f64x2_extract_lane::<1>(s)
    }
}
