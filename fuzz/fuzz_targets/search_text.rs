//! Ad-hoc search text, as `POST /api/v1/search` passes it on: analysis and glossary look-ups in
//! every language, then a real lexical search over a small index (and, for one input in 32, the
//! hybrid ranker with its query embedding). Text the HTTP layer accepts must never make the engine
//! panic or fail.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pitchmatch::domain::{Language, Profile};
use pitchmatch::domain::{Filter, Ranker};
use pitchmatch::search::{analysis, LexicalQuery};
use pitchmatch::Engine;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let engine = Engine::open(dir.path()).unwrap();
            let profiles = [
                Profile::minimal("f-1", "Remtech B.V.", "We make brake sensors and cable looms for electric vans."),
                Profile::minimal("f-2", "Vezel B.V.", "Nous fabriquons des pièces en fibre de carbone recyclée."),
                Profile::minimal("f-3", "Waterstof B.V.", "Wij ontwikkelen waterstoftanks van composiet voor trucks."),
            ];
            engine.upsert_profiles(&profiles, false).unwrap();
            (dir, engine)
        })
        .1
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The same gate as the search handler: non-blank, at most 5,000 characters, no NUL.
    if text.trim().is_empty() || text.chars().count() > 5000 || text.contains('\0') {
        return;
    }
    let engine = engine();
    for lang in [Language::Nl, Language::En, Language::Fr] {
        let _ = LexicalQuery::new(text, lang);
        let _ = analysis::terms(lang, text);
    }
    let _ = pitchmatch::domain::detect_language(text);
    let ranker = if data[0] % 32 == 0 { Ranker::Hybrid } else { Ranker::Lexical };
    if let Err(e) = engine.rank_text(text, None, 10, &Filter::default(), ranker) {
        panic!("search for {text:?} failed: {e}");
    }
});
