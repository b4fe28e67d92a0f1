//! A number in a message, written exactly as Rust's `{}` writes an f64: the shortest digits that
//! read back as the same number, never with an exponent ("0.0000001", "1500000000000000000000"),
//! "-0", "NaN", "inf". Natively that is `{}` itself. In the wasm module JavaScript's
//! `Number.prototype.toString` gives the same shortest digits (both choose, among the shortest,
//! the one closest to the exact value), which are only rearranged here: the module then carries
//! none of core::fmt's float formatting (about 18 KB of Grisu and Dragon code and tables).

/// `x` as `format!("{x}")` writes it.
pub fn float_text(x: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        if x.is_nan() {
            return "NaN".into();
        }
        if x.is_infinite() {
            return if x > 0.0 { "inf" } else { "-inf" }.into();
        }
        if x == 0.0 {
            return if x.is_sign_negative() { "-0" } else { "0" }.into();
        }
        match js_sys::Number::from(x).to_string_with_radix(10) {
            Ok(text) => plain_decimal(&String::from(text)),
            Err(_) => String::new(),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        format!("{x}")
    }
}

/// JavaScript's text of a finite, non-zero number ("-1.5e-7", "123.25", "1e+21") without its
/// exponent, as Rust writes it.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn plain_decimal(js: &str) -> String {
    let (sign, rest) = match js.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", js),
    };
    let (mantissa, exponent) = match rest.split_once('e') {
        Some((m, e)) => (m, e.trim_start_matches('+').parse::<i64>().unwrap_or(0)),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: String = format!("{int}{frac}");
    let digits = all.trim_start_matches('0');
    // Where the decimal point falls among `digits`.
    let point = int.len() as i64 + exponent - (all.len() - digits.len()) as i64;
    let digits = digits.trim_end_matches('0');
    let len = digits.len() as i64;
    let mut out = String::from(sign);
    if point <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-point) as usize));
        out.push_str(digits);
    } else if point >= len {
        out.push_str(digits);
        out.push_str(&"0".repeat((point - len) as usize));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::plain_decimal;

    #[test]
    fn javascript_texts_become_rust_texts() {
        for (js, x) in [
            ("1e-7", 1e-7),
            ("-1.5e-7", -1.5e-7),
            ("0.000001", 1e-6),
            ("123.25", 123.25),
            ("100", 100.0),
            ("1e+21", 1e21),
            ("1.5e+300", 1.5e300),
            ("5e-324", 5e-324),
            ("0.1", 0.1),
            ("-2", -2.0),
            ("1.7976931348623157e+308", f64::MAX),
        ] {
            assert_eq!(plain_decimal(js), format!("{x}"), "{js}");
        }
    }
}
