//! The encoder's elementwise and attention loops (LayerNorm, bias + GELU, residual adds, softmax
//! attention) and the fast `exp`/`erf` they use. Each loop is written once (`*_body`, plain Rust)
//! and compiled twice: as is, and inside an AVX2 + FMA function where it vectorises 8 wide; the
//! public function picks one by the CPU. They are kept apart from the model so that the forward
//! pass reads as the sequence of steps it is.

/// The error function to within 1.5e-7 (for GELU).
#[inline(always)]
pub(super) fn erf(x: f32) -> f32 {
    // Abramowitz & Stegun 7.1.26 evaluated in f64-free f32; |error| < 1.5e-7.
    let s = x.signum();
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let y = 1.0
        - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_8) * t - 0.284_496_74) * t + 0.254_829_6)
            * t
            * exp(-a * a);
    s * y
}

/// `e^x` to about 1.2e-7 relative error, without a libm call so that loops over it vectorise
/// (GELU and softmax called `expf` once per value). Inputs below −87 give ~1e-38 (not 0), which
/// both callers treat as nothing.
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and subtracting 1.5 · 2^23 rounds to the nearest integer in f32 arithmetic.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    // r in [-ln2/2, ln2/2]: the Taylor series to r^6 is within 1.2e-7 of e^r.
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

macro_rules! dispatch {
    ($(#[$doc:meta])* fn $name:ident / $body:ident / $avx2:ident ($($arg:ident: $ty:ty),*) $(-> $ret:ty)?) => {
        $(#[$doc])*
        pub(super) fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has the features the function is compiled for.
                return unsafe { $avx2($($arg),*) };
            }
            $body($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $avx2($($arg: $ty),*) $(-> $ret)? {
            $body($($arg),*)
        }
    };
}

dispatch! {
    /// Scaled dot-product attention of one head over one text: `rows` are the text's padded
    /// `[q | k | v]` rows (width `3 h`), `len` its real tokens, the head's columns start at
    /// `at`. Returns `[len, hd]` (padded rows are never pooled, so they are not computed).
    fn attend / attend_body / attend_avx2(rows: &[f32], len: usize, h: usize, at: usize, hd: usize) -> Vec<f32>
}
dispatch! {
    /// `x[row] += bias`.
    fn add_bias_rows / add_bias_rows_body / add_bias_rows_avx2(x: &mut [f32], bias: &[f32])
}
dispatch! {
    /// `x[row] += y[row] + bias`.
    fn add_rows / add_rows_body / add_rows_avx2(x: &mut [f32], y: &[f32], bias: &[f32])
}
dispatch! {
    /// LayerNorm over each row of `x` (rows of `w.len()`): `(x − mean) / sqrt(var + eps) · w + b`.
    fn layer_norm_rows / layer_norm_rows_body / layer_norm_rows_avx2(x: &mut [f32], w: &[f32], b: &[f32], eps: f32)
}
dispatch! {
    /// `x = gelu(x + bias)` row by row, the exact erf form (as BERT).
    fn bias_gelu_rows / bias_gelu_rows_body / bias_gelu_rows_avx2(x: &mut [f32], bias: &[f32])
}

/// For e5-small's heads of 32 the loops work on fixed-size accumulators — 4 × 8 lanes of
/// scores (32 keys) or of the context (one head row) — which stay in registers and give the
/// CPU independent additions to overlap; a running sum kept in a slice was bound by the latency
/// of one addition after another. (`mul_add` is one FMA instruction here; on a CPU without
/// FMA the plain build calls the C library instead, slowly but correctly.)
#[inline(always)]
fn attend_body(rows: &[f32], len: usize, h: usize, at: usize, hd: usize) -> Vec<f32> {
    const HD: usize = 32;
    const LANES: usize = 8;
    const KEYS: usize = 4 * LANES;
    if hd != HD {
        return attend_any(rows, len, h, at, hd);
    }
    let width = 3 * h;
    let scale = 1.0 / (hd as f32).sqrt();
    // Keys transposed to [hd, padded len]: the scores of 32 keys are lanes of one sum over d.
    let padded = len.div_ceil(KEYS) * KEYS;
    let mut keys_t = vec![0f32; HD * padded];
    for j in 0..len {
        let k = &rows[j * width + h + at..j * width + h + at + HD];
        for (d, &v) in k.iter().enumerate() {
            keys_t[d * padded + j] = v;
        }
    }
    let mut out = vec![0f32; len * HD];
    let mut scores = vec![0f32; padded];
    for (i, o) in out.chunks_exact_mut(HD).enumerate() {
        let q = &rows[i * width + at..i * width + at + HD];
        for (block, s) in scores.chunks_exact_mut(KEYS).enumerate() {
            let mut acc = [[0f32; LANES]; 4];
            for (d, &qd) in q.iter().enumerate() {
                let k = &keys_t[d * padded + block * KEYS..d * padded + (block + 1) * KEYS];
                for (a, kv) in acc.iter_mut().zip(k.chunks_exact(LANES)) {
                    for (x, &y) in a.iter_mut().zip(kv) {
                        *x = qd.mul_add(y, *x);
                    }
                }
            }
            for (sv, a) in s.chunks_exact_mut(LANES).zip(acc) {
                for (x, y) in sv.iter_mut().zip(a) {
                    *x = y * scale;
                }
            }
        }
        softmax_in_place(&mut scores[..len]);
        // Two running sums (even and odd keys) of the head row, 8 registers in all.
        let mut acc = [[0f32; HD]; 2];
        for (j, pj) in scores[..len].chunks(2).enumerate() {
            for (t, &p) in pj.iter().enumerate() {
                let key = 2 * j + t;
                let v = &rows[key * width + 2 * h + at..key * width + 2 * h + at + HD];
                for (x, &y) in acc[t].iter_mut().zip(v) {
                    *x = p.mul_add(y, *x);
                }
            }
        }
        for ((x, a), b) in o.iter_mut().zip(acc[0]).zip(acc[1]) {
            *x = a + b;
        }
    }
    out
}

/// [`attend_body`] for any head size, plainly.
fn attend_any(rows: &[f32], len: usize, h: usize, at: usize, hd: usize) -> Vec<f32> {
    let width = 3 * h;
    let scale = 1.0 / (hd as f32).sqrt();
    let mut out = vec![0f32; len * hd];
    let mut scores = vec![0f32; len];
    for (i, o) in out.chunks_exact_mut(hd).enumerate() {
        let q = &rows[i * width + at..i * width + at + hd];
        for (j, s) in scores.iter_mut().enumerate() {
            let k = &rows[j * width + h + at..j * width + h + at + hd];
            *s = q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale;
        }
        softmax_in_place(&mut scores);
        for (j, &p) in scores.iter().enumerate() {
            let v = &rows[j * width + 2 * h + at..j * width + 2 * h + at + hd];
            o.iter_mut().zip(v).for_each(|(x, &y)| *x += p * y);
        }
    }
    out
}

#[inline(always)]
fn softmax_in_place(v: &mut [f32]) {
    let max = v.iter().fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
    v.iter_mut().for_each(|x| *x = exp(*x - max));
    let inv = 1.0 / v.iter().sum::<f32>();
    v.iter_mut().for_each(|x| *x *= inv);
}

#[inline(always)]
fn add_bias_rows_body(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b);
    }
}

