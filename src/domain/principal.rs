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
            Principal::Anonymous => false,
        }
    }
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
}
