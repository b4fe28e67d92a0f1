//! A number in a message, written exactly as Rust's `{}` writes an f64: the shortest digits that
//! read back as the same number, never with an exponent ("0.0000001", "1500000000000000000000"),
//! "-0", "NaN", "inf". Natively that is `{}` itself. In the wasm module JavaScript's
//! `Number.prototype.toString` gives the same shortest digits (both choose, among the shortest,
//! the one closest to the exact value; a tie is settled as Rust does, below), rearranged here:
//! the module then carries none of core::fmt's float formatting (about 18 KB of Grisu and Dragon
//! code and tables).

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
        let n = js_sys::Number::from(x);
        let shortest = match n.to_string_with_radix(10) {
            Ok(text) => String::from(text),
            Err(_) => return String::new(),
        };
        // When two texts of that many digits are equally close (x halfway between them, as
        // 2^-25 = 2.98023223876953125e-8 is), JavaScript takes the even last digit and Rust the
        // larger: toPrecision rounds halves up like Rust, and is used when it reads back as x.
        let digits = significant_digits(&shortest);
        if let Ok(text) = n.to_precision(digits) {
            let text = String::from(text);
            if js_sys::parse_float(&text) == x {
                return plain_decimal(&text);
            }
        }
        plain_decimal(&shortest)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        format!("{x}")
    }
}

/// How many significant digits JavaScript's text of a finite, non-zero number has.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn significant_digits(js: &str) -> u8 {
    let mantissa = js.split('e').next().unwrap_or(js);
    let digits = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|&b| b == b'0');
    let trailing = |t: &str| t.len() - t.trim_end_matches('0').len();
    // Zeros at the end of a whole number ("100") are not significant; after a point they never
    // appear in JavaScript's shortest text.
    let count = digits.count()
        - if mantissa.contains('.') {
            0
        } else {
            trailing(mantissa)
        };
    count.clamp(1, 21) as u8
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
    fn significant_digits_of_javascript_texts() {
        for (js, n) in [
            ("100", 1),
            ("1e+21", 1),
            ("-1.5e-7", 2),
            ("0.000123", 3),
            ("123.25", 5),
            ("2.9802322387695312e-8", 17),
        ] {
            assert_eq!(super::significant_digits(js), n, "{js}");
        }
    }

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