#[inline(always)]
fn add_rows_body(x: &mut [f32], y: &[f32], bias: &[f32]) {
    for (xr, yr) in x.chunks_exact_mut(bias.len()).zip(y.chunks_exact(bias.len())) {
        for ((v, &d), &c) in xr.iter_mut().zip(yr).zip(bias) {
            *v += d + c;
        }
    }
}

#[inline(always)]
fn layer_norm_rows_body(x: &mut [f32], w: &[f32], b: &[f32], eps: f32) {
    let n = w.len() as f32;
    for row in x.chunks_exact_mut(w.len()) {
        let mean = row.iter().sum::<f32>() / n;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, &g), &c) in row.iter_mut().zip(w).zip(b) {
            *v = (*v - mean) * inv * g + c;
        }
    }
}

#[inline(always)]
fn bias_gelu_rows_body(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, &b) in row.iter_mut().zip(bias) {
            let u = *v + b;
            *v = 0.5 * u * (1.0 + erf(u * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_is_close_to_libm() {
        for i in -1700..=800 {
            let x = i as f32 * 0.05;
            let (got, want) = (exp(x), x.exp());
            assert!((got - want).abs() <= 3e-7 * want, "exp({x}) = {got}, libm {want}");
        }
        assert!(exp(-1e9) < 1e-37 && exp(-1e9) >= 0.0);
        assert!((erf(0.5) - 0.520_499_9).abs() < 2e-7 && (erf(-2.0) + 0.995_322_3).abs() < 2e-7);
    }
}
