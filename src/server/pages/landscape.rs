//! The landscape map: every profile and demand area as a point on one 2-D map, so an organiser sees
//! at a glance where supply is dense and which demand areas sit in empty space. The vectors (e5
//! embeddings, one per profile and one per demand area, embedded alike) are first centred per
//! language — e5 places texts of one language near each other, and without centring the map's
//! main axis is Dutch versus English instead of topic — then projected with PCA (`linfa-reduction`)
//! and the profiles grouped by k-means (`linfa-clustering`) in the full embedding space, each
//! cluster labelled with the terms that set its profiles apart. Everything here is a pure function
//! of its input and a seed, so the same data always draws the same map.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use linfa::traits::{Fit, Predict};
use linfa::DatasetBase;
use linfa_clustering::KMeans;
use linfa_reduction::Pca;
use maud::{html, Markup};
use ndarray::{Array2, Axis};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

use crate::domain::Language;

/// Seed of the k-means initialisation; fixed so the map does not reshuffle between page loads.
pub const DEFAULT_SEED: u64 = 7;

/// What a point stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A supplier's profile.
    Profile,
    /// An OEM's demand area.
    Demand,
}

/// One thing to place on the map.
#[derive(Debug, Clone)]
pub struct Item {
    /// Profile or demand id.
    pub id: String,
    /// Name (profiles) or "organisation: title" (demand areas).
    pub label: String,
    /// Profile or demand area.
    pub kind: ItemKind,
    /// Language of its texts (for the per-language centring).
    pub language: Language,
    /// Terms its cluster's label is chosen from (the web layer uses glossary concepts, which are
    /// the same in every language, or else keywords).
    pub terms: Vec<String>,
    /// Its embedding (unit length).
    pub vector: Vec<f32>,
}

/// A placed item.
#[derive(Debug, Clone, PartialEq)]
pub struct MapPoint {
    /// Index into the input items.
    pub item: usize,
    /// First principal component.
    pub x: f64,
    /// Second principal component.
    pub y: f64,
    /// Cluster (nearest centroid for demand areas).
    pub cluster: usize,
}

/// A k-means cluster of profiles.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Words that are frequent in this cluster's profiles and rare in the others.
    pub terms: Vec<String>,
    /// Number of profiles in it.
    pub profiles: usize,
}

/// How crowded the map is around one demand area.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandSupply {
    /// Index into the input items.
    pub item: usize,
    /// Profiles on the map within a tenth of its width (or height, whichever is larger).
    pub nearby_profiles: usize,
    /// Cosine similarity of the closest profile in the full embedding space.
    pub best_cosine: f32,
}

/// The computed map.
#[derive(Debug, Clone)]
pub struct Landscape {
    /// The input, in input order.
    pub items: Vec<Item>,
    /// One point per item, in input order.
    pub points: Vec<MapPoint>,
    /// The clusters, by number.
    pub clusters: Vec<Cluster>,
    /// Share of the variance the two axes keep.
    pub explained_variance: [f64; 2],
    /// One entry per demand area, sparsest supply first.
    pub demand_supply: Vec<DemandSupply>,
}

/// Why no map could be drawn.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LandscapeError {
    /// PCA needs a few points to find two axes.
    #[error("the map needs at least 3 embedded profiles (there are {0})")]
    TooFewProfiles(usize),
    /// Vectors of different lengths.
    #[error("vectors of different lengths ({0} and {1})")]
    MixedDimensions(usize, usize),
    /// linfa failed (e.g. the SVD did not converge).
    #[error("{0}")]
    Fit(String),
}

fn matrix(vectors: &[&[f32]]) -> Result<Array2<f64>, LandscapeError> {
    let dim = vectors.first().map_or(0, |v| v.len());
    if let Some(v) = vectors.iter().find(|v| v.len() != dim) {
        return Err(LandscapeError::MixedDimensions(dim, v.len()));
    }
    let flat: Vec<f64> = vectors.iter().flat_map(|v| v.iter().map(|&x| f64::from(x))).collect();
    Array2::from_shape_vec((vectors.len(), dim), flat).map_err(|e| LandscapeError::Fit(e.to_string()))
}

