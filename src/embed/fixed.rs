//! A deterministic stand-in for the e5 model: texts are hashed into a fixed number of buckets by
//! their words and character trigrams, so texts that share words get similar vectors. It loads
//! instantly and needs no model files, which lets tests of ranking, caching and the write path run
//! the dense half of the pipeline without the seconds (and memory) the real model costs. It does
//! not cross languages; tests of retrieval quality keep the real model.

/// Hashes words and trigrams into `dim` signed buckets, L2-normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedEmbedder {
    dim: usize,
}

/// Weight of a whole word against one of its trigrams: a shared word counts more than a shared
/// stem, as it does for a reader.
const WORD_WEIGHT: f32 = 1.0;
const TRIGRAM_WEIGHT: f32 = 0.5;

impl FixedEmbedder {
    /// Name recorded with the vectors it computes, so that they are never taken for the model's.
    pub const MODEL_ID: &'static str = "fixed-hash-v1/passages-v1";

    /// The vector length the engine uses with it (the model's, so both fit the same stores).
    pub const DIM: usize = 384;

    /// An embedder of `dim`-long vectors (at least 1).
    pub fn new(dim: usize) -> FixedEmbedder {
        FixedEmbedder { dim: dim.max(1) }
    }

    /// Vector length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// One unit vector per text. Queries and passages are embedded alike.
    pub fn embed(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        texts.iter().map(|t| self.embed_one(t)).collect()
    }

    fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dim];
        let lower = text.to_lowercase();
        let mut any = false;
        for word in lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            any = true;
            self.add(&mut v, b'w', word.as_bytes(), WORD_WEIGHT);
            let padded: Vec<char> = std::iter::once('<').chain(word.chars()).chain(std::iter::once('>')).collect();
            for tri in padded.windows(3) {
                let s: String = tri.iter().collect();
                self.add(&mut v, b't', s.as_bytes(), TRIGRAM_WEIGHT);
            }
        }
        if !any {
            // A text without words still gets a unit vector (the model gives one too).
            self.add(&mut v, b'e', b"", 1.0);
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }

    /// Adds `weight` to the bucket of the feature, with a sign from the same hash so that
    /// collisions of unrelated features cancel out on average instead of adding up.
    fn add(&self, v: &mut [f32], kind: u8, feature: &[u8], weight: f32) {
        let h = fnv1a(kind, feature);
        let bucket = (h % self.dim as u64) as usize;
        v[bucket] += if h >> 63 == 0 { weight } else { -weight };
    }
}

/// FNV-1a, 64 bits: stable across platforms and Rust versions (unlike `DefaultHasher`), so
/// vectors stored by one build are the vectors another computes.
fn fnv1a(kind: u8, bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in std::iter::once(&kind).chain(bytes) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn vectors_are_unit_length_even_for_empty_text() {
        let e = FixedEmbedder::new(FixedEmbedder::DIM);
        for v in e.embed(&["Hydrogen fuel cells for heavy trucks.", "", "  ;; ", "é"]) {
            assert_eq!(v.len(), FixedEmbedder::DIM);
            assert!((dot(&v, &v) - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn vectors_are_deterministic() {
        let text = "Recycled polyester seat covers and bio-based foams";
        let a = FixedEmbedder::new(64).embed(&[text]);
        let b = FixedEmbedder::new(64).embed(&[text, text]);
        assert_eq!(a[0], b[0]);
        assert_eq!(b[0], b[1]);
        // The hash is fixed: a regression here means stored vectors no longer match new ones.
        assert_eq!(fnv1a(b'w', b"hydrogen"), 0x49a0_3076_5d09_c02a);
    }

    #[test]
    fn similar_texts_are_closer_than_unrelated_ones() {
        let e = FixedEmbedder::new(FixedEmbedder::DIM);
        let v = e.embed(&[
            "Type IV hydrogen pressure vessels wound from carbon fibre for trucks.",
            "Hydrogen pressure vessels for heavy trucks",
            "Garden furniture and patio umbrellas sold online.",
        ]);
        let (similar, unrelated) = (dot(&v[0], &v[1]), dot(&v[0], &v[2]));
        assert!(similar > 0.4, "similar {similar}");
        assert!(similar > unrelated + 0.3, "similar {similar} vs unrelated {unrelated}");
        // Shared stems count for something: "vessel" against "vessels".
        let w = e.embed(&["pressure vessel", "pressure vessels", "pressure"]);
        assert!(dot(&w[0], &w[1]) > dot(&w[2], &w[1]) - 1e-6);
    }
}
