//! Compile-time sine and cosine (Taylor series in `const fn`), for detector tables.

const TAU: f64 = core::f64::consts::TAU;

/// sin(x) for any x, accurate to ~1e-15.
pub(crate) const fn sin(x: f64) -> f64 {
    // Reduce to [-pi, pi].
    let k = (x / TAU) as i64;
    let mut r = x - k as f64 * TAU;
    if r > core::f64::consts::PI {
        r -= TAU;
    } else if r < -core::f64::consts::PI {
        r += TAU;
    }
    // Taylor series to high order; |r| <= pi converges well by n = 30.
    let mut term = r;
    let mut sum = r;
    let mut n = 1;
    while n < 30 {
        term = -term * r * r / ((2 * n) as f64 * (2 * n + 1) as f64);
        sum += term;
        n += 1;
    }
    sum
}

/// cos(x).
pub(crate) const fn cos(x: f64) -> f64 {
    sin(x + core::f64::consts::FRAC_PI_2)
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_std() {
        for i in -2000..2000 {
            let x = i as f64 * 0.0137;
            assert!((super::sin(x) - x.sin()).abs() < 1e-12, "{x}");
            assert!((super::cos(x) - x.cos()).abs() < 1e-12, "{x}");
        }
    }
}