/// Projects `points` onto the first two principal components of `basis` (the rows of both are
/// vectors of the same length). Each axis is oriented so that the basis' largest coordinate along
/// it is positive, which makes the picture independent of the SVD's sign choice. Returns the 2-D
/// points and the share of the variance each axis explains.
pub fn project_2d(basis: &Array2<f64>, points: &Array2<f64>) -> Result<(Array2<f64>, [f64; 2]), LandscapeError> {
    if basis.nrows() < 3 {
        return Err(LandscapeError::TooFewProfiles(basis.nrows()));
    }
    let pca = Pca::params(2).fit(&DatasetBase::from(basis.clone())).map_err(|e| LandscapeError::Fit(e.to_string()))?;
    // linfa's explained_variance_ratio is relative to the kept components only (always summing to
    // 1); the map must say how much of the *total* variance its two axes show.
    let centred = basis - &basis.mean_axis(Axis(0)).unwrap_or_else(|| ndarray::Array1::zeros(basis.ncols()));
    let total: f64 = centred.iter().map(|x| x * x).sum();
    let share = |i: usize| pca.singular_values().get(i).map_or(0.0, |s| if total > 0.0 { s * s / total } else { 0.0 });
    let mut flip = [1.0; 2];
    let basis_2d = pca.predict(basis);
    for (axis, sign) in flip.iter_mut().enumerate() {
        let column = basis_2d.index_axis(Axis(1), axis);
        let extreme = column.iter().copied().fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
        if extreme < 0.0 {
            *sign = -1.0;
        }
    }
    let mut projected = pca.predict(points);
    for (axis, sign) in flip.iter().enumerate() {
        projected.index_axis_mut(Axis(1), axis).mapv_inplace(|v| v * sign);
    }
    Ok((projected, [share(0), share(1)]))
}

/// The number of clusters for `n` profiles: about √(n/2), between 2 and 8 (a legend longer than
/// that is no longer "at a glance").
pub fn cluster_count(n: usize) -> usize {
    ((n as f64 / 2.0).sqrt().round() as usize).clamp(2, 8).min(n.max(1))
}

/// k-means over the rows of `data` with a seeded initialisation; returns each row's cluster and a
/// function's worth of centroids for assigning further points.
pub fn kmeans(data: &Array2<f64>, k: usize, seed: u64) -> Result<(Vec<usize>, Array2<f64>), LandscapeError> {
    let rng = Xoshiro256Plus::seed_from_u64(seed);
    let model = KMeans::params_with_rng(k, rng)
        .n_runs(4)
        .max_n_iterations(200)
        .tolerance(1e-6)
        .fit(&DatasetBase::from(data.clone()))
        .map_err(|e| LandscapeError::Fit(e.to_string()))?;
    let labels = model.predict(data).to_vec();
    Ok((labels, model.centroids().clone()))
}

/// Index of the centroid nearest to `v` (squared Euclidean distance).
fn nearest_centroid(centroids: &Array2<f64>, v: &[f64]) -> usize {
    let mut best = (0, f64::INFINITY);
    for (i, c) in centroids.rows().into_iter().enumerate() {
        let d: f64 = c.iter().zip(v).map(|(a, b)| (a - b) * (a - b)).sum();
        if d < best.1 {
            best = (i, d);
        }
    }
    best.0
}

