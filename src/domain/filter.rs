//! What a shortlist may be narrowed to: the filter an organiser sets (kind, size, theme, minimum
//! TRL) and the few bytes of each profile it looks at. They live with the domain because the
//! index, the vector matrix, the ranking and every caller apply the same rule.

use super::{Kind, Profile, Size, Theme};

/// Restricts which profiles may be returned. Empty filter = all profiles.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Only this kind.
    #[serde(default)]
    pub kind: Option<Kind>,
    /// Only this size class.
    #[serde(default)]
    pub size: Option<Size>,
    /// Only profiles carrying this theme.
    #[serde(default)]
    pub theme: Option<Theme>,
    /// Only profiles at or above this technology readiness level.
    #[serde(default)]
    pub min_trl: Option<u8>,
}

impl Filter {
    /// True when the filter lets every profile through.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Whether a profile with these facets passes (the in-memory twin of the index query).
    pub fn accepts(&self, p: &Facets) -> bool {
        self.kind.is_none_or(|k| p.kind == k)
            && self.size.is_none_or(|s| p.size == Some(s))
            && self.theme.is_none_or(|t| p.has_theme(t))
            && self.min_trl.is_none_or(|m| p.trl.is_some_and(|t| t >= m))
    }
}

/// The profile attributes filters look at: a few bytes, copied into every ranked row so that
/// filtering a ranking of 100,000 profiles reads memory in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facets {
    /// Kind.
    pub kind: Kind,
    /// Size class.
    pub size: Option<Size>,
    /// Themes, one bit per [`Theme`] (bit = its position in the enum).
    themes: u8,
    /// Technology readiness level.
    pub trl: Option<u8>,
}

impl Facets {
    /// The facets of a profile.
    pub fn of(p: &Profile) -> Facets {
        let themes = p.themes.iter().fold(0u8, |bits, &t| bits | Facets::theme_bit(t));
        Facets { kind: p.kind, size: p.size, themes, trl: p.trl }
    }

    /// Whether the profile carries `theme`.
    pub fn has_theme(&self, theme: Theme) -> bool {
        self.themes & Facets::theme_bit(theme) != 0
    }

    fn theme_bit(theme: Theme) -> u8 {
        1 << (theme as u8)
    }
}
