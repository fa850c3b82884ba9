//! Dense retrieval: the signal that crosses languages. A French demand and a Dutch profile that
//! mean the same thing share few words but land close together in multilingual-e5-small's
//! embedding space. This module decides what text of a profile is embedded
//! ([`profile_passages`]) and holds the parts, each depending only on those listed before it:
//! - `block` — the quantised block format of the model file;
//! - `kernels` — the 8-bit matrix products of the linear layers;
//! - `ops` — the elementwise and attention loops of the forward pass;
//! - `e5` — the model itself ([`E5Encoder`]): files, tokenizer, forward pass;
//! - `vectors` — all passage vectors in one matrix ([`VectorSet`]), scored by exact dot products.

mod block;
mod e5;
mod kernels;
mod ops;
mod vectors;

pub use self::e5::{E5Encoder, EmbedError};
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
