//! Load-test set-up only: writes profiles into a data dir's store together with *random* unit
//! vectors in place of their embeddings, so that a server on that data dir runs the full hybrid
//! path (BM25, concept BM25, a dense scan over every vector, fusion, explanations) at 100,000
//! profiles without the hours of CPU that embedding them would take here. The dense scan costs
//! the same whatever the vectors contain; the rankings it produces are meaningless, so never
//! use a data dir seeded this way to measure ranking quality.
//!
//! Usage: `seed_synthetic_vectors DATA_DIR PROFILES.jsonl` (then `pitchmatch --data-dir DATA_DIR
//! import --demands …` builds the index, finding every vector present).
use std::path::PathBuf;

use pitchmatch::domain::Profile;
use pitchmatch::embed::{profile_passages, MODEL_ID};
use pitchmatch::store::Store;

const DIM: usize = 384;
const CHUNK: usize = 5_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data_dir, profiles_path] = args.as_slice() else {
        return Err("usage: seed_synthetic_vectors DATA_DIR PROFILES.jsonl".into());
    };
    let data_dir = PathBuf::from(data_dir);
    std::fs::create_dir_all(&data_dir)?;
    let store = Store::open(&data_dir.join("pitchmatch.sqlite"))?;
    let profiles: Vec<Profile> = pitchmatch::import::read_file::<Profile>(profiles_path.as_ref())
        .map_err(|e| format!("{profiles_path}: {e}"))?
        .into_iter()
        .map(|l| l.record)
        .collect();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut unit_vector = move || {
        let mut v: Vec<f32> = (0..DIM)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    };
    for chunk in profiles.chunks(CHUNK) {
        store.upsert_profiles(chunk)?;
        let ids: Vec<String> = chunk.iter().map(|p| p.id.clone()).collect();
        let items: Vec<(String, u64, Vec<Vec<f32>>)> = chunk
            .iter()
            .zip(store.profile_seqs(&ids)?)
            .filter_map(|(p, seq)| {
                let passages = profile_passages(p).len();
                seq.map(|s| (p.id.clone(), s, (0..passages).map(|_| unit_vector()).collect()))
            })
            .collect();
        store.put_vectors(MODEL_ID, DIM, &items)?;
    }
    println!("{} profiles with random vectors in {}", profiles.len(), data_dir.display());
    Ok(())
}
