//! Turning a ranked row into an entry an organiser can read: the demand terms found per profile
//! field, the shared glossary concepts, the passage that matched and the sentence that sums it up.
//! Explaining means analysing the profile's text (stemming in its language), which costs more than
//! everything else a shortlist served from a cached ranking does, so each profile's analysed text
//! is kept (by id, with a fingerprint of the text it came from) in a cache bounded by tokens.

use std::sync::Arc;

use crate::domain::{Language, Profile, Ranker};
use crate::rank::{self, Explanation, ScoreBreakdown, ShortlistEntry};
use crate::search::{cognates, explain, profile_text, Glossary, InducedConcepts, LexicalQuery};

/// Analysed profile tokens kept, over all profiles: about 80 bytes each, so some 20 MB — a batch
/// ranking's few hundred profiles several times over.
const ANALYSED_CACHE_TOKENS: u64 = 250_000;

/// A query text analysed for the index and the glossary. Analysing a demand area's text (three
/// languages' stemmers, the glossary) costs more than serving its shortlist from a cached ranking,
/// so it is kept with the ranking.
#[derive(Debug)]
pub struct QueryAnalysis {
    /// The text analysed per language, for BM25 and matched terms.
    pub query: LexicalQuery,
    /// Glossary concepts of the text with their counts, ordered by concept id.
    pub concepts: Vec<(String, u32)>,
    /// The same concept ids in the order an explanation names them: see
    /// [`QueryAnalysis::name_rarest_first`].
    pub concepts_to_name: Vec<String>,
    /// The distinct word grams of the text (shared roots across languages).
    pub grams: Vec<String>,
    /// The text's words by their grams, to name the profile words that share a root with them.
    pub roots: cognates::RootPairs,
    /// Induced concepts of the text with their counts, ordered by concept id.
    pub induced: Vec<(String, u32)>,
    /// The induced concepts the text was analysed with (those of the index when it was ranked).
    pub induced_concepts: Arc<InducedConcepts>,
    /// Per induced concept of the text, the term that first names it there, ordered by id.
    pub induced_terms: Vec<(String, String)>,
    /// Per entry of `induced_terms`, its place when the pairs are named: fewest profiles first
    /// (see [`QueryAnalysis::name_induced_rarest_first`]); text order until then.
    pub induced_rank: Vec<u64>,
}

impl QueryAnalysis {
    /// Analyses `text` as `language`, with the glossary and the collection's induced concepts.
    pub fn new(
        glossary: &Glossary,
        induced_concepts: Arc<InducedConcepts>,
        text: &str,
        language: Language,
    ) -> QueryAnalysis {
        let mut counts: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
        for c in glossary.concept_ids(language, text) {
            *counts.entry(c.to_string()).or_default() += 1;
        }
        let concepts: Vec<(String, u32)> = counts.into_iter().collect();
        let (induced, induced_terms) = induced_of(&induced_concepts, language, text);
        QueryAnalysis {
            query: LexicalQuery::new(text, language),
            concepts_to_name: concepts.iter().map(|(c, _)| c.clone()).collect(),
            concepts,
            grams: cognates::query_grams(text),
            roots: cognates::RootPairs::of_query(text, language),
            induced,
            induced_rank: Vec::new(),
            induced_terms,
            induced_concepts,
        }
    }

    /// Orders the induced concepts an explanation names by how many profiles mention each
    /// (`profiles`, in the order of [`QueryAnalysis::induced`], which is that of `induced_terms`),
    /// fewest first: `before` = `voordat` is true of many texts and says little, a pair only a
    /// few profiles share says what the match is about.
    pub fn name_induced_rarest_first(&mut self, profiles: &[u64]) {
        self.induced_rank = profiles.to_vec();
    }

    /// The profile's terms that share an induced concept with the text, each as `profile term
    /// (demand term)`, each concept once: those fewest profiles mention first, then in the order
    /// the profile says them. A profile term for which `said` is true is left out (the explanation
    /// names it already).
    pub fn aligned_terms(&self, profile: &Profile, said: impl Fn(&str) -> bool) -> Vec<String> {
        if self.induced.is_empty() {
            return Vec::new();
        }
        let mut named = std::collections::HashSet::new();
        let mut pairs: Vec<(u64, String)> = self
            .induced_concepts
            .mentions(profile.language, &profile_text(profile))
            .into_iter()
            .filter_map(|(id, mine)| {
                let at = self.induced_terms.binary_search_by(|(c, _)| c.as_str().cmp(&id)).ok()?;
                let theirs = &self.induced_terms[at].1;
                let rank = self.induced_rank.get(at).copied().unwrap_or(0);
                (named.insert(id) && mine != theirs && !said(mine)).then(|| (rank, format!("{mine} ({theirs})")))
            })
            .collect();
        pairs.sort_by_key(|(rank, _)| *rank);
        pairs.into_iter().map(|(_, pair)| pair).collect()
    }

