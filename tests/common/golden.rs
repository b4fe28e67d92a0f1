//! The golden files (tests/golden/*.json, from JAX autodiff) and the normwise comparison of the
//! core's JSON answers with them; used by golden.rs natively and web.rs in the browser.

use serde_json::Value;

/// A golden file, compiled in so the browser tests need no file system.
pub fn golden(name: &str) -> Value {
    let text = match name {
        "article" => include_str!("../golden/article.json"),
        "everything" => include_str!("../golden/everything.json"),
        "batch" => include_str!("../golden/batch.json"),
        other => panic!("no golden file {other}"),
    };
    serde_json::from_str(text).expect(name)
}

/// Every number of a nested JSON array in order; `None` for null (a masked score).
pub fn flatten(v: &Value, out: &mut Vec<Option<f64>>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flatten(x, out)),
        Value::Null => out.push(None),
        x => out.push(Some(x.as_f64().expect("a number"))),
    }
}

/// max|a − b| ≤ 1e-9·max|b| + 1e-14 over the matrix, with nulls in the same places.
pub fn assert_normwise(what: &str, core: &Value, jax: &Value) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten(core, &mut a);
    flatten(jax, &mut b);
    assert_eq!(
        a.len(),
        b.len(),
        "{what}: {} numbers in the core, {} from JAX",
        a.len(),
        b.len()
    );
    let scale = b.iter().flatten().fold(0.0_f64, |m, x| m.max(x.abs()));
    let mut worst = 0.0_f64;
    for (k, (x, y)) in a.iter().zip(&b).enumerate() {
        match (x, y) {
            (Some(x), Some(y)) => worst = worst.max((x - y).abs()),
            (None, None) => {}
            _ => panic!("{what}: entry {k} is {x:?} in the core, {y:?} from JAX"),
        }
    }
    assert!(
        worst <= 1e-9 * scale + 1e-14,
        "{what}: max |core − JAX| = {worst:e} at scale {scale:e}"
    );
}

/// Every entry of `jax` (an object of matrices) against the same key of `core`.
pub fn assert_all(what: &str, core: &Value, jax: &Value) -> usize {
    let jax = jax.as_object().expect(what);
    for (name, m) in jax {
        let mine = core
            .get(name)
            .unwrap_or_else(|| panic!("{what}: the core has no {name}"));
        assert_normwise(&format!("{what} {name}"), mine, m);
    }
    jax.len()
}
