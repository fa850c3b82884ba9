//! Passage vectors of all profiles in one in-memory matrix, scored by exact dot products: at
//! 100,000 profiles an exact scan costs a few milliseconds, so no approximate index (and none of
//! its recall questions) is needed.

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::{Facets, Language, Profile};

struct Slot {
    /// Shared with the rows of cached rankings, which keep ids rather than slot numbers so that
    /// they survive compaction.
    id: Arc<str>,
    language: Language,
    facets: Facets,
    rows: std::ops::Range<usize>,
    /// Length of the sum of the passage vectors: the mean vector's cosine to a query is the sum
    /// of the passages' dot products divided by it.
    sum_norm: f32,
    alive: bool,
}

impl Slot {
    /// Whether the profile is live and has passages to score.
    fn is_scored(&self) -> bool {
        self.alive && !self.rows.is_empty()
    }
}

/// Passage vectors of all profiles in one row-major matrix. Updates append rows and retire the old
/// ones (cheap under a write lock); [`VectorSet::compact`] reclaims retired rows.
pub struct VectorSet {
    dim: usize,
    data: Vec<f32>,
    slots: Vec<Slot>,
    by_id: HashMap<String, usize>,
    retired_rows: usize,
    version: u64,
}

/// Dense similarity of one profile to a query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenseHit {
    /// Index into the set's slots (see [`VectorSet::profile_id`]).
    pub slot: usize,
    /// Best cosine similarity over the profile's passages.
    pub cosine: f32,
    /// Which passage scored best (0 = summary, i = innovation i-1).
    pub passage: usize,
}

impl VectorSet {
    /// An empty set of `dim`-dimensional vectors.
    pub fn new(dim: usize) -> VectorSet {
        VectorSet { dim, data: Vec::new(), slots: Vec::new(), by_id: HashMap::new(), retired_rows: 0, version: 0 }
    }

    /// Vector length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of live profiles.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when no profile has vectors.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Whether `id` has vectors.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Changes with every update, removal and compaction: anything derived from slot numbers or
    /// scores (a cached ranking) is valid only while the version it was computed at is current.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Id of the profile in `slot`.
    pub fn profile_id(&self, slot: usize) -> &str {
        &self.slots[slot].id
    }

    /// Id of the profile in `slot`, shared.
    pub fn shared_id(&self, slot: usize) -> &Arc<str> {
        &self.slots[slot].id
    }

    /// Number of languages in which at least `min_profiles` live profiles are written.
    pub fn languages_with(&self, min_profiles: usize) -> usize {
        let mut counts = [0usize; Language::ALL.len()];
        for slot in self.slots.iter().filter(|s| s.alive) {
            counts[slot.language.index()] += 1;
        }
        counts.iter().filter(|&&n| n >= min_profiles.max(1)).count()
    }

    /// Language of the profile in `slot`.
    pub fn language(&self, slot: usize) -> Language {
        self.slots[slot].language
    }

    /// Filter facets of the profile in `slot`.
    pub fn facets(&self, slot: usize) -> &Facets {
        &self.slots[slot].facets
    }

    /// Makes room for `rows` more passage vectors and `profiles` more profiles, so that loading a
    /// whole collection grows the matrix once instead of doubling (and copying) it ~20 times, which
    /// at 100,000 profiles held two copies of a 400 MB matrix at once.
    pub fn reserve(&mut self, rows: usize, profiles: usize) {
        self.data.reserve_exact(rows * self.dim);
        self.slots.reserve_exact(profiles);
        self.by_id.reserve(profiles);
    }

    /// Inserts or replaces the passage vectors of a profile. Vectors of the wrong length are a bug.
    pub fn upsert(&mut self, profile: &Profile, passages: &[Vec<f32>]) {
        let id = profile.id.as_str();
        self.remove(id);
        self.version += 1;
        let start = self.data.len() / self.dim;
        for v in passages {
            assert_eq!(v.len(), self.dim, "vector length must equal the set's dimension");
            self.data.extend_from_slice(v);
        }
        let slot = self.slots.len();
        let sum_norm = norm(&self.passage_sum(start..start + passages.len()));
        self.slots.push(Slot {
            id: Arc::from(id),
            language: profile.language,
            facets: Facets::of(profile),
            rows: start..start + passages.len(),
            sum_norm,
            alive: true,
        });
        self.by_id.insert(id.to_string(), slot);
        if self.retired_rows > self.data.len() / self.dim / 2 {
            self.compact();
        }
    }

