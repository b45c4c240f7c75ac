//! The HTTP face of yueju (actix-web).
//!
//! A tour: [`run`] is the binary's entry (`cargo run`); [`startup::Application`] binds the
//! listener and builds the server around one shared [`service::Context`]; [`routes`] lists
//! every route; [`extract`] holds the principal extractors and the body-error handlers;
//! [`error::ApiError`] is the one error type of this layer; [`telemetry`] sets up logs.

mod cli;
pub mod error;
pub mod extract;
mod jobs;
pub mod openapi;
pub mod rate_limit;
pub mod routes;
pub mod startup;
pub mod telemetry;

use std::process::ExitCode;

use service::config::Settings;
use startup::Application;

const USAGE: &str = "usage: yueju [serve]\n       yueju verify <token> [--keys FILE] [--status-list FILE]...\n       \
yueju rotate-keys [--batch N] [--max-batches N]\n       yueju chat [--user NAME]\n\n\
  serve    start the HTTP service (the default)\n\
  verify   verify a 粤居码 offline, with published keys alone: FILE as served by\n\
           GET /api/v1/keys (default: this installation's own key ring), and optionally\n\
           the Status List Tokens as served by GET /api/v1/status-lists/{id} (repeat\n\
           --status-list; the code names its list). Exit status 0 valid,\n\
           1 not valid, 3 genuine but status undetermined, 2 usage error.\n\
  rotate-keys  re-seal every stored personal value and material file under the first key of\n\
           YUEJU_DATA_KEYS (put the new key first, keep the old ones after it), N rows per\n\
           transaction (default 500), printing progress; safe to stop and run again. Then\n\
           remove the old keys. The blind-index key is not rotated by this command.\n\n\
  chat     talk to the bot in this terminal, against the local database, as the chat\n\
           user terminal:NAME (default: $USER). In dev, `绑定 dev:<openid>` links it to\n\
           the dev login of that openid.\n\n\
Settings come from the environment and an optional .env file; see .env.example.";

/// Entry point of the `yueju` binary.
pub fn run() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(),
        Some("verify") => cli::verify(&args[1..]),
        Some("rotate-keys") => cli::rotate_keys(&args[1..]),
        Some("chat") => cli::chat(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("yueju: unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    let settings = match crate::settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    telemetry::init(settings.log_format);
    let runtime = match crate::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let app = Application::build(settings).await?;
        tracing::info!(address = %app.address(), "yueju listening; open http://{}/", app.address());
        app.run_until_stopped().await?;
        anyhow::Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "yueju stopped with an error");
            eprintln!("yueju: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The settings from the environment, or the exit code after saying what is wrong.
fn settings() -> Result<Settings, ExitCode> {
    Settings::from_env().map_err(|e| {
        eprintln!("yueju: configuration error: {e:#}");
        ExitCode::from(2)
    })
}

/// The multi-threaded runtime every command runs on.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("yueju: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        })
}
