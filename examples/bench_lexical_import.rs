//! Lexical-only import for the side-by-side benchmark (`bench/sidebyside.py`) on sets too large to
//! embed on a small machine (the generated 100,000-profile set).
//!
//! `pitchmatch import --defer-embedding` runs the same lexical steps, but timing the process would
//! include its start-up; this example runs exactly the lexical steps of `Engine::import` — read and
//! validate the JSON Lines, upsert into SQLite, apply the changes to the tantivy index, store the
//! demand areas — and prints their wall time as JSON. It then (untimed) stores one placeholder unit
//! vector per profile so that `pitchmatch serve` opens the data dir without embedding it all; the
//! placeholder vectors make dense/hybrid results meaningless on that data dir.
//!
//! Usage: `bench_lexical_import DATA_DIR PROFILES.jsonl DEMANDS.jsonl`
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use pitchmatch::domain::{DemandArea, Profile};
use pitchmatch::embed::MODEL_ID;
use pitchmatch::engine::default_models_dir;
use pitchmatch::import::read_file;
use pitchmatch::search::{Glossary, SearchIndex};
use pitchmatch::store::Store;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 3 {
        eprintln!("usage: bench_lexical_import DATA_DIR PROFILES.jsonl DEMANDS.jsonl");
        std::process::exit(2);
    }
    let dir = Path::new(&args[0]);
    let started = Instant::now();
    std::fs::create_dir_all(dir)?;
    let profiles: Vec<Profile> =
        read_file(Path::new(&args[1])).map_err(|e| format!("{e:?}"))?.into_iter().map(|l| l.record).collect();
    let demands: Vec<DemandArea> =
        read_file(Path::new(&args[2])).map_err(|e| format!("{e:?}"))?.into_iter().map(|l| l.record).collect();
    let store = Store::open(&dir.join("pitchmatch.sqlite"))?;
    let glossary = Arc::new(Glossary::load(&default_models_dir())?);
    let index = SearchIndex::open(&dir.join("tantivy"), glossary, Default::default())?;
    let before = index.applied_seq()?;
    store.upsert_profiles(&profiles)?;
    let changes = store.profile_changes_since(before)?;
    index.apply(&changes)?;
    store.upsert_demands(&demands)?;
    let lexical_s = started.elapsed().as_secs_f64();

    let placeholder_started = Instant::now();
    let dim = 384;
    let mut unit = vec![0.0f32; dim];
    unit[0] = 1.0;
    let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
    for chunk in ids.chunks(10_000) {
        let seqs = store.profile_seqs(chunk)?;
        let items: Vec<(String, u64, Vec<Vec<f32>>)> =
            chunk.iter().zip(seqs).filter_map(|(id, seq)| seq.map(|s| (id.clone(), s, vec![unit.clone()]))).collect();
        store.put_vectors(MODEL_ID, dim, &items)?;
    }
    println!(
        "{}",
        serde_json::json!({
            "profiles": profiles.len(),
            "demands": demands.len(),
            "lexical_import_s": lexical_s,
            "placeholder_vectors_s": placeholder_started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}