    /// Removes a profile's vectors. False when it had none.
    pub fn remove(&mut self, id: &str) -> bool {
        match self.by_id.remove(id) {
            Some(slot) => {
                self.version += 1;
                self.slots[slot].alive = false;
                self.retired_rows += self.slots[slot].rows.len();
                true
            }
            None => false,
        }
    }

    /// Rewrites the matrix without retired rows.
    pub fn compact(&mut self) {
        self.version += 1;
        let mut data = Vec::with_capacity(self.data.len() - self.retired_rows * self.dim);
        let mut slots = Vec::with_capacity(self.by_id.len());
        self.by_id.clear();
        for s in self.slots.drain(..).filter(|s| s.alive) {
            let start = data.len() / self.dim;
            data.extend_from_slice(&self.data[s.rows.start * self.dim..s.rows.end * self.dim]);
            self.by_id.insert(s.id.to_string(), slots.len());
            slots.push(Slot { rows: start..start + s.rows.len(), ..s });
        }
        self.data = data;
        self.slots = slots;
        self.retired_rows = 0;
    }

    /// Cosine similarity (vectors are unit length, so a dot product) of every live profile to
    /// `query`, taking each profile's best passage.
    pub fn score_all(&self, query: &[f32]) -> Vec<DenseHit> {
        self.per_scored_slot(query, |slot, sims| {
            let (passage, cosine) = best_of(sims);
            DenseHit { slot, cosine, passage }
        })
    }

    /// The dense similarity of the profile in `slot` to `query`, exactly as [`VectorSet::score_all`]
    /// computes it (same kernel, so a ranking can take in one profile without scoring all).
    pub fn score_one(&self, slot: usize, query: &[f32]) -> Option<DenseHit> {
        let (_, sims) = self.slot_sims(slot, query)?;
        let (passage, cosine) = best_of(&sims);
        Some(DenseHit { slot, cosine, passage })
    }

    /// Cosine of every live profile's mean vector ([`VectorSet::mean_vector`]) to `query`, in the
    /// order of [`VectorSet::score_all`]'s hits: one scan of the matrix, each profile's passage
    /// dot products summed and divided by the length of their sum.
    pub fn mean_cosines(&self, query: &[f32]) -> Vec<f32> {
        self.per_scored_slot(query, |slot, sims| mean_cosine_of(sims.iter().sum(), self.slots[slot].sum_norm))
    }

    /// The mean-vector cosine of the profile in `slot` to `query`, exactly as
    /// [`VectorSet::mean_cosines`] computes it.
    pub fn mean_cosine(&self, slot: usize, query: &[f32]) -> Option<f32> {
        let (s, sims) = self.slot_sims(slot, query)?;
        Some(mean_cosine_of(sims.iter().sum(), s.sum_norm))
    }

    /// One scan of the whole matrix against `query`, then `each(slot, its passages' dot
    /// products)` for every scored slot, in slot order.
    fn per_scored_slot<T>(&self, query: &[f32], each: impl Fn(usize, &[f32]) -> T) -> Vec<T> {
        if self.data.is_empty() {
            return Vec::new();
        }
        let sims = dot_rows(&self.data, self.dim, query);
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_scored())
            .map(|(slot, s)| each(slot, &sims[s.rows.clone()]))
            .collect()
    }

    /// The scored slot `slot` and its passages' dot products with `query`, computed with the same
    /// kernel as [`VectorSet::per_scored_slot`]'s scan.
    fn slot_sims(&self, slot: usize, query: &[f32]) -> Option<(&Slot, Vec<f32>)> {
        let s = self.slots.get(slot).filter(|s| s.is_scored())?;
        Some((s, dot_rows(&self.data[s.rows.start * self.dim..s.rows.end * self.dim], self.dim, query)))
    }

    /// Number of slots (live and retired): the bound of every slot index, for per-slot arrays.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Slot of a profile id.
    pub fn slot_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// One unit vector per live profile, the normalised mean of its passage vectors, in slot
    /// order: a single point per profile for the landscape map.
    pub fn mean_vectors(&self) -> Vec<(String, Vec<f32>)> {
        let mut out = Vec::with_capacity(self.by_id.len());
        for s in self.slots.iter().filter(|s| s.is_scored()) {
            out.push((s.id.to_string(), self.mean_of(s.rows.clone())));
        }
        out
    }

    /// The unit mean of one profile's passage vectors (see [`VectorSet::mean_vectors`]).
    pub fn mean_vector(&self, id: &str) -> Option<Vec<f32>> {
        let s = &self.slots[self.slot_of(id)?];
        s.is_scored().then(|| self.mean_of(s.rows.clone()))
    }

    fn mean_of(&self, rows: std::ops::Range<usize>) -> Vec<f32> {
        let mut mean = self.passage_sum(rows);
        let length = norm(&mean);
        if length > 0.0 {
            mean.iter_mut().for_each(|x| *x /= length);
        }
        mean
    }

    /// The sum of the passage vectors in `rows`.
    fn passage_sum(&self, rows: std::ops::Range<usize>) -> Vec<f32> {
        let mut sum = vec![0f32; self.dim];
        for row in rows {
            for (m, v) in sum.iter_mut().zip(&self.data[row * self.dim..(row + 1) * self.dim]) {
                *m += v;
            }
        }
        sum
    }
}

