//! Drawings kept between requests. Some views are expensive to draw from the data (the landscape
//! map embeds every demand area and clusters every profile) and are the same until the data changes,
//! so each is kept with the version of the data it was drawn from and redrawn only when that
//! version moves on. The server keeps them without knowing their types: the pages that draw a view
//! name it and get back what they put in, so the shared state does not depend on the pages.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Kept = (String, Arc<dyn Any + Send + Sync>);

/// The last drawing of each view, by name, with its data version.
#[derive(Default)]
pub(crate) struct Drawings {
    by_name: Mutex<HashMap<&'static str, Kept>>,
}

impl Drawings {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Kept>> {
        // Every update is a single insert: a panic elsewhere cannot leave the map torn.
        self.by_name.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The drawing of view `name` made from data `version`, if it is kept.
    pub(crate) fn get<T: Any + Send + Sync>(&self, name: &'static str, version: &str) -> Option<Arc<T>> {
        let map = self.map();
        let (kept_version, drawing) = map.get(name)?;
        if kept_version != version {
            return None;
        }
        drawing.clone().downcast::<T>().ok()
    }

    /// Keeps `drawing` as view `name` of data `version`, replacing the previous one.
    pub(crate) fn put<T: Any + Send + Sync>(&self, name: &'static str, version: String, drawing: Arc<T>) {
        self.map().insert(name, (version, drawing));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawing_is_kept_for_its_version_only() {
        let drawings = Drawings::default();
        assert!(drawings.get::<String>("map", "v1").is_none());
        drawings.put("map", "v1".into(), Arc::new("drawn".to_string()));
        assert_eq!(drawings.get::<String>("map", "v1").as_deref().map(String::as_str), Some("drawn"));
        assert!(drawings.get::<String>("map", "v2").is_none(), "a drawing of old data was returned");
        assert!(drawings.get::<u32>("map", "v1").is_none(), "a drawing came back as another type");
    }
}
