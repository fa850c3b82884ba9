//! Who is asking: the holder of a token, as every front end (API, pages, command line) resolves it.
//! Rights are decided on this one type, so the API and the pages cannot drift apart on who may do
//! what.

/// The holder of a request's token, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No token.
    Anonymous,
    /// An organiser token with this name.
    Organiser(String),
    /// The edit token of this profile (the supplier who submitted it).
    Supplier(String),
    /// A reviewer token with this name, scoped to one organisation's demand areas and events.
    Reviewer {
        /// The token's name.
        name: String,
        /// The OEM or Tier-1 whose pre-selection this reviewer takes part in.
        organisation: String,
    },
}

impl Principal {
    /// Organisers may do everything.
    pub fn is_organiser(&self) -> bool {
        matches!(self, Principal::Organiser(_))
    }

    /// Whether this caller may read, replace or delete profile `id`: its own supplier or an organiser.
    pub fn may_edit_profile(&self, id: &str) -> bool {
        match self {
            Principal::Organiser(_) => true,
            Principal::Supplier(own) => own == id,
            Principal::Anonymous | Principal::Reviewer { .. } => false,
        }
    }

    /// Whether this caller may see and decide on the records of `organisation` (a demand area's or
    /// an event's): organisers always, reviewers only for their own organisation, matched like
    /// conflicts of interest (trimmed, case-insensitive).
    pub fn may_review(&self, organisation: &str) -> bool {
        match self {
            Principal::Organiser(_) => true,
            Principal::Reviewer { organisation: own, .. } => same_organisation(own, organisation),
            Principal::Supplier(_) | Principal::Anonymous => false,
        }
    }

    /// The name a decision or an audit entry is recorded under, for callers that have one.
    pub fn token_name(&self) -> Option<&str> {
        match self {
            Principal::Organiser(name) | Principal::Reviewer { name, .. } => Some(name),
            Principal::Supplier(_) | Principal::Anonymous => None,
        }
    }
}

/// Whether two organisation names name the same organisation: trimmed, case-insensitive.
pub fn same_organisation(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppliers_edit_only_their_own_profile_and_organisers_every_one() {
        let organiser = Principal::Organiser("o".into());
        let supplier = Principal::Supplier("a".into());
        assert!(organiser.is_organiser() && organiser.may_edit_profile("b"));
        assert!(!supplier.is_organiser());
        assert!(supplier.may_edit_profile("a") && !supplier.may_edit_profile("b"));
        assert!(!Principal::Anonymous.may_edit_profile("a") && !Principal::Anonymous.is_organiser());
    }

    #[test]
    fn reviewers_review_only_their_own_organisation_and_edit_nothing() {
        let reviewer = Principal::Reviewer { name: "r".into(), organisation: "Renault Group".into() };
        assert!(reviewer.may_review("  renault group ") && !reviewer.may_review("Valeo"));
        assert!(!reviewer.is_organiser() && !reviewer.may_edit_profile("a"));
        assert!(Principal::Organiser("o".into()).may_review("Valeo"));
        assert!(!Principal::Supplier("a".into()).may_review("Valeo") && !Principal::Anonymous.may_review("Valeo"));
        assert_eq!(reviewer.token_name(), Some("r"));
    }
}