/// Euclidean length of `v`.
fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

/// The index and value of the highest of a profile's passage dot products (the first among
/// equals).
fn best_of(sims: &[f32]) -> (usize, f32) {
    sims.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best })
}

/// The cosine of a mean vector whose passages' dot products with the query sum to `dot_sum`.
fn mean_cosine_of(dot_sum: f32, sum_norm: f32) -> f32 {
    if sum_norm > 0.0 {
        dot_sum / sum_norm
    } else {
        0.0
    }
}

/// `data` (rows of `dim` values) times `query`: one dot product per row. This scan is most of
/// the cost of an uncached shortlist at 100,000 profiles, so it uses AVX2 + FMA where the CPU has
/// them (the portable build only assumes SSE2).
pub fn dot_rows(data: &[f32], dim: usize, query: &[f32]) -> Vec<f32> {
    assert_eq!(query.len(), dim, "query length must equal the dimension");
    #[cfg(target_arch = "x86_64")]
    {
        if dim.is_multiple_of(8)
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has the features; rows and query are whole multiples of 8 floats.
            return unsafe { dot_rows_avx2(data, dim, query) };
        }
    }
    data.chunks_exact(dim).map(|row| row.iter().zip(query).map(|(a, b)| a * b).sum()).collect()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_rows_avx2(data: &[f32], dim: usize, query: &[f32]) -> Vec<f32> {
    use std::arch::x86_64::*;
    let mut out = Vec::with_capacity(data.len() / dim);
    for row in data.chunks_exact(dim) {
        // Two accumulators hide the FMA latency.
        let (mut a, mut b) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i + 16 <= dim {
            a = _mm256_fmadd_ps(_mm256_loadu_ps(row.as_ptr().add(i)), _mm256_loadu_ps(query.as_ptr().add(i)), a);
            b = _mm256_fmadd_ps(
                _mm256_loadu_ps(row.as_ptr().add(i + 8)),
                _mm256_loadu_ps(query.as_ptr().add(i + 8)),
                b,
            );
            i += 16;
        }
        if i < dim {
            a = _mm256_fmadd_ps(_mm256_loadu_ps(row.as_ptr().add(i)), _mm256_loadu_ps(query.as_ptr().add(i)), a);
        }
        let v = _mm256_add_ps(a, b);
        let halves = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
        out.push(_mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn profile(id: &str) -> Profile {
        Profile::minimal(id, id, "a summary of twenty characters")
    }

    #[test]
    fn dot_rows_matches_plain_dot_products() {
        for dim in [384, 24, 8, 5] {
            let data: Vec<f32> = (0..dim * 7).map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0).collect();
            let query: Vec<f32> = (0..dim).map(|i| ((i * 13 % 29) as f32 - 14.0) / 14.0).collect();
            let got = dot_rows(&data, dim, &query);
            assert_eq!(got.len(), 7);
            for (row, value) in data.chunks_exact(dim).zip(&got) {
                let want: f64 = row.iter().zip(&query).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
                assert!((f64::from(*value) - want).abs() < 1e-4 * want.abs().max(1.0), "dim {dim}: {value} vs {want}");
            }
        }
    }

    #[test]
    fn mean_cosines_are_the_cosines_of_the_mean_vectors_in_score_all_order() {
        let mut set = VectorSet::new(2);
        set.upsert(&profile("a"), &[unit(&[1.0, 0.0]), unit(&[0.0, 1.0])]);
        set.upsert(&profile("b"), &[unit(&[1.0, 1.0])]);
        set.upsert(&profile("gone"), &[unit(&[-1.0, 0.0])]);
        set.upsert(&profile("c"), &[unit(&[1.0, -2.0]), unit(&[1.0, 0.5]), unit(&[-0.3, 1.0])]);
        set.remove("gone");
        let query = unit(&[0.6, 0.8]);
        let all = set.mean_cosines(&query);
        let hits = set.score_all(&query);
        assert_eq!(all.len(), hits.len());
        for (hit, cosine) in hits.iter().zip(&all) {
            let id = set.profile_id(hit.slot).to_string();
            let mean = set.mean_vector(&id).expect("mean");
            let want: f32 = mean.iter().zip(&query).map(|(m, q)| m * q).sum();
            assert!((cosine - want).abs() < 1e-5, "{id}: {cosine} vs {want}");
            assert_eq!(set.mean_cosine(hit.slot, &query), Some(*cosine), "{id}: one profile as in the scan");
        }
        // "a": passages along both axes, mean along the diagonal.
        assert!((all[0] - (0.6 + 0.8) / 2f32.sqrt()).abs() < 1e-5);
        assert_eq!(set.mean_cosine(set.slot_count() + 1, &query), None);
    }

    #[test]
    fn a_reserved_set_loads_without_growing_its_matrix() {
        let mut set = VectorSet::new(2);
        set.reserve(300, 100);
        let (data, slots) = (set.data.as_ptr(), set.slots.capacity());
        for i in 0..100 {
            let passages = vec![unit(&[1.0, i as f32]); 3];
            set.upsert(&profile(&format!("p{i}")), &passages);
        }
        assert_eq!(set.data.len(), 600);
        assert_eq!(set.data.as_ptr(), data, "the matrix was reallocated");
        assert_eq!(set.slots.capacity(), slots);
        assert_eq!(set.score_all(&[0.0, 1.0]).len(), 100);
    }

    #[test]
    fn languages_count_live_profiles_only() {
        let mut set = VectorSet::new(2);
        for i in 0..3 {
            set.upsert(&profile(&format!("en{i}")), &[unit(&[1.0, 0.0])]);
            let mut nl = profile(&format!("nl{i}"));
            nl.language = Language::Nl;
            set.upsert(&nl, &[unit(&[0.0, 1.0])]);
        }
        assert_eq!(set.languages_with(3), 2);
        set.upsert(&profile("en0"), &[unit(&[1.0, 1.0])]);
        assert_eq!(set.languages_with(3), 2, "a replaced profile counts once");
        set.remove("nl0");
        assert_eq!(set.languages_with(3), 1);
        assert_eq!(set.languages_with(2), 2);
    }

    #[test]
    fn best_passage_wins_and_updates_replace() {
        let mut set = VectorSet::new(2);
        set.upsert(&profile("a"), &[unit(&[1.0, 0.0]), unit(&[0.0, 1.0])]);
        set.upsert(&profile("b"), &[unit(&[1.0, 1.0])]);
        let hits = set.score_all(&[0.0, 1.0]);
        let a = hits.iter().find(|h| set.profile_id(h.slot) == "a").unwrap();
        assert_eq!(a.passage, 1);
        assert!((a.cosine - 1.0).abs() < 1e-6);
        set.upsert(&profile("a"), &[unit(&[1.0, 0.0])]);
        let hits = set.score_all(&[0.0, 1.0]);
        assert_eq!(hits.len(), 2);
        let a = hits.iter().find(|h| set.profile_id(h.slot) == "a").unwrap();
        assert!(a.cosine.abs() < 1e-6);
        assert!(set.remove("b"));
        set.compact();
        assert_eq!(set.score_all(&[0.0, 1.0]).len(), 1);
        assert_eq!(set.len(), 1);
    }
}
