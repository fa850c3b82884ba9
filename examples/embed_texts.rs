//! Embeds lines of stdin with the shipped model and prints one JSON array per line; for offline
//! analysis (e.g. tuning the fusion in Python). Usage: `embed_texts query|passage < texts.txt`.
use std::io::{BufRead, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kind = std::env::args().nth(1).unwrap_or_else(|| "query".into());
    let encoder = pitchmatch::embed::E5Encoder::load(&pitchmatch::engine::default_models_dir())?;
    let lines: Vec<String> = std::io::stdin().lock().lines().collect::<Result<_, _>>()?;
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    let vecs = if kind == "passage" { encoder.embed_passages(&texts)? } else { encoder.embed_queries(&texts)? };
    let mut out = std::io::stdout().lock();
    for v in vecs {
        writeln!(out, "{}", serde_json::to_string(&v)?)?;
    }
    Ok(())
}
