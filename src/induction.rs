//! Concept induction: which terms of a collection mean the same across its languages, asked of the
//! encoder word by word. No word list says that `klant` is `client` is `customer`; the
//! multilingual encoder places them close when each is embedded alone, once two distortions are
//! taken off. Single words of one language sit close to everything of that language (a cosine of
//! about 0.9 to any other word), so each language's mean vector is subtracted from its terms; and
//! some words are close to everything (hubs), so a pair is judged by CSLS, its cosine minus each
//! side's mean cosine to its ten nearest neighbours. Terms that are each other's best CSLS match
//! across two languages, at a plain cosine of at least the threshold, are joined; the joined
//! groups are the induced concepts ([`crate::search::induced`]). On the dev set with the glossary
//! switched off this lifted nDCG@10 from 0.816 to 0.83 and the Dutch profiles' rank for French
//! demand areas most (see `docs/benchmarks.md`); the glossary still adds what the encoder does not
//! know word by word.

use ndarray::{Array2, ArrayView1, Axis};

use crate::domain::Language;
use crate::search::induced::{candidate_terms, InducedConcept, InducedConcepts};

/// Plain cosine (after centring) a pair must reach: the dev set scores alike from 0.55 to 0.7;
/// below, unrelated words pair up, above, too few pairs remain to matter.
pub const ALIGN_MIN_COSINE: f32 = 0.65;

/// Neighbours CSLS averages over for a term's hubness.
const CSLS_NEIGHBOURS: usize = 10;

/// Terms per language offered to the encoder: enough for the vocabulary of several thousand
/// profiles, and it bounds the induction of 100,000 to seconds of embedding and a similarity
/// matrix of 144 MB.
pub const MAX_TERMS_PER_LANGUAGE: usize = 6_000;

/// Terms embedded per call to the encoder.
const EMBED_BATCH: usize = 512;

/// The induced concepts of a collection of `(language, text)` (profiles and demand areas):
/// candidate terms per language ([`candidate_terms`]), embedded with `embed` (which must embed
/// queries as the encoder does for search words), aligned with [`align`]. Nothing is embedded when
/// fewer than two languages offer terms: there is nothing to cross.
pub fn induce<E>(
    texts: &[(Language, &str)],
    mut embed: impl FnMut(&[&str]) -> Result<Vec<Vec<f32>>, E>,
) -> Result<InducedConcepts, E> {
    let terms = candidate_terms(texts, MAX_TERMS_PER_LANGUAGE);
    if terms.iter().filter(|t| !t.is_empty()).count() < 2 {
        return Ok(InducedConcepts::empty());
    }
    let mut vectors: [Vec<Vec<f32>>; 3] = Default::default();
    for lang in Language::ALL {
        let l = lang.index();
        for chunk in terms[l].chunks(EMBED_BATCH) {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            vectors[l].extend(embed(&refs)?);
        }
    }
    Ok(align(&terms, &vectors, ALIGN_MIN_COSINE))
}

/// Rows of `vectors` with their mean taken off, each scaled to unit length.
fn centred(vectors: &[Vec<f32>]) -> Array2<f32> {
    let dim = vectors.first().map_or(0, Vec::len);
    let mut m = Array2::<f32>::zeros((vectors.len(), dim));
    for (mut row, v) in m.rows_mut().into_iter().zip(vectors) {
        if v.len() == dim {
            row.assign(&ArrayView1::from(v.as_slice()));
        }
    }
    if let Some(mean) = m.mean_axis(Axis(0)) {
        m -= &mean;
    }
    for mut row in m.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 1e-12 {
            row /= norm;
        }
    }
    m
}

/// Mean of the `k` largest values of `values`.
fn mean_of_top(values: ArrayView1<f32>, k: usize) -> f32 {
    let mut v: Vec<f32> = values.to_vec();
    let k = k.min(v.len());
    if k == 0 {
        return 0.0;
    }
    v.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    v[..k].iter().sum::<f32>() / k as f32
}