    /// Orders the concepts an explanation names by how many profiles mention each (`profiles`, in
    /// the order of [`QueryAnalysis::concepts`]), fewest first. A concept nearly every profile
    /// mentions (`vehicle`, `partner`) is true of almost any match and tells an organiser little;
    /// named first, it would push the telling ones past the few a sentence has room for.
    pub fn name_rarest_first(&mut self, profiles: &[u64]) {
        let mut order: Vec<(u64, &String)> = self.concepts.iter().zip(profiles).map(|((c, _), &n)| (n, c)).collect();
        order.sort();
        self.concepts_to_name = order.into_iter().map(|(_, c)| c.clone()).collect();
    }
}

/// Concept ids with how often a text mentions each, and the same ids with the first term that
/// names each there; both ordered by id.
type CountsAndTerms = (Vec<(String, u32)>, Vec<(String, String)>);

/// Per induced concept `text` mentions, ordered by concept id: how often it does, and the first
/// term that names it.
fn induced_of(induced: &InducedConcepts, language: Language, text: &str) -> CountsAndTerms {
    let mut found: std::collections::BTreeMap<String, (u32, &str)> = std::collections::BTreeMap::new();
    for (id, term) in induced.mentions(language, text) {
        found.entry(id).or_insert((0, term)).0 += 1;
    }
    found.into_iter().map(|(id, (n, term))| ((id.clone(), n), (id, term.to_string()))).unzip()
}

/// A hash of the parts of a profile that [`explain::AnalysedProfile`] depends on.
fn text_fingerprint(profile: &Profile) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (profile.language, &profile.name, &profile.summary, &profile.innovations, &profile.keywords).hash(&mut h);
    h.finish()
}

/// The query's concepts that the profile mentions too, in the order they are named.
fn shared_concepts(glossary: &Glossary, profile: &Profile, query_concepts: &[String]) -> Vec<String> {
    let mut mine: Vec<&str> = glossary.concept_ids(profile.language, &profile_text(profile));
    mine.sort_unstable();
    mine.dedup();
    query_concepts.iter().filter(|c| mine.binary_search(&c.as_str()).is_ok()).cloned().collect()
}

/// The opening of the passage that matched best in meaning, for results without a lexical snippet.
fn best_passage_opening(profile: &Profile, scores: &ScoreBreakdown) -> Option<explain::Snippet> {
    let passage = scores.best_passage.as_deref()?;
    let text = match passage.strip_prefix("innovations[").and_then(|r| r.strip_suffix(']')) {
        Some(i) => profile.innovations.get(i.parse::<usize>().ok()?)?.as_str(),
        None => profile.summary.as_str(),
    };
    let field = if passage == "summary" { "summary" } else { "innovations" };
    Some(explain::opening(field, text))
}

/// Explains shortlist entries, keeping each profile's analysed text.
pub struct Explainer {
    glossary: Arc<Glossary>,
    analysed: moka::sync::Cache<String, (u64, Arc<explain::AnalysedProfile>)>,
}

impl Explainer {
    /// An explainer naming concepts from `glossary`.
    pub fn new(glossary: Arc<Glossary>) -> Explainer {
        let analysed = moka::sync::Cache::builder()
            .max_capacity(ANALYSED_CACHE_TOKENS)
            .weigher(|_: &String, (_, a): &(u64, Arc<explain::AnalysedProfile>)| {
                u32::try_from(a.token_count().max(1)).unwrap_or(u32::MAX)
            })
            .build();
        Explainer { glossary, analysed }
    }

    /// The glossary concepts are named from.
    pub fn glossary(&self) -> &Glossary {
        &self.glossary
    }

    /// A profile's shortlist entry with its explanation (rank set by the caller).
    pub fn entry(
        &self,
        profile: &Profile,
        score: f32,
        mut scores: ScoreBreakdown,
        analysis: &QueryAnalysis,
        ranker: Ranker,
        best_match_name: Option<&str>,
    ) -> ShortlistEntry {
        let lexical = explain::explain_analysed(profile, &self.analysed(profile), &analysis.query);
        let passage = lexical.snippet.clone().or_else(|| best_passage_opening(profile, &scores));
        if ranker == Ranker::Hybrid {
            scores.shared_concepts = shared_concepts(&self.glossary, profile, &analysis.concepts_to_name);
        }
        let language = analysis.query.language;
        let concepts: Vec<String> = scores.shared_concepts.iter().map(|id| self.glossary.label(id, language)).collect();
        // Named where the signal counted (the profile's grams stand out among its peers) and where
        // it crossed languages: within one language the pairs are mostly inflections.
        let crossed = profile.language != analysis.query.language;
        let found: std::collections::HashSet<String> =
            lexical.matched.iter().flat_map(|m| m.terms.iter().map(|t| t.to_lowercase())).collect();
        let root_pairs = if crossed && scores.cognates.is_some_and(|z| z >= rank::ROOTS_SHOWN_FROM) {
            analysis.roots.in_text(&profile_text(profile), |w| found.contains(w))
        } else {
            Vec::new()
        };
        // Named as the word roots are: where the signal counted and crossed languages.
        let aligned_terms = if crossed && scores.induced.is_some_and(|z| z >= rank::ALIGNED_SHOWN_FROM) {
            // A term found as a demand word, or named with a shared root, says nothing new here.
            analysis.aligned_terms(profile, |mine| {
                root_pairs.iter().any(|(rooted, _)| rooted.as_str() == mine)
                    || mine.split(' ').all(|word| found.contains(word))
            })
        } else {
            Vec::new()
        };
        let shared_roots: Vec<String> =
            root_pairs.into_iter().map(|(mine, theirs)| format!("{mine} ({theirs})")).collect();
        let itself = scores.best_match_id.as_deref() == Some(profile.id.as_str());
        let like_best_match = match (scores.best_match, best_match_name) {
            (Some(z), Some(name)) if z >= rank::LIKENESS_SHOWN_FROM && !itself => Some(name.to_string()),
            _ => None,
        };
        let explanation = Explanation {
            reason: rank::reason(
                &scores,
                &lexical,
                &concepts,
                &shared_roots,
                &aligned_terms,
                like_best_match.as_deref(),
            ),
            shared_roots,
            aligned_terms,
            like_best_match,
            scores,
            matched: lexical.matched,
            snippet: passage.as_ref().map(explain::Snippet::marked),
            passage,
            concepts,
            moved_by: None,
        };
        rank::entry(0, profile, score, explanation)
    }

