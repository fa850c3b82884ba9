//! The `pitchmatch` command line (`docs/cli.md`). Parsing lives in [`args`], rendering in
//! [`crate::render`]; this file maps commands onto the [`Engine`](crate::Engine) and library errors onto
//! exit codes: 0 success, 1 runtime failure, 2 invalid input or usage.

pub mod args;
mod private;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use self::args::{AgendaFormat, Cli, Command, EvaluateFormat};
use crate::domain::Ranker;
use crate::embed::EmbedderChoice;
use crate::engine::{Access, Actor, Engine, EngineConfig, ImportFiles, ImportOptions};
use crate::error::{Error, UserError};
use crate::render;
use crate::select::{SeasonFile, SeasonRules};
use crate::settings::{Overrides, Settings};

/// Runs the CLI with the process arguments.
pub fn main() -> ExitCode {
    private::owner_only_files();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

fn warn_unknown_demands(unknown: &[String]) {
    if !unknown.is_empty() {
        eprintln!(
            "warning: {} judged demand area(s) are not stored and count as 0: {}",
            unknown.len(),
            unknown.join(", ")
        );
    }
}

fn report(err: &anyhow::Error) -> ExitCode {
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        if io.kind() == std::io::ErrorKind::BrokenPipe {
            return ExitCode::SUCCESS;
        }
    }
    match err.downcast_ref::<Error>() {
        Some(Error::User(UserError::InvalidRecords(problems))) => {
            let mut stderr = std::io::stderr().lock();
            for p in problems {
                let _ = writeln!(stderr, "error: {p}");
            }
            let _ = writeln!(stderr, "error: {} problem(s) found; nothing was imported", problems.len());
            ExitCode::from(2)
        }
        Some(e) if e.is_user_error() => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        _ => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// The flags that are settings; the rest of the layering is [`Settings::load`]'s.
fn overrides(cli: &Cli) -> Overrides {
    let mut flags = Overrides {
        data_dir: cli.data_dir.clone(),
        models_dir: cli.models_dir.clone(),
        threads: cli.threads,
        ..Overrides::default()
    };
    if let Command::Serve {
        addr,
        submissions_per_minute,
        max_body_bytes,
        body_timeout_secs,
        writes_per_minute,
        global_writes_per_minute,
        trusted_proxies,
        insecure_http_cookies,
        public_url,
        metrics_addr,
        moderation,
        max_pending_per_client,
        max_pending,
    } = &cli.command
    {
        flags.addr = addr.clone();
        flags.submissions_per_minute = *submissions_per_minute;
        flags.max_body_bytes = *max_body_bytes;
        flags.body_timeout_secs = *body_timeout_secs;
        flags.writes_per_minute = *writes_per_minute;
        flags.global_writes_per_minute = *global_writes_per_minute;
        flags.trusted_proxies = (!trusted_proxies.is_empty()).then(|| trusted_proxies.clone());
        flags.insecure_http_cookies = *insecure_http_cookies;
        flags.public_url = public_url.clone();
        flags.metrics_addr = metrics_addr.clone();
        flags.moderation = *moderation;
        flags.max_pending_per_client = *max_pending_per_client;
        flags.max_pending = *max_pending;
    }
    flags
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref(), &overrides(&cli))?;
    let data_dir = settings.data_dir.clone();
    let config = |embed: bool, access: Access| EngineConfig {
        data_dir: data_dir.clone(),
        models_dir: settings.models_dir.clone(),
        threads: settings.threads,
        embedder: EmbedderChoice::E5,
        defer_embedding: !embed,
        access,
        induce_missing_concepts: true,
        realign_after: None,
    };
    let context = || format!("opening data dir {}", data_dir.display());
    // Lexical-only commands open without the model and without embedding what lacks vectors.
    let open_with_embedding = |embed: bool| Engine::open_with(&config(embed, Access::ReadWrite)).with_context(context);
    let open = || open_with_embedding(true);
    // Commands that only read never create a data dir. Alone they open it for writing, so that
    // they bring the index and the vectors up to date as they always did; beside a process that
    // holds it (a running server) they read what is there.
    let open_for_reading = |embed: bool| {
        if !data_dir.join("pitchmatch.sqlite").is_file() {
            return Err(Error::from(UserError::NoData { data_dir: data_dir.display().to_string() }).into());
        }
        match Engine::open_with(&config(embed, Access::ReadWrite)) {
            Err(Error::User(UserError::DataDirInUse { .. })) => Engine::open_with(&config(embed, Access::ReadOnly)),
            opened => opened,
        }
        .with_context(context)
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match cli.command {
        Command::Import { profiles, demands, events, defer_embedding, revoke_supplier_tokens } => {
            if profiles.is_none() && demands.is_none() && events.is_none() {
                return Err(Error::from(UserError::BadArgument {
                    field: "import".into(),
                    message: "give at least one of --profiles, --demands, --events".into(),
                })
                .into());
            }
            // An import of profiles or demand areas induces the concepts itself once it has stored
            // them; inducing them while opening as well would embed the collection twice.
            let induces = profiles.is_some() || demands.is_some();
            let opening =
                EngineConfig { induce_missing_concepts: !induces, ..config(!defer_embedding, Access::ReadWrite) };
            let engine = Engine::open_with(&opening).with_context(context)?;
            let started = std::time::Instant::now();
            let report = engine
                .import_with(&ImportFiles { profiles, demands, events }, ImportOptions { revoke_supplier_tokens })?;
            writeln!(
                out,
                "imported {} profiles, {} demand areas, {} events into {} in {:.2}s",
                report.profiles,
                report.demands,
                report.events,
                data_dir.display(),
                started.elapsed().as_secs_f64()
            )?;
        }
        Command::Rank { all, demand, k, format, ranker, filter } => {
            let engine = open_for_reading(ranker != Ranker::Lexical)?;
            let ids: Vec<String> = if all {
                engine.demands()?.into_iter().map(|d| d.id).collect()
            } else if demand.is_empty() {
                return Err(Error::from(UserError::BadArgument {
                    field: "rank".into(),
                    message: "give --all or --demand ID".into(),
                })
                .into());
            } else {
                demand
            };
            let filter = filter.into_filter();
            let mut writer = render::ShortlistWriter::new(format.into(), &mut out)?;
            for id in ids {
                let list = engine.rank_demand(&id, k, &filter, ranker)?;
                writer.write(&list)?;
            }
        }
        Command::Search { text, k, format, ranker, language, filter } => {
            let engine = open_for_reading(ranker != Ranker::Lexical)?;
            let text = text.join(" ");
            let list = engine.rank_text(&text, language, k, &filter.into_filter(), ranker)?;
            let mut writer = render::ShortlistWriter::new(format.into(), &mut out)?;
            writer.write(&list)?;
        }
        Command::Select { event, season, rules, format, ranker } => {
            let engine = open_for_reading(true)?;
            let selection = match (event, season) {
                (_, Some(path)) => {
                    let season = SeasonFile::from_path(&path).map_err(Error::from)?;
                    select_with_progress(&engine, &season, ranker)?
                }
                (Some(id), None) => {
                    let rules = match rules {
                        Some(path) => read_rules(&path)?,
                        None => engine.event_selection_rules(&id)?,
                    };
                    let season = engine.season_for_events(std::slice::from_ref(&id), rules)?;
                    select_with_progress(&engine, &season, ranker)?
                }
                (None, None) => unreachable!("clap requires --event or --season"),
            };
            let labels = line_up_labels(&engine, &selection)?;
            render::write_selection_labelled(format.into(), &selection, &labels, &mut out)?;
        }
        Command::Serve { .. } => {
            let http = crate::server::HttpConfig {
                addr: settings.addr.clone(),
                data_dir: data_dir.clone(),
                submissions_per_minute: settings.submissions_per_minute,
                max_body_bytes: settings.max_body_bytes,
                body_timeout: settings.body_timeout(),
                writes_per_minute: settings.writes_per_minute,
                global_writes_per_minute: settings.global_writes_per_minute,
                trusted_proxies: settings.trusted_proxy_nets()?,
                insecure_http_cookies: settings.insecure_http_cookies,
                public_url: settings.public_url.clone(),
                metrics_addr: settings.metrics_addr.clone(),
                moderation: settings.moderation,
                max_pending_per_client: settings.max_pending_per_client,
                max_pending: settings.max_pending,
            };
            crate::server::init_tracing();
            crate::server::limit_malloc_arenas();
            let serving =
                EngineConfig { realign_after: Some(crate::engine::REALIGN_AFTER), ..config(true, Access::ReadWrite) };
            let engine = Engine::open_with(&serving).with_context(context)?;
            actix_web::rt::System::new().block_on(crate::server::serve(std::sync::Arc::new(engine), http))?;
        }
        Command::Token { action } => {
            // Tokens need only the store: no model load, no embedding.
            let engine = match action {
                args::TokenAction::List => open_for_reading(false)?,
                _ => open_with_embedding(false)?,
            };
            match action {
                args::TokenAction::Create { role, name, organisation } => {
                    let token = match (role, organisation) {
                        (args::TokenRoleArg::Organiser, None) => {
                            engine.create_token(&name, crate::store::TokenRole::Organiser)?
                        }
                        (args::TokenRoleArg::Organiser, Some(_)) => {
                            return Err(Error::from(UserError::BadArgument {
                                field: "--organisation".into(),
                                message: "only reviewer tokens belong to an organisation; organisers see all".into(),
                            })
                            .into())
                        }
                        (args::TokenRoleArg::Reviewer, org) => {
                            engine.create_reviewer_token(&name, org.as_deref().unwrap_or_default())?
                        }
                    };
                    writeln!(out, "{token}")?;
                    eprintln!("created token {name:?}; it is shown only this once");
                }
                args::TokenAction::List => {
                    for t in engine.tokens()? {
                        let state =
                            t.revoked_at.map_or("active".to_string(), |at| format!("revoked {}", render::utc_time(at)));
                        let name = render::printable(&t.name);
                        let created = render::utc_time(t.created_at);
                        let organisation = render::printable(t.organisation.as_deref().unwrap_or("-")).into_owned();
                        writeln!(out, "{name}\t{}\t{organisation}\tcreated {created}\t{state}", t.role.as_str())?;
                    }
                }
                args::TokenAction::Revoke { name } => {
                    engine.revoke_token(&name)?;
                    writeln!(out, "revoked token {name:?}")?;
                }
            }
        }
        Command::Moderation { action } => match action {
            args::ModerationAction::List => {
                let engine = open_for_reading(false)?;
                let mut after: Option<String> = None;
                loop {
                    let page = engine.pending_profiles(after.as_deref(), 500)?;
                    for p in &page {
                        // Supplier-written text: never let it drive the terminal.
                        let email = render::printable(p.profile.contact_email.as_deref().unwrap_or("-"));
                        let (name, at) = (render::printable(&p.profile.name), render::utc_time(p.submitted_at));
                        writeln!(out, "{}\tsubmitted {at}\t{name}\t{email}", p.profile.id)?;
                    }
                    match page.last() {
                        Some(last) if page.len() == 500 => after = Some(last.profile.id.clone()),
                        _ => break,
                    }
                }
            }
            args::ModerationAction::Approve { id } => {
                open_with_embedding(false)?.approve_profile(&id, Actor::command_line())?;
                writeln!(out, "approved profile {id:?}")?;
            }
            args::ModerationAction::Reject { id } => {
                open_with_embedding(false)?.reject_profile(&id, Actor::command_line())?;
                writeln!(out, "rejected and deleted profile {id:?}")?;
            }
        },
        Command::Audit { before, record_id, limit } => {
            let engine = open_for_reading(false)?;
            for e in engine.audit_log(before, record_id.as_deref(), limit as usize)? {
                let (at, actor) = (render::utc_time(e.at), render::printable(&e.actor));
                writeln!(out, "{}\t{at}\t{actor}\t{} {} {}", e.seq, e.action, e.kind, render::printable(&e.record_id))?;
            }
        }
        Command::Reindex => {
            let engine = open()?;
            let started = std::time::Instant::now();
            let n = engine.reindex()?;
            writeln!(out, "reindexed {n} profiles in {:.2}s", started.elapsed().as_secs_f64())?;
        }
        Command::Backup { file } => {
            // Beside a running server this opens read-only; the copy is one consistent snapshot.
            let engine = open_for_reading(false)?;
            engine.backup(&file)?;
            writeln!(out, "backed up {} to {}", data_dir.display(), file.display())?;
        }
        Command::Decisions { action: args::DecisionsAction::Import { file } } => {
            let engine = open_with_embedding(false)?;
            let source = file.display().to_string();
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Error::from(UserError::UnreadableInput { path: source.clone(), reason: e.to_string() }))?;
            let mut lines = Vec::new();
            let mut problems = Vec::new();
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let parsed = serde_json::from_str::<serde_json::Value>(line)
                    .map_err(|e| {
                        vec![crate::domain::Violation {
                            field: "(record)".into(),
                            rule: format!("is not valid JSON: {e}"),
                            value: None,
                        }]
                    })
                    .and_then(|v| crate::domain::Decision::from_json(&v));
                match parsed {
                    Ok(d) => lines.push((i + 1, d)),
                    Err(violations) => problems.extend(violations.into_iter().map(|violation| {
                        crate::error::RecordProblem { source: source.clone(), line: Some(i + 1), id: None, violation }
                    })),
                }
            }
            if !problems.is_empty() {
                return Err(Error::from(UserError::InvalidRecords(problems)).into());
            }
            let n = engine.import_decisions(&source, lines)?;
            writeln!(out, "imported {n} decisions")?;
        }
        Command::Learn { judgments, folds, format } => {
            let judgments = match judgments {
                Some(path) => {
                    Some((path.display().to_string(), crate::evaluate::read_judgments(&path).map_err(Error::from)?))
                }
                None => None,
            };
            let engine = open_with_embedding(true)?;
            let source = judgments.as_ref().map(|(name, j)| (name.as_str(), j));
            let report = engine.learn(source, usize::from(folds), Actor::command_line())?;
            match format {
                EvaluateFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &report)?;
                    writeln!(out)?;
                }
                EvaluateFormat::Table => render::write_learn_report(&report, &mut out)?,
            }
        }
        Command::Duplicates { format } => {
            let engine = open_for_reading(true)?;
            let pairs = engine.likely_duplicates()?;
            match format {
                EvaluateFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &pairs)?;
                    writeln!(out)?;
                }
                EvaluateFormat::Table => render::write_duplicates(&pairs, &mut out)?,
            }
        }
        Command::Decisions { action: args::DecisionsAction::Export { demand } } => {
            let engine = open_for_reading(false)?;
            for d in engine.all_decisions(&demand)? {
                serde_json::to_writer(&mut out, &d)?;
                writeln!(out)?;
            }
        }
        Command::Evaluate { judgments, by_language, format, ranker, simulate_feedback: Some(decided) } => {
            let judgments = crate::evaluate::read_judgments(&judgments).map_err(Error::from)?;
            let engine = open_for_reading(ranker != Ranker::Lexical)?;
            let evaluation = engine.evaluate_feedback(&judgments, usize::from(decided), ranker, by_language)?;
            warn_unknown_demands(&evaluation.with.unknown_demands);
            match format {
                EvaluateFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &evaluation)?;
                    writeln!(out)?;
                }
                EvaluateFormat::Table => render::write_feedback_evaluation(&evaluation, &mut out)?,
            }
        }
        Command::Evaluate { judgments, by_language, format, ranker, simulate_feedback: None } => {
            let judgments = crate::evaluate::read_judgments(&judgments).map_err(Error::from)?;
            let engine = open_for_reading(ranker != Ranker::Lexical)?;
            let evaluation = engine.evaluate(&judgments, ranker, by_language)?;
            warn_unknown_demands(&evaluation.unknown_demands);
            match format {
                EvaluateFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &evaluation)?;
                    writeln!(out)?;
                }
                EvaluateFormat::Table => render::write_evaluation(&evaluation, &mut out)?,
            }
        }
        Command::Agenda {
            event,
            rules,
            date,
            start,
            pitch_minutes,
            changeover_minutes,
            break_after,
            break_minutes,
            rooms,
            utc_offset,
            format,
        } => {
            let engine = open_for_reading(true)?;
            let rules = rules.map(|path| read_rules(&path)).transpose()?;
            let plan = crate::agenda::DayPlan {
                date: date.unwrap_or_default(),
                start,
                pitch_minutes,
                changeover_minutes,
                break_after,
                break_minutes,
                rooms,
                utc_offset,
            };
            let agenda = engine.event_agenda(&event, rules.as_ref(), &plan)?;
            match format {
                AgendaFormat::Table => render::write_agenda_table(&agenda, &mut out)?,
                AgendaFormat::Csv => render::write_agenda_csv(&agenda, &mut out)?,
                AgendaFormat::Ics => out.write_all(crate::agenda::to_ics(&agenda).as_bytes())?,
                AgendaFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &agenda)?;
                    writeln!(out)?;
                }
            }
        }
        Command::Restore { file } => {
            let started = std::time::Instant::now();
            let engine = Engine::restore(&config(true, Access::ReadWrite), &file).with_context(context)?;
            writeln!(
                out,
                "restored {} profiles from {} into {} in {:.2}s",
                engine.profile_count()?,
                file.display(),
                data_dir.display(),
                started.elapsed().as_secs_f64()
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn read_rules(path: &std::path::Path) -> anyhow::Result<SeasonRules> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::from(UserError::UnreadableInput { path: path.display().to_string(), reason: e.to_string() })
    })?;
    let rules: SeasonRules = serde_json::from_str(&text).map_err(|e| {
        Error::from(UserError::BadArgument {
            field: path.display().to_string(),
            message: format!("invalid rules: {e}"),
        })
    })?;
    if let Some(v) = rules.limit_violations().into_iter().next() {
        let message = format!("rules: {} {} (got {})", v.field, v.rule, v.value.unwrap_or_default());
        return Err(Error::from(UserError::BadArgument { field: path.display().to_string(), message }).into());
    }
    Ok(rules)
}

