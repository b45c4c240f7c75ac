//! `yueju verify`: the offline verifier, for an agency without a connection (or an auditor).

use std::process::ExitCode;

use service::config::Settings;
use service::keys::signing::{KeyRing, PublishedKey};
use service::verify::verification::verify_offline;

fn read_keys(path: &str) -> anyhow::Result<Vec<PublishedKey>> {
    let text = std::fs::read_to_string(path)?;
    let value: serde_json::Value = serde_json::from_str(&text)?;
    // Either the whole answer of GET /api/v1/keys or just its list.
    let list = value.get("keys").cloned().unwrap_or(value);
    Ok(serde_json::from_value(list)?)
}

fn local_keys() -> anyhow::Result<Vec<PublishedKey>> {
    let settings = Settings::from_env()?;
    Ok(KeyRing::load(&settings)?.published())
}

pub fn verify(args: &[String]) -> ExitCode {
    let mut token = None;
    let mut keys_file = None;
    let mut list_files = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--keys" => keys_file = iter.next(),
            "--status-list" => match iter.next() {
                Some(path) => list_files.push(path),
                None => {
                    eprintln!("yueju verify: --status-list needs a file");
                    return ExitCode::from(2);
                }
            },
            other if token.is_none() && !other.starts_with("--") => token = Some(other),
            other => {
                eprintln!("yueju verify: unexpected argument `{other}`");
                return ExitCode::from(2);
            }
        }
    }
    let Some(token) = token else {
        eprintln!("usage: yueju verify <token> [--keys FILE] [--status-list FILE]...");
        return ExitCode::from(2);
    };
    let keys = match keys_file {
        Some(path) => read_keys(path),
        None => local_keys(),
    };
    let keys = match keys {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("yueju verify: cannot read the keys: {e:#}");
            return ExitCode::from(2);
        }
    };
    // Each file a Status List Token as served; the code says which list it needs.
    let mut lists = Vec::with_capacity(list_files.len());
    for path in list_files {
        match std::fs::read_to_string(path) {
            Ok(text) => lists.push(text.trim().to_owned()),
            Err(e) => {
                eprintln!("yueju verify: cannot read the status list {path}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let verdict = verify_offline(&keys, token, &lists, chrono::Utc::now());
    match serde_json::to_string_pretty(&verdict) {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("yueju verify: {e}");
            return ExitCode::FAILURE;
        }
    }
    match verdict.valid {
        Some(true) => ExitCode::SUCCESS,
        Some(false) => ExitCode::from(1),
        None => ExitCode::from(3),
    }
}

/// `yueju rotate-keys [--batch N] [--max-batches N]`: re-seals every stored value and material
/// file under the first key of `YUEJU_DATA_KEYS`, printing progress after each batch.
pub fn rotate_keys(args: &[String]) -> ExitCode {
    let mut options = service::rights::rotation::Options::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let target = match arg.as_str() {
            "--batch" => &mut options.batch,
            "--max-batches" => options.max_batches.insert(0),
            other => {
                eprintln!("yueju rotate-keys: unexpected argument `{other}`");
                return ExitCode::from(2);
            }
        };
        match iter.next().and_then(|v| v.parse::<u64>().ok()) {
            Some(n) if n > 0 => *target = n,
            _ => {
                eprintln!("yueju rotate-keys: {arg} needs a positive whole number");
                return ExitCode::from(2);
            }
        }
    }
    let settings = match crate::settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match crate::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let vault = service::context::load_vault(&settings)?;
        let db = service::db::connect_and_migrate(&settings.database_url).await?;
        println!("re-sealing under data key `{}`", vault.sealing_kid());
        let report = service::rights::rotation::rotate_with(
            &db,
            &vault,
            &settings.data_dir,
            &[bot::SEALED],
            options,
            &mut |p| {
                println!(
                    "  {:<30} scanned {:>9}  re-sealed {:>9}",
                    p.table, p.scanned, p.resealed
                )
            },
        )
        .await?;
        anyhow::Ok(report)
    });
    match result {
        Ok(report) if report.complete => {
            println!(
                "done: {} rows scanned, {} values and {} files re-sealed; the other data keys \
                 can now be removed from YUEJU_DATA_KEYS",
                report.scanned, report.resealed, report.files_resealed
            );
            ExitCode::SUCCESS
        }
        Ok(report) => {
            println!(
                "stopped after the allowed batches: {} values and {} files re-sealed so far; run \
                 again to continue",
                report.resealed, report.files_resealed
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("yueju rotate-keys: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `yueju chat [--user NAME]`: the bot in the terminal against the local database (the same
/// settings as `serve`; migrations and demo data as at start-up). Logs go to stderr, warnings
/// only, so they do not interleave with the conversation.
pub fn chat(args: &[String]) -> ExitCode {
    let mut user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "me".into());
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match (arg.as_str(), iter.next()) {
            ("--user", Some(name)) => user = name.clone(),
            _ => {
                eprintln!("usage: yueju chat [--user NAME]");
                return ExitCode::from(2);
            }
        }
    }
    let valid = !user.is_empty()
        && user.len() <= 64
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !valid {
        eprintln!("yueju chat: --user takes letters, digits, '-', '_' and '.' (at most 64)");
        return ExitCode::from(2);
    }
    let settings = match crate::settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match crate::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let ctx = service::Context::init(settings).await?;
        let bot = crate::routes::bot::bot(&ctx)?;
        bot::terminal::run(&bot, &ctx, &user).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("yueju chat: {e:#}");
            ExitCode::FAILURE
        }
    }
}
