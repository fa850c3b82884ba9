//! Dense retrieval: the signal that crosses languages. A French demand and a Dutch profile that
//! mean the same thing share few words but land close together in multilingual-e5-small's
//! embedding space. This module decides what text of a profile is embedded
//! ([`profile_passages`]) and holds the parts, each depending only on those listed before it:
//! - `block` — the quantised block format of the model file;
//! - `kernels` — the 8-bit matrix products of the linear layers;
//! - `ops` — the elementwise and attention loops of the forward pass;
//! - `e5` — the model itself ([`E5Encoder`]): files, tokenizer, forward pass;
//! - `vectors` — all passage vectors in one matrix ([`VectorSet`]), scored by exact dot products;
//! - `fixed` — a deterministic stand-in for the model ([`FixedEmbedder`]).
//!
//! The engine holds an [`Embedder`], either the model or the stand-in, chosen by an
//! [`EmbedderChoice`]: tests of ranking logic need vectors that behave like vectors, not the
//! model's seconds of loading and its memory.

mod block;
mod e5;
mod fixed;
mod kernels;
mod ops;
mod vectors;

use std::path::Path;

pub use self::e5::{E5Encoder, EmbedError};
pub use self::fixed::FixedEmbedder;
pub use self::vectors::{dot_rows, DenseHit, VectorSet};
use crate::domain::Profile;

/// Name recorded with stored vectors; bump it when passages or the model change so that stored
/// vectors are recomputed.
pub const MODEL_ID: &str = "multilingual-e5-small-q4/passages-v1";

/// The texts of a profile that get their own vector: the organisation with its summary, and each
/// innovation with the organisation name for context. A demand often matches one innovation of a
/// broad profile; a separate vector lets that innovation speak for itself.
pub fn profile_passages(p: &Profile) -> Vec<String> {
    let mut out = Vec::with_capacity(1 + p.innovations.len());
    let mut head = format!("{}. {}", p.name, p.summary);
    if !p.keywords.is_empty() {
        head.push_str(" (");
        head.push_str(&p.keywords.join(", "));
        head.push(')');
    }
    out.push(head);
    for inn in &p.innovations {
        out.push(format!("{}: {}", p.name, inn));
    }
    out
}

/// Which embedder an engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbedderChoice {
    /// multilingual-e5-small from the models dir: what every real use needs.
    #[default]
    E5,
    /// The deterministic [`FixedEmbedder`]: no model files, no loading time; for tests of logic.
    Fixed,
}

impl EmbedderChoice {
    /// The name stored with the vectors this choice computes: vectors of one are never taken for
    /// the other's.
    pub fn model_id(self) -> &'static str {
        match self {
            EmbedderChoice::E5 => MODEL_ID,
            EmbedderChoice::Fixed => FixedEmbedder::MODEL_ID,
        }
    }

    /// The vector length, without loading the model (the e5 model's is read from its
    /// `config.json` in `models_dir`).
    pub fn dim(self, models_dir: &Path) -> Result<usize, EmbedError> {
        match self {
            EmbedderChoice::E5 => E5Encoder::model_dim(models_dir),
            EmbedderChoice::Fixed => Ok(FixedEmbedder::DIM),
        }
    }

    /// Loads the embedder; `threads` are the model's worker threads (0 = all cores).
    pub fn load(self, models_dir: &Path, threads: usize) -> Result<Embedder, EmbedError> {
        Ok(match self {
            EmbedderChoice::E5 => Embedder::E5(Box::new(E5Encoder::load_with_threads(models_dir, threads)?)),
            EmbedderChoice::Fixed => Embedder::Fixed(FixedEmbedder::new(FixedEmbedder::DIM)),
        })
    }
}

/// Turns texts into unit vectors whose dot products say how alike the texts are.
pub enum Embedder {
    /// The multilingual-e5-small model (boxed: its tables are large and the stand-in is tiny).
    E5(Box<E5Encoder>),
    /// The deterministic stand-in.
    Fixed(FixedEmbedder),
}

impl Embedder {
    /// Vector length.
    pub fn dim(&self) -> usize {
        match self {
            Embedder::E5(e) => e.dim(),
            Embedder::Fixed(f) => f.dim(),
        }
    }

    /// Embeds documents (profile passages).
    pub fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        match self {
            Embedder::E5(e) => e.embed_passages(texts),
            Embedder::Fixed(f) => Ok(f.embed(texts)),
        }
    }

    /// Embeds search queries.
    pub fn embed_queries(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        match self {
            Embedder::E5(e) => e.embed_queries(texts),
            Embedder::Fixed(f) => Ok(f.embed(texts)),
        }
    }
}