/// The names and titles a line-up table shows instead of bare ids.
fn line_up_labels(engine: &Engine, selection: &crate::select::SeasonSelection) -> anyhow::Result<render::LineUpLabels> {
    let mut ids: Vec<String> = Vec::new();
    for e in &selection.events {
        ids.extend(e.selected.iter().chain(&e.reserves).map(|p| p.profile_id.clone()));
        ids.extend(e.left_out.iter().map(|l| l.profile_id.clone()));
    }
    ids.sort();
    ids.dedup();
    let profiles = engine.profiles_by_id(&ids)?.into_iter().map(|p| (p.id, p.name)).collect();
    let demands = engine.demands()?.into_iter().map(|d| (d.id, d.title)).collect();
    Ok(render::LineUpLabels { profiles, demands })
}

/// Runs a selection with a progress bar on stderr (hidden when stderr is not a terminal).
fn select_with_progress(
    engine: &Engine,
    season: &SeasonFile,
    ranker: Ranker,
) -> anyhow::Result<crate::select::SeasonSelection> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} demand areas")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let selection = engine.select_season_with_progress(season, ranker, &mut |step| match step {
        crate::engine::SelectionStep::Ranking { demand_id, done, total } => {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("ranking {demand_id}"));
        }
        crate::engine::SelectionStep::Solving => {
            bar.set_message("solving the line-up".to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
    })?;
    bar.finish_and_clear();
    Ok(selection)
}