/// Index of the largest value, the first of equals.
fn argmax(values: impl Iterator<Item = f32>) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, v) in values.enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// Pairs `(i, j)` of rows of `a` and `b` (centred unit vectors) that are each other's best match
/// by CSLS and whose cosine is at least `min_cosine`.
fn mutual_pairs(a: &Array2<f32>, b: &Array2<f32>, min_cosine: f32) -> Vec<(usize, usize)> {
    if a.nrows() == 0 || b.nrows() == 0 {
        return Vec::new();
    }
    let sim = a.dot(&b.t());
    let hub_a: Vec<f32> = sim.rows().into_iter().map(|r| mean_of_top(r, CSLS_NEIGHBOURS)).collect();
    let hub_b: Vec<f32> = sim.columns().into_iter().map(|c| mean_of_top(c, CSLS_NEIGHBOURS)).collect();
    // CSLS(i, j) = 2 cos - hub_a[i] - hub_b[j]; a row's constant drops out of its own argmax.
    let best_b: Vec<Option<usize>> =
        sim.rows().into_iter().map(|r| argmax(r.iter().zip(&hub_b).map(|(s, h)| 2.0 * s - h))).collect();
    let best_a: Vec<Option<usize>> =
        sim.columns().into_iter().map(|c| argmax(c.iter().zip(&hub_a).map(|(s, h)| 2.0 * s - h))).collect();
    best_b
        .iter()
        .enumerate()
        .filter_map(|(i, j)| j.map(|j| (i, j)))
        .filter(|&(i, j)| best_a[j] == Some(i) && sim[[i, j]] >= min_cosine)
        .collect()
}

