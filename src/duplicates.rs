//! Telling when two profiles are likely one organisation. Suppliers sometimes submit twice, and two
//! departments of one company submit separately; each copy then takes a place in the shortlists and
//! may take a second pitch slot. A pair is proposed to the organiser (who merges it or marks it
//! distinct) on evidence an organiser can check: names that read alike once legal forms and
//! punctuation are set aside, one website or one company e-mail domain, and texts close in meaning,
//! which backs a weaker name match. Candidate pairs come from shared name words, websites and
//! e-mail domains, so that finding them never compares every profile with every other.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

/// Names at least this alike (Dice coefficient of character trigrams) are one organisation's.
pub const SAME_NAME: f32 = 0.85;
/// Names at least this alike are one organisation's when their texts also say the same.
pub const SIMILAR_NAME: f32 = 0.5;
/// Cosine of the profiles' mean passage vectors above which two texts say the same.
pub const SAME_MEANING: f32 = 0.95;
/// A name word, website or e-mail domain shared by more profiles than this is too common to pair
/// profiles on (a word like "systems", a shared host such as a site builder).
pub const MAX_BLOCK: usize = 50;

/// Words of an organisation name that say nothing about which organisation it is.
const LEGAL_FORMS: [&str; 22] = [
    "bv", "b", "v", "nv", "n", "vof", "cv", "gmbh", "ag", "sa", "sas", "sarl", "srl", "ltd", "llc", "inc", "plc", "co",
    "the", "de", "het", "holding",
];

/// Mail providers many organisations share: the same domain there says nothing.
const SHARED_MAIL_DOMAINS: [&str; 14] = [
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.nl",
    "live.nl",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "ziggo.nl",
    "kpnmail.nl",
    "orange.fr",
    "free.fr",
    "proton.me",
];

/// What the comparison needs of one profile.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Profile id.
    pub id: &'a str,
    /// Organisation name.
    pub name: &'a str,
    /// Website, when given.
    pub website: Option<&'a str>,
    /// Contact e-mail, when given.
    pub contact_email: Option<&'a str>,
}

/// How alike two profiles are, and whether that makes them likely one organisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Likeness {
    /// Dice coefficient of the character trigrams of the two normalised names, 0-1.
    pub name: f32,
    /// Cosine of the two texts' meaning, when both are embedded.
    pub meaning: Option<f32>,
    /// The website host both give, if the same.
    pub same_website: Option<String>,
    /// The company e-mail domain both give, if the same.
    pub same_email_domain: Option<String>,
}

impl Likeness {
    /// Whether the evidence makes the pair likely one organisation: the same name, the same
    /// website or company mail domain, or a similar name with texts that say the same.
    pub fn is_likely_duplicate(&self) -> bool {
        self.name >= SAME_NAME
            || self.same_website.is_some()
            || self.same_email_domain.is_some()
            || (self.name >= SIMILAR_NAME && self.meaning.is_some_and(|m| m >= SAME_MEANING))
    }

    /// The evidence in words, strongest first.
    pub fn reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.name >= SIMILAR_NAME {
            out.push(format!("names alike ({:.0} %)", self.name * 100.0));
        }
        if let Some(host) = &self.same_website {
            out.push(format!("same website ({host})"));
        }
        if let Some(domain) = &self.same_email_domain {
            out.push(format!("same e-mail domain ({domain})"));
        }
        if let Some(m) = self.meaning {
            let closeness = if m >= SAME_MEANING { "texts say the same" } else { "texts differ" };
            out.push(format!("{closeness} (meaning {m:.2})"));
        }
        out
    }
}

/// The words of an organisation name that identify it: lower case, split at anything that is not
/// a letter or digit, legal forms and articles left out.
pub fn name_words(name: &str) -> Vec<String> {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !LEGAL_FORMS.contains(w))
        .map(str::to_string)
        .collect()
}

/// How alike two names read, 0-1: the Dice coefficient of the character trigrams of their
/// identifying words, so "Voltaris B.V." and "VOLTARIS BV" are 1 and a typo costs a little.
pub fn name_similarity(a: &str, b: &str) -> f32 {
    let (ta, tb) = (trigrams(&name_words(a).join(" ")), trigrams(&name_words(b).join(" ")));
    if ta.is_empty() || tb.is_empty() {
        return 0.0;
    }
    let shared = ta.intersection(&tb).count();
    (2 * shared) as f32 / (ta.len() + tb.len()) as f32
}