    /// Forgets what was kept about profile `id` (deleted, or its text changed).
    pub fn forget(&self, id: &str) {
        self.analysed.invalidate(id);
    }

    /// `profile`'s text analysed for explanations, from the cache when it was analysed before in
    /// this form. A profile is explained in every shortlist it appears in (300 claims × 10 results
    /// over 300 SciFact abstracts stemmed each abstract ten times), and stemming is most of it.
    fn analysed(&self, profile: &Profile) -> Arc<explain::AnalysedProfile> {
        let fingerprint = text_fingerprint(profile);
        if let Some((f, analysed)) = self.analysed.get(&profile.id) {
            if f == fingerprint {
                return analysed;
            }
        }
        let analysed = Arc::new(explain::AnalysedProfile::new(profile));
        self.analysed.insert(profile.id.clone(), (fingerprint, analysed.clone()));
        analysed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Kind;

    #[test]
    fn aligned_terms_name_the_rarest_concepts_first_and_each_once() {
        let lexicon = InducedConcepts::parse(
            "concept\ten\tnl\tfr\ni1\tbefore\tvoordat\tavant\ni2\tdelivery\tlevering\tlivraison\n\
             i3\tcustomer\tklant\tclient\n",
        )
        .unwrap();
        let text = "Avant la livraison au client, avant tout.";
        let mut analysis = QueryAnalysis::new(&Glossary::empty(), Arc::new(lexicon), text, Language::Fr);
        assert_eq!(
            analysis.induced.iter().map(|(c, n)| (c.as_str(), *n)).collect::<Vec<_>>(),
            [("i1", 2), ("i2", 1), ("i3", 1)]
        );
        let mut profile = Profile::minimal("p", "Snel BV", "Voordat de klant belt: levering, voordat het regent.");
        profile.language = Language::Nl;
        assert_eq!(
            analysis.aligned_terms(&profile, |_| false),
            ["voordat (avant)", "klant (client)", "levering (livraison)"],
            "text order before the counts are known"
        );
        // "before" is in 40 profiles, "delivery" in 3, "customer" in 12.
        analysis.name_induced_rarest_first(&[40, 3, 12]);
        assert_eq!(
            analysis.aligned_terms(&profile, |_| false),
            ["levering (livraison)", "klant (client)", "voordat (avant)"]
        );
        let french = Profile { language: Language::Fr, ..Profile::minimal("f", "F", "Livraison au client.") };
        assert!(analysis.aligned_terms(&french, |_| false).is_empty(), "the same words say nothing new");
        assert_eq!(
            analysis.aligned_terms(&profile, |mine| mine == "klant"),
            ["levering (livraison)", "voordat (avant)"]
        );
    }

    #[test]
    fn text_fingerprint_follows_the_explained_text_only() {
        let p = Profile {
            id: "p".into(),
            name: "Lumen".into(),
            kind: Kind::Company,
            size: None,
            city: None,
            language: Language::En,
            summary: "Lidar sensors.".into(),
            innovations: vec!["Radar fusion".into()],
            keywords: vec!["lidar".into()],
            themes: vec![],
            trl: None,
            website: None,
            contact_email: None,
            pitch_languages: vec![],
        };
        let base = text_fingerprint(&p);
        let pitches = vec![Language::Fr];
        assert_eq!(
            text_fingerprint(&Profile {
                city: Some("Eindhoven".into()),
                trl: Some(5),
                pitch_languages: pitches,
                ..p.clone()
            }),
            base
        );
        for changed in [
            Profile { summary: "Lidar sensors for fog.".into(), ..p.clone() },
            Profile { innovations: vec!["Radar".into(), "fusion".into()], ..p.clone() },
            Profile { keywords: vec![], ..p.clone() },
            Profile { name: "Lumen BV".into(), ..p.clone() },
            Profile { language: Language::Nl, ..p.clone() },
        ] {
            assert_ne!(text_fingerprint(&changed), base, "{changed:?}");
        }
    }
}