/// Joins terms across languages (`terms` and their `vectors` per language, indexed by
/// [`Language::index`]): every mutual best CSLS pair of two languages at a cosine of at least
/// `min_cosine`, after each language's mean vector is taken off, links its two terms, and each
/// linked group spanning two languages or more is a concept. Concepts come in the order of their
/// first term (English, Dutch, French, then alphabetical), so the same input gives the same ids.
pub fn align(terms: &[Vec<String>; 3], vectors: &[Vec<Vec<f32>>; 3], min_cosine: f32) -> InducedConcepts {
    let centred: Vec<Array2<f32>> = Language::ALL.iter().map(|l| centred(&vectors[l.index()])).collect();
    let offset: Vec<usize> =
        Language::ALL.iter().scan(0, |at, l| Some(std::mem::replace(at, *at + terms[l.index()].len()))).collect();
    let total: usize = terms.iter().map(Vec::len).sum();
    let mut parent: Vec<usize> = (0..total).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut linked = vec![false; total];
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        for (i, j) in mutual_pairs(&centred[a], &centred[b], min_cosine) {
            let (x, y) = (offset[a] + i, offset[b] + j);
            let (rx, ry) = (find(&mut parent, x), find(&mut parent, y));
            parent[rx] = ry;
            linked[x] = true;
            linked[y] = true;
        }
    }
    let mut groups: std::collections::BTreeMap<usize, InducedConcept> = std::collections::BTreeMap::new();
    for (l, lang_terms) in terms.iter().enumerate() {
        for (i, term) in lang_terms.iter().enumerate() {
            let node = offset[l] + i;
            if linked[node] {
                let root = find(&mut parent, node);
                groups.entry(root).or_default().terms[l].push(term.clone());
            }
        }
    }
    let order = [Language::En.index(), Language::Nl.index(), Language::Fr.index()];
    let mut concepts: Vec<InducedConcept> = groups.into_values().collect();
    for c in &mut concepts {
        for t in &mut c.terms {
            t.sort();
        }
    }
    let first_term = |c: &InducedConcept| -> (usize, String) {
        order
            .iter()
            .enumerate()
            .find_map(|(rank, &l)| c.terms[l].first().map(|t| (rank, t.clone())))
            .unwrap_or_default()
    };
    concepts.sort_by_cached_key(first_term);
    InducedConcepts::from_concepts(concepts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit-ish vector along axis `axis` of 6, plus a shared language offset and some noise.
    fn vector(axis: usize, language_offset: f32, noise: f32) -> Vec<f32> {
        let mut v = vec![language_offset; 6];
        v[axis] += 1.0;
        v[(axis + 1) % 6] += noise;
        v
    }

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    /// Terms along `axes` in one language, with its offset.
    fn along(axes: &[usize], language_offset: f32) -> Vec<Vec<f32>> {
        axes.iter().map(|&a| vector(a, language_offset, 0.0)).collect()
    }

    #[test]
    fn terms_at_the_same_point_join_across_languages_once_the_language_offset_is_gone() {
        // Dutch and English words for six meanings, each language shifted as a whole (the
        // encoder's language offset).
        let nl = terms(&["klant", "levering", "warmte", "rem", "deur", "stoel"]);
        let en = terms(&["customer", "delivery", "heat", "brake", "door", "seat"]);
        let lex = align(
            &[nl, en, Vec::new()],
            &[along(&[0, 1, 2, 3, 4, 5], 3.0), along(&[0, 1, 2, 3, 4, 5], -2.0), Vec::new()],
            0.5,
        );
        assert_eq!(lex.len(), 6);
        for (nl, en) in [("klant", "customer"), ("levering", "delivery"), ("stoel", "seat")] {
            assert_eq!(lex.mentions(Language::Nl, nl)[0].0, lex.mentions(Language::En, en)[0].0, "{nl} = {en}");
        }
        assert_ne!(lex.mentions(Language::Nl, "klant")[0].0, lex.mentions(Language::En, "seat")[0].0);
        // Ids follow the first English term: brake, customer, delivery, door, heat, seat.
        assert_eq!(lex.mentions(Language::En, "brake")[0].0, "i1");
        assert_eq!(lex.mentions(Language::En, "seat")[0].0, "i6");
    }

    #[test]
    fn a_pair_below_the_threshold_or_not_mutual_stays_apart() {
        // Two Dutch words compete for "customer"; "heat" has no Dutch or French counterpart.
        let nl = terms(&["klant", "klanten", "n2", "n4", "n5"]);
        let en = terms(&["customer", "heat", "e2", "e4", "e5"]);
        let fr = terms(&["client", "f1", "f2", "f4", "f5"]);
        let mut v_nl = along(&[0, 0, 2, 4, 5], 0.0);
        v_nl[1] = vector(0, 0.0, 0.3);
        let mut v_en = along(&[0, 3, 2, 4, 5], 0.0);
        v_en[0] = vector(0, 0.0, 0.05);
        let mut v_fr = along(&[0, 1, 2, 4, 5], 0.0);
        v_fr[0] = vector(0, 0.0, 0.02);
        let all = |t: f32| align(&[nl.clone(), en.clone(), fr.clone()], &[v_nl.clone(), v_en.clone(), v_fr.clone()], t);
        assert!(all(1.01).is_empty(), "no cosine reaches 1.01");
        let lex = all(0.3);
        let found = lex.mentions(Language::Nl, "klant klanten");
        assert_eq!(found.len(), 1, "only the mutual best match joins: {found:?}");
        assert_eq!(found[0].1, "klant");
        assert!(lex.mentions(Language::En, "heat").is_empty(), "{lex:?}");
        // One concept across three languages: customer = klant = client.
        let id = &found[0].0;
        assert_eq!(lex.mentions(Language::Fr, "client")[0].0, *id);
        assert_eq!(lex.mentions(Language::En, "customer")[0].0, *id);
    }

    #[test]
    fn one_language_embeds_nothing() {
        let texts = [(Language::En, "Heat pumps for buses."), (Language::En, "Thermal loops for cabins.")];
        let lex = induce(&texts, |_: &[&str]| -> Result<Vec<Vec<f32>>, String> { Err("must not embed".into()) });
        assert_eq!(lex, Ok(InducedConcepts::empty()));
    }

    #[test]
    fn induction_embeds_each_languages_terms_and_aligns_them() {
        let en = ["thermal", "cabins", "sensors", "brakes", "doors", "seats"];
        let nl = ["warmte", "cabines", "sensoren", "remmen", "deuren", "stoelen"];
        let texts: Vec<(Language, &str)> =
            en.iter().map(|t| (Language::En, *t)).chain(nl.iter().map(|t| (Language::Nl, *t))).collect();
        // A stand-in encoder that knows the six translations.
        let meaning = |t: &str| en.iter().chain(&nl).position(|w| *w == t).map_or(0, |at| at % 6);
        let mut embedded = Vec::new();
        let lex = induce(&texts, |batch: &[&str]| -> Result<Vec<Vec<f32>>, String> {
            embedded.extend(batch.iter().map(|t| t.to_string()));
            Ok(batch.iter().map(|t| vector(meaning(t), 0.0, 0.0)).collect())
        })
        .unwrap();
        assert_eq!(embedded.len(), 12, "{embedded:?}");
        let nl = lex.concept_counts(Language::Nl, "Remmen en sensoren");
        let en = lex.concept_counts(Language::En, "brakes, sensors");
        assert_eq!(nl.len(), 2);
        assert_eq!(nl, en);
    }
}
