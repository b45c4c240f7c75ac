//! What each subcommand does, once [`crate::cli`] has parsed its arguments. Every command
//! answers an exit code: 0 done, 1 failed, 2 a usage or configuration error (and `verify`'s
//! own verdict codes).

use std::path::Path;
use std::process::ExitCode;

use api::startup::Application;
use secrecy::ExposeSecret as _;
use service::config::Settings;
use service::keys::signing::{KeyRing, PublishedKey};
use service::verify::offline::verify_offline;

use crate::cli::{ChatArgs, RotateKeysArgs, VerifyArgs, VerifyCopyArgs, chat_user};
pub use crate::import::import_gov_records;

/// `yueju [serve]`: the HTTP service until it is stopped.
pub fn serve() -> ExitCode {
    let settings = match settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let telemetry =
        match api::telemetry::init(settings.log_format, settings.otlp_endpoint.as_deref()) {
            Ok(telemetry) => telemetry,
            Err(e) => {
                eprintln!("yueju: {e:#}");
                return ExitCode::from(2);
            }
        };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let app = Application::build(settings).await?;
        tracing::info!(address = %app.address(), "yueju listening; open http://{}/", app.address());
        if let Some(metrics) = app.metrics_address() {
            tracing::info!(address = %metrics, "metrics at http://{metrics}/metrics");
        }
        app.run_until_stopped().await?;
        anyhow::Ok(())
    });
    // Outside the runtime: the exporter's last batch goes out on its own thread.
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "yueju stopped with an error");
            eprintln!("yueju: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `yueju verify`: the offline verifier, for an agency without a connection (or an auditor).
pub fn verify(args: VerifyArgs) -> ExitCode {
    let keys = match verifier_keys(args.keys.as_deref(), "verify") {
        Ok(keys) => keys,
        Err(usage) => return usage,
    };
    if args
        .token
        .trim()
        .starts_with(service::residence::proofs::TOKEN_PREFIX)
    {
        return verify_residence_proof(&keys, &args.token);
    }
    // Each file a Status List Token as served; the code says which list it needs.
    let mut lists = Vec::with_capacity(args.status_lists.len());
    for path in &args.status_lists {
        match std::fs::read_to_string(path) {
            Ok(text) => lists.push(text.trim().to_owned()),
            Err(e) => {
                eprintln!(
                    "yueju verify: cannot read the status list {}: {e}",
                    path.display()
                );
                return ExitCode::from(2);
            }
        }
    }
    // The verifier's own clock: this command has no service context.
    let verdict = verify_offline(&keys, &args.token, &lists, service::clock::system_now());
    let exit = match verdict.valid {
        Some(true) => ExitCode::SUCCESS,
        Some(false) => ExitCode::from(1),
        None => ExitCode::from(3),
    };
    print_verdict("verify", &verdict, exit)
}

/// A residence proof's token: its signature with the published keys and its expiry, on the
/// verifier's own clock. Exit 0 when valid (whatever the statement says), 1 when not.
fn verify_residence_proof(keys: &[PublishedKey], token: &str) -> ExitCode {
    use service::residence::proofs::{self, Checked, ProofCheck, ProofReason};
    let checked = match proofs::from_token(token) {
        Some(proof) => proofs::check(keys, &proof, service::clock::system_now()),
        None => Checked::Invalid(ProofReason::Malformed),
    };
    let answer = match checked {
        Checked::Valid(statement) => ProofCheck {
            valid: true,
            reason: None,
            statement: Some(statement),
        },
        Checked::Invalid(reason) => ProofCheck {
            valid: false,
            reason: Some(reason),
            statement: None,
        },
    };
    let exit = valid_or_not(answer.valid);
    print_verdict("verify", &answer, exit)
}

/// `yueju verify-copy`: a PDF copy's attached envelope against the published keys, and the
/// annotation printed on its pages against the signed one. Prints the verdict as JSON; exit 0
/// valid, 1 not valid, 2 when the keys or the file cannot be read.
pub fn verify_copy(args: VerifyCopyArgs) -> ExitCode {
    use service::consent::copy_pdf;
    let keys = match verifier_keys(args.keys.as_deref(), "verify-copy") {
        Ok(keys) => keys,
        Err(usage) => return usage,
    };
    let bytes = match read_bounded(&args.file, copy_pdf::MAX_PDF_BYTES) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!(
                "yueju verify-copy: cannot read {}: {e:#}",
                args.file.display()
            );
            return ExitCode::from(2);
        }
    };
    let report = copy_pdf::verify_pdf(&keys, &bytes).report();
    let exit = valid_or_not(report.valid);
    print_verdict("verify-copy", &report, exit)
}

/// The file's bytes, reading at most one byte past `max` (a larger file then fails the check
/// as too large rather than filling memory).
fn read_bounded(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The published keys a verifying command checks against: the file given (as served by
/// GET /api/v1/keys), else this installation's own ring. A key file that cannot be read is a
/// usage error (exit 2), named after `command`.
fn verifier_keys(file: Option<&Path>, command: &str) -> Result<Vec<PublishedKey>, ExitCode> {
    let keys = match file {
        Some(path) => read_keys(path),
        None => local_keys(),
    };
    keys.map_err(|e| {
        eprintln!("yueju {command}: cannot read the keys: {e:#}");
        ExitCode::from(2)
    })
}

/// Prints a verifying command's verdict as JSON and answers `exit`.
fn print_verdict(command: &str, verdict: &impl serde::Serialize, exit: ExitCode) -> ExitCode {
    match serde_json::to_string_pretty(verdict) {
        Ok(text) => {
            println!("{text}");
            exit
        }
        Err(e) => {
            eprintln!("yueju {command}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Exit 0 for a valid verdict, 1 for one that is not.
fn valid_or_not(valid: bool) -> ExitCode {
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn read_keys(path: &Path) -> anyhow::Result<Vec<PublishedKey>> {
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

/// `yueju rotate-keys`: re-seals every stored value and material file under the first key of
/// `YUEJU_DATA_KEYS`, printing progress after each batch.
pub fn rotate_keys(args: RotateKeysArgs) -> ExitCode {
    let mut options = service::rights::rotation::Options::default();
    if let Some(batch) = args.batch {
        options.batch = batch.get();
    }
    options.max_batches = args.max_batches.map(|n| n.get());
    let settings = match settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let vault = service::context::load_vault(&settings)?;
        let db = service::db::connect_and_migrate(settings.database_url.expose_secret()).await?;
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

/// `yueju chat`: the bot in the terminal against the local database (the same settings as
/// `serve`; migrations and demo data as at start-up). Logs go to stderr, warnings only, so
/// they do not interleave with the conversation.
pub fn chat(args: ChatArgs) -> ExitCode {
    let user = match args.user {
        Some(user) => user,
        None => {
            let login = std::env::var("USER")
                .ok()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "me".into());
            // $USER is checked like --user: it names the chat user the same way.
            match chat_user(&login) {
                Ok(user) => user,
                Err(problem) => {
                    eprintln!("yueju chat: $USER is `{login}`; --user {problem}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let settings = match settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let ctx = service::Context::init(settings).await?;
        let bot = api::routes::bot::bot(&ctx)?;
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

/// The settings from the environment, or the exit code after saying what is wrong.
pub(crate) fn settings() -> Result<Settings, ExitCode> {
    Settings::from_env().map_err(|e| {
        eprintln!("yueju: configuration error: {e:#}");
        ExitCode::from(2)
    })
}

/// The multi-threaded runtime every command runs on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("yueju: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        })
}