/// The `n` terms that best set each cluster apart: the share of the cluster's items that have the
/// term times its inverse document frequency over all items. A term must occur in at least two of
/// the cluster's items when the cluster has two or more; ties break alphabetically.
pub fn top_terms(terms: &[&[String]], labels: &[usize], k: usize, n: usize) -> Vec<Vec<String>> {
    let docs: Vec<BTreeSet<String>> = terms.iter().map(|t| t.iter().cloned().collect()).collect();
    let mut df: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &docs {
        for w in d {
            *df.entry(w.as_str()).or_default() += 1;
        }
    }
    let total = docs.len() as f64;
    (0..k)
        .map(|cluster| {
            let members: Vec<&BTreeSet<String>> =
                docs.iter().zip(labels).filter(|(_, &l)| l == cluster).map(|(d, _)| d).collect();
            let mut in_cluster: BTreeMap<&str, usize> = BTreeMap::new();
            for d in &members {
                for w in d.iter() {
                    *in_cluster.entry(w.as_str()).or_default() += 1;
                }
            }
            let min_count = if members.len() >= 2 { 2 } else { 1 };
            let mut scored: Vec<(f64, &str)> = in_cluster
                .into_iter()
                .filter(|&(_, c)| c >= min_count)
                .map(|(w, c)| {
                    let idf = (total / df[w] as f64).ln();
                    (c as f64 / members.len() as f64 * idf, w)
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            scored.into_iter().take(n).map(|(_, w)| w.to_string()).collect()
        })
        .collect()
}

/// Subtracts from every vector the mean of the profiles of its language (the mean of all profiles
/// for a language no profile has) and re-normalises, so that what remains is topic, not language.
pub fn centre_by_language(items: &mut [Item]) {
    let dim = items.first().map_or(0, |i| i.vector.len());
    let mut sums: HashMap<Option<Language>, (Vec<f64>, usize)> = HashMap::new();
    for item in items.iter().filter(|i| i.kind == ItemKind::Profile && i.vector.len() == dim) {
        for key in [Some(item.language), None] {
            let (sum, n) = sums.entry(key).or_insert_with(|| (vec![0.0; dim], 0));
            sum.iter_mut().zip(&item.vector).for_each(|(s, &v)| *s += f64::from(v));
            *n += 1;
        }
    }
    for item in items.iter_mut().filter(|i| i.vector.len() == dim) {
        let Some((sum, n)) = sums.get(&Some(item.language)).or_else(|| sums.get(&None)) else { return };
        for (v, s) in item.vector.iter_mut().zip(sum) {
            *v -= (s / *n as f64) as f32;
        }
        let norm = item.vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 1e-6 {
            item.vector.iter_mut().for_each(|x| *x /= norm);
        }
    }
}

/// Builds the map: PCA fitted on the profiles (supply defines the axes), demand areas projected
/// onto them; k-means over the profiles' full vectors, demand areas assigned to the nearest centroid.
pub fn build(mut items: Vec<Item>, seed: u64) -> Result<Landscape, LandscapeError> {
    centre_by_language(&mut items);
    let profile_rows: Vec<usize> = (0..items.len()).filter(|&i| items[i].kind == ItemKind::Profile).collect();
    if profile_rows.len() < 3 {
        return Err(LandscapeError::TooFewProfiles(profile_rows.len()));
    }
    let all: Vec<&[f32]> = items.iter().map(|i| i.vector.as_slice()).collect();
    let all = matrix(&all)?;
    let profiles = all.select(Axis(0), &profile_rows);
    let (xy, explained_variance) = project_2d(&profiles, &all)?;
    let k = cluster_count(profile_rows.len());
    let (profile_labels, centroids) = kmeans(&profiles, k, seed)?;

    let mut cluster_of = vec![0; items.len()];
    for (&row, &label) in profile_rows.iter().zip(&profile_labels) {
        cluster_of[row] = label;
    }
    for (i, item) in items.iter().enumerate() {
        if item.kind == ItemKind::Demand {
            cluster_of[i] = nearest_centroid(&centroids, &all.row(i).to_vec());
        }
    }
    let terms: Vec<&[String]> = profile_rows.iter().map(|&r| items[r].terms.as_slice()).collect();
    let clusters = top_terms(&terms, &profile_labels, k, 3)
        .into_iter()
        .enumerate()
        .map(|(c, terms)| Cluster { terms, profiles: profile_labels.iter().filter(|&&l| l == c).count() })
        .collect();
    let points: Vec<MapPoint> =
        (0..items.len()).map(|i| MapPoint { item: i, x: xy[[i, 0]], y: xy[[i, 1]], cluster: cluster_of[i] }).collect();

    // "Nearby" is a tenth of the map's larger side: the distance the eye groups points by.
    let span = |axis: usize| {
        let (lo, hi) = profile_rows
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| (lo.min(xy[[r, axis]]), hi.max(xy[[r, axis]])));
        hi - lo
    };
    let radius = span(0).max(span(1)) / 10.0;
    let mut demand_supply: Vec<DemandSupply> = points
        .iter()
        .filter(|p| items[p.item].kind == ItemKind::Demand)
        .map(|d| {
            let nearby_profiles =
                profile_rows.iter().filter(|&&r| (points[r].x - d.x).hypot(points[r].y - d.y) <= radius).count();
            let best_cosine = profile_rows
                .iter()
                .map(|&r| items[r].vector.iter().zip(&items[d.item].vector).map(|(a, b)| a * b).sum::<f32>())
                .fold(f32::NEG_INFINITY, f32::max);
            DemandSupply { item: d.item, nearby_profiles, best_cosine }
        })
        .collect();
    demand_supply.sort_by(|a, b| {
        a.nearby_profiles
            .cmp(&b.nearby_profiles)
            .then(a.best_cosine.total_cmp(&b.best_cosine))
            .then(a.item.cmp(&b.item))
    });
    Ok(Landscape { items, points, clusters, explained_variance, demand_supply })
}

/// Colours for up to 8 clusters, distinguishable for the common forms of colour blindness (Okabe-Ito).
pub const PALETTE: [&str; 8] = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"];

/// Drawing area of the SVG, in user units.
const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 620.0;
const MARGIN: f64 = 40.0;

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

/// Renders the map as an inline SVG element: profiles as dots, demand areas as labelled diamonds,
/// both coloured by cluster, every point with a tooltip. Only presentation attributes are used
/// (no `style`), so the page's Content-Security-Policy can forbid inline styles.
pub fn render_svg(map: &Landscape) -> Markup {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for p in &map.points {
        x0 = x0.min(p.x);
        x1 = x1.max(p.x);
        y0 = y0.min(p.y);
        y1 = y1.max(p.y);
    }
    let sx = if x1 > x0 { (WIDTH - 2.0 * MARGIN) / (x1 - x0) } else { 1.0 };
    let sy = if y1 > y0 { (HEIGHT - 2.0 * MARGIN) / (y1 - y0) } else { 1.0 };
    let to_screen = |x: f64, y: f64| (MARGIN + (x - x0) * sx, HEIGHT - MARGIN - (y - y0) * sy);
    let colour = |c: usize| PALETTE[c % PALETTE.len()];
    let cluster_name = |c: usize| map.clusters.get(c).map(|cl| cl.terms.join(", ")).unwrap_or_default();
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) class="landscape"
            role="img" aria-labelledby="landscape-title" {
            title id="landscape-title" { "Landscape of profiles and demand areas" }
            rect x="0" y="0" width=(WIDTH) height=(HEIGHT) fill="#ffffff" stroke="#d0d7de" {}
            text x=(MARGIN) y=(HEIGHT - 12.0) font-size="12" fill="#57606a" {
                (format!("PC1 ({:.0}% of variance) →", map.explained_variance[0] * 100.0))
            }
            text x="14" y=(HEIGHT - MARGIN) font-size="12" fill="#57606a"
                transform=(format!("rotate(-90 14 {})", HEIGHT - MARGIN)) {
                (format!("PC2 ({:.0}% of variance) →", map.explained_variance[1] * 100.0))
            }
            @for p in map.points.iter().filter(|p| map.items[p.item].kind == ItemKind::Profile) {
                @let (x, y) = to_screen(p.x, p.y);
                circle class="profile" cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="6" fill=(colour(p.cluster))
                    stroke="#ffffff" stroke-width="1" {
                    title { (map.items[p.item].label) " — cluster " (p.cluster + 1) ": " (cluster_name(p.cluster)) }
                }
            }
            @for p in map.points.iter().filter(|p| map.items[p.item].kind == ItemKind::Demand) {
                @let (x, y) = to_screen(p.x, p.y);
                @let d = 9.0;
                polygon class="demand"
                    points=(format!("{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}", x, y - d, x + d, y, x, y + d, x - d, y))
                    fill=(colour(p.cluster)) stroke="#1f2328" stroke-width="2" {
                    title { "Demand: " (map.items[p.item].label) " — nearest cluster " (p.cluster + 1) }
                }
                // Labels on the right half point left, so none runs off the map.
                @let (label_x, anchor) = if x > WIDTH * 0.6 { (x - 11.0, "end") } else { (x + 11.0, "start") };
                text x=(format!("{label_x:.1}")) y=(format!("{:.1}", y + 4.0)) font-size="11" fill="#1f2328" text-anchor=(anchor) {
                    (shorten(&map.items[p.item].label, 38))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight groups of 6 points in 8 dimensions plus two demand areas: one inside a group,
    /// one far from every group.
    fn fixture() -> Vec<Item> {
        let centres = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let words =
            [["battery", "cell", "cooling"], ["carbon", "composite", "panel"], ["camera", "lidar", "perception"]];
        let mut items = Vec::new();
        for (g, centre) in centres.iter().enumerate() {
            for i in 0..6 {
                let jitter = (i as f32 - 2.5) * 0.02;
                let mut v = vec![0.0f32; 8];
                v[..3].copy_from_slice(&centre.map(|c| c as f32));
                v[3 + (i % 5)] = jitter;
                items.push(Item {
                    id: format!("p{g}{i}"),
                    label: format!("Profile {g}.{i}"),
                    kind: ItemKind::Profile,
                    language: Language::En,
                    terms: words[g]
                        .iter()
                        .map(|w| w.to_string())
                        .chain([format!("supplier{i}"), "specialist".into()])
                        .collect(),
                    vector: v,
                });
            }
        }
        let near = vec![0.95, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let far = vec![-1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        items.push(Item {
            id: "d-near".into(),
            label: "OEM: cells".into(),
            kind: ItemKind::Demand,
            language: Language::Fr,
            terms: Vec::new(),
            vector: near,
        });
        items.push(Item {
            id: "d-far".into(),
            label: "OEM: <far>".into(),
            kind: ItemKind::Demand,
            language: Language::Fr,
            terms: Vec::new(),
            vector: far,
        });
        items
    }

    #[test]
    fn same_input_and_seed_give_the_same_map() {
        let a = build(fixture(), DEFAULT_SEED).unwrap();
        let b = build(fixture(), DEFAULT_SEED).unwrap();
        assert_eq!(a.points, b.points);
        assert_eq!(a.clusters, b.clusters);
        assert_eq!(render_svg(&a).into_string(), render_svg(&b).into_string());
    }

    #[test]
    fn kmeans_recovers_the_groups_and_labels_them_with_their_words() {
        let map = build(fixture(), DEFAULT_SEED).unwrap();
        assert_eq!(map.clusters.len(), 3, "√(18/2) = 3 clusters");
        for group in 0..3 {
            let labels: BTreeSet<usize> = map.points[group * 6..group * 6 + 6].iter().map(|p| p.cluster).collect();
            assert_eq!(labels.len(), 1, "group {group} split over clusters {labels:?}");
        }
        let battery = map.points[0].cluster;
        assert_eq!(map.clusters[battery].terms, ["battery", "cell", "cooling"]);
        assert_eq!(map.clusters[battery].profiles, 6);
        // The demand area inside the battery group is assigned to it.
        assert_eq!(map.points[18].cluster, battery);
    }

    #[test]
    fn projection_keeps_groups_apart_and_flags_the_demand_in_empty_space() {
        let map = build(fixture(), DEFAULT_SEED).unwrap();
        let p = |i: usize| (map.points[i].x, map.points[i].y);
        let dist = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
        // Within a group points nearly coincide; between groups they are far apart.
        assert!(dist(p(0), p(1)) < 0.1, "{:?} {:?}", p(0), p(1));
        assert!(dist(p(0), p(6)) > 1.0 && dist(p(6), p(12)) > 1.0 && dist(p(0), p(12)) > 1.0);
        // Three groups span a plane: two axes keep nearly all the variance (the jitter is the rest).
        let sum: f64 = map.explained_variance.iter().sum();
        assert!(sum > 0.95 && sum < 1.0 + 1e-9, "{:?}", map.explained_variance);
        // Sparsest supply first: the far demand has no profile nearby, the near one has its group.
        assert_eq!(map.items[map.demand_supply[0].item].id, "d-far");
        assert_eq!(map.demand_supply[0].nearby_profiles, 0);
        assert_eq!(map.demand_supply[1].nearby_profiles, 6);
    }

    #[test]
    fn projection_axes_do_not_depend_on_the_svd_sign() {
        // Mirrored input must give the same picture: axes are oriented by the data, not the solver.
        let items = fixture();
        let mirrored: Vec<Item> = items
            .iter()
            .cloned()
            .map(|mut i| {
                i.vector.iter_mut().for_each(|x| *x = -*x);
                i
            })
            .collect();
        let a = build(items, DEFAULT_SEED).unwrap();
        let b = build(mirrored, DEFAULT_SEED).unwrap();
        for (p, q) in a.points.iter().zip(&b.points) {
            assert!((p.x - q.x).abs() < 1e-6 && (p.y - q.y).abs() < 1e-6, "{p:?} vs {q:?}");
        }
    }

    #[test]
    fn centring_by_language_maps_topics_not_languages() {
        // Two topics written in two languages; the language adds a large common offset.
        let mut items = Vec::new();
        for (l, language) in [Language::Nl, Language::En].into_iter().enumerate() {
            for topic in 0..2 {
                for i in 0..4 {
                    let mut v = vec![0.0f32; 8];
                    v[topic] = 1.0;
                    v[2 + i] = 0.05;
                    v[6 + l] = 3.0;
                    items.push(Item {
                        id: format!("{language}-{topic}-{i}"),
                        label: String::new(),
                        kind: ItemKind::Profile,
                        language,
                        terms: vec![format!("topic{topic}")],
                        vector: v,
                    });
                }
            }
        }
        let map = build(items, DEFAULT_SEED).unwrap();
        let at = |i: usize| (map.points[i].x, map.points[i].y);
        let dist = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
        // Same topic in the two languages: together. Different topics in one language: apart.
        let same_topic = dist(at(0), at(8));
        let other_topic = dist(at(0), at(4));
        assert!(same_topic * 5.0 < other_topic, "same topic {same_topic}, other topic {other_topic}");
    }

    #[test]
    fn svg_escapes_labels_and_uses_no_inline_style() {
        let svg = render_svg(&build(fixture(), DEFAULT_SEED).unwrap()).into_string();
        assert!(svg.contains("OEM: &lt;far&gt;"), "label not escaped");
        assert!(!svg.contains("<far>"));
        assert!(!svg.contains("style="), "inline styles break the CSP");
        assert_eq!(svg.matches("<circle").count(), 18);
        assert_eq!(svg.matches("<polygon").count(), 2);
    }

    #[test]
    fn too_few_profiles_is_an_error_not_a_panic() {
        let items: Vec<Item> = fixture().into_iter().skip(16).collect();
        assert_eq!(build(items, DEFAULT_SEED).unwrap_err(), LandscapeError::TooFewProfiles(2));
        let mut bad = fixture();
        bad[3].vector.push(0.0);
        assert!(matches!(build(bad, DEFAULT_SEED), Err(LandscapeError::MixedDimensions(8, 9))));
    }

    #[test]
    fn cluster_count_grows_slowly_and_is_bounded() {
        assert_eq!(cluster_count(3), 2);
        assert_eq!(cluster_count(18), 3);
        assert_eq!(cluster_count(56), 5);
        assert_eq!(cluster_count(10_000), 8);
    }
}