fn trigrams(text: &str) -> BTreeSet<[char; 3]> {
    let padded: Vec<char> = format!("  {text} ").chars().collect();
    padded.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

/// The host of a website address without `www.`, lower case.
pub fn website_host(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://").map_or(url.trim(), |(_, r)| r);
    let host = rest.split(['/', '?', '#', ':']).next()?.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    (!host.is_empty()).then_some(host)
}

/// The domain of a company e-mail address; `None` for shared mail providers.
pub fn company_mail_domain(email: &str) -> Option<String> {
    let domain = email.trim().rsplit_once('@')?.1.to_lowercase();
    (!domain.is_empty() && !SHARED_MAIL_DOMAINS.contains(&domain.as_str())).then_some(domain)
}

/// The pairs (as indices into `entries`, first < second) worth comparing: those sharing an
/// identifying name word of three letters or more, a website host or a company mail domain,
/// where fewer than [`MAX_BLOCK`] profiles share it.
pub fn candidate_pairs(entries: &[Entry<'_>]) -> Vec<(usize, usize)> {
    let mut blocks: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let mut keys: BTreeSet<String> =
            name_words(e.name).into_iter().filter(|w| w.chars().count() >= 3).map(|w| format!("name:{w}")).collect();
        keys.extend(e.website.and_then(website_host).map(|h| format!("web:{h}")));
        keys.extend(e.contact_email.and_then(company_mail_domain).map(|d| format!("mail:{d}")));
        for k in keys {
            blocks.entry(k).or_default().push(i);
        }
    }
    let mut pairs = BTreeSet::new();
    for members in blocks.values().filter(|m| m.len() >= 2 && m.len() <= MAX_BLOCK) {
        for (n, &a) in members.iter().enumerate() {
            for &b in &members[n + 1..] {
                pairs.insert((a.min(b), a.max(b)));
            }
        }
    }
    pairs.into_iter().collect()
}

/// How alike two entries are; `meaning` is the cosine of their texts when both are embedded.
pub fn likeness(a: &Entry<'_>, b: &Entry<'_>, meaning: Option<f32>) -> Likeness {
    let same = |x: Option<String>, y: Option<String>| x.filter(|x| Some(x) == y.as_ref());
    Likeness {
        name: name_similarity(a.name, b.name),
        meaning,
        same_website: same(a.website.and_then(website_host), b.website.and_then(website_host)),
        same_email_domain: same(
            a.contact_email.and_then(company_mail_domain),
            b.contact_email.and_then(company_mail_domain),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(id: &'a str, name: &'a str, website: Option<&'a str>, email: Option<&'a str>) -> Entry<'a> {
        Entry { id, name, website, contact_email: email }
    }

    #[test]
    fn names_are_compared_without_legal_forms_case_or_punctuation() {
        assert_eq!(name_similarity("Voltaris B.V.", "VOLTARIS BV"), 1.0);
        assert!(name_similarity("Voltaris B.V.", "Voltarys B.V.") > SIMILAR_NAME);
        assert!(name_similarity("Voltaris B.V.", "Voltaris Charging Systems") < SAME_NAME);
        assert!(name_similarity("Voltaris B.V.", "Brabant Thermal Interfaces B.V.") < 0.2);
        assert_eq!(name_similarity("B.V.", "Voltaris"), 0.0, "a name of legal forms only identifies nothing");
    }

    #[test]
    fn websites_and_company_mail_domains_are_read_as_hosts() {
        assert_eq!(website_host("https://www.Voltaris.example/en/about?x=1").as_deref(), Some("voltaris.example"));
        assert_eq!(website_host("http://voltaris.example:8080").as_deref(), Some("voltaris.example"));
        assert_eq!(company_mail_domain("Sales@Voltaris.example").as_deref(), Some("voltaris.example"));
        assert_eq!(company_mail_domain("jan.devries@gmail.com"), None, "a shared provider says nothing");
    }

    #[test]
    fn a_pair_is_likely_one_organisation_on_name_site_or_mail_and_meaning_backs_a_weaker_name() {
        let a = entry("a", "Voltaris B.V.", Some("https://voltaris.example"), Some("info@voltaris.example"));
        let dept = entry("b", "Voltaris Charging Systems", None, Some("r.d@voltaris.example"));
        let l = likeness(&a, &dept, Some(0.80));
        assert!(l.is_likely_duplicate() && l.same_email_domain.as_deref() == Some("voltaris.example"), "{l:?}");
        assert!(l.reasons().iter().any(|r| r == "same e-mail domain (voltaris.example)"), "{:?}", l.reasons());

        let similar = entry("c", "Voltaris Mobility", None, Some("x@gmail.com"));
        let plain = entry("d", "Voltaris", None, Some("y@gmail.com"));
        assert!(!likeness(&similar, &plain, Some(0.90)).is_likely_duplicate(), "similar names, different texts");
        let same_text = likeness(&similar, &plain, Some(0.97));
        assert!(same_text.is_likely_duplicate(), "{same_text:?}");
        assert!(same_text.reasons().last().unwrap().starts_with("texts say the same"), "{:?}", same_text.reasons());

        let other = entry("e", "Brabant Thermal Interfaces", None, None);
        assert!(!likeness(&a, &other, Some(0.99)).is_likely_duplicate(), "closeness in meaning alone is a topic");
    }

    #[test]
    fn candidates_share_a_rare_name_word_site_or_mail_domain() {
        let mut entries = vec![
            entry("a", "Voltaris B.V.", None, None),
            entry("b", "voltaris bv", None, None),
            entry("c", "Lumen Sensing", Some("https://lumen.example"), None),
            entry("d", "LS Optics", Some("http://www.lumen.example/nl"), None),
            entry("e", "Other B.V.", None, Some("a@gmail.com")),
            entry("f", "Else B.V.", None, Some("b@gmail.com")),
        ];
        assert_eq!(candidate_pairs(&entries), vec![(0, 1), (2, 3)], "legal forms and mail providers pair nothing");
        // A word shared by more than MAX_BLOCK profiles pairs none of them.
        let names: Vec<String> = (0..=MAX_BLOCK).map(|i| format!("Systems {i}")).collect();
        entries.extend(names.iter().map(|n| entry("s", n, None, None)));
        assert_eq!(candidate_pairs(&entries), vec![(0, 1), (2, 3)]);
    }
}
