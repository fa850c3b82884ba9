//! What the service decides about a public submission instead of its submitter: the profile's id
//! and whether it is visible yet. Ids used to be chosen by whoever submitted first, and ids are
//! guessable, so a stranger could claim the id an organiser was about to import and keep an edit
//! token for that organisation's record. A public submission therefore gets an id made here (a
//! readable slug of its name plus a random part nobody can claim in advance) and waits as
//! [`ProfileStatus::Pending`] until an organiser approves it. The audit entry is the one record of
//! who changed what, kept when the records go, so it holds ids and actions, never personal data.

use serde::{Deserialize, Serialize};

/// Longest slug kept from a name: with the random part the id stays well inside the 64-character
/// limit of ids and short enough to read out.
const MAX_SLUG: usize = 40;

/// Alphabet of the random part: lower-case letters and digits without the look-alikes `l`, `o`,
/// `0` and `1`, so that an id read out or typed back is unambiguous. 32 symbols, 5 bits each.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A server-assigned profile id: the ASCII slug of `name` (accents folded, anything else a hyphen),
/// then `-` and 8 symbols drawn from `random` (40 bits). A name with nothing to slug gives
/// `profile-…`. The result always passes [`super::valid_id`].
pub fn new_profile_id(name: &str, random: [u8; 5]) -> String {
    let folded = deunicode::deunicode(name).to_ascii_lowercase();
    let mut slug = String::with_capacity(MAX_SLUG);
    for word in folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        let sep = usize::from(!slug.is_empty());
        if slug.len() + sep + word.len() > MAX_SLUG {
            if slug.is_empty() {
                slug.push_str(&word[..MAX_SLUG]);
            }
            break;
        }
        if sep == 1 {
            slug.push('-');
        }
        slug.push_str(word);
    }
    if slug.is_empty() {
        slug.push_str("profile");
    }
    let bits = random.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let tail: String = (0..8).map(|i| ALPHABET[((bits >> (35 - 5 * i)) & 31) as usize] as char).collect();
    format!("{slug}-{tail}")
}

/// Whether a profile is visible to ranking, search, selection and the landscape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProfileStatus {
    /// Submitted by the public and waiting for an organiser; seen only by organisers and by the
    /// holder of its edit token.
    Pending,
    /// Imported by an organiser, approved, or submitted while moderation is off.
    Approved,
}

/// One line of the audit log: who changed which record how, and when. Only ids and actions: an
/// entry outlives the record it names and must not keep its personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position in the log (1, 2, …); pages of the log continue after it.
    #[schema(example = 42)]
    pub seq: u64,
    /// Unix seconds.
    #[schema(example = 1767225600)]
    pub at: i64,
    /// The organiser token's name, `supplier <profile id>`, or `command line` for the CLI.
    #[schema(example = "alice")]
    pub actor: String,
    /// What was done: `create`, `replace`, `delete`, `submit`, `approve`, `reject`, `import`,
    /// `revoke-edit-token`, `create-token`, `revoke-token`.
    #[schema(example = "approve")]
    pub action: String,
    /// The kind of record: `profile`, `demand`, `event`, `token`.
    #[schema(example = "profile")]
    pub kind: String,
    /// The record's id (a token's name for tokens).
    #[schema(example = "acme-composites-7f3k2q2a")]
    pub record_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_readable_valid_and_carry_the_random_part() {
        let id = new_profile_id("Société Générale d'Équipements — Lyon", [0, 0, 0, 0, 0]);
        assert_eq!(id, "societe-generale-d-equipements-lyon-aaaaaaaa");
        assert!(super::super::valid_id(&id));
        assert_eq!(new_profile_id("Acme", [255; 5]), "acme-99999999");
        assert_ne!(new_profile_id("Acme", [1, 2, 3, 4, 5]), new_profile_id("Acme", [1, 2, 3, 4, 6]));
        assert_eq!(new_profile_id("  ", [0; 5]), "profile-aaaaaaaa");
        assert!(super::super::valid_id(&new_profile_id("株式会社", [0; 5])));
        let long = new_profile_id(&"x".repeat(200), [0; 5]);
        assert!(super::super::valid_id(&long) && long.len() == MAX_SLUG + 9, "{long}");
        let words = new_profile_id("Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota", [0; 5]);
        assert!(words.len() <= MAX_SLUG + 9 && !words.contains("--"), "{words}");
        for name in ["../..", ".", "a/b?c#d", "\u{0}\u{7f}"] {
            assert!(super::super::valid_id(&new_profile_id(name, [7; 5])), "{name}");
        }
    }
}
