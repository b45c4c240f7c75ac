//! `yueju`: the root package whose main starts everything.
//!
//! A tour: [`cli`] declares the command line (clap); [`commands`] carries out each
//! subcommand — `serve` (the default: the HTTP service of the `api` crate), `verify` (the
//! offline verifier), `verify-copy` (the same for a PDF copy), `rotate-keys`, `chat` and
//! `import-gov-records` (bulk government data, [`import`]). Settings come from the environment
//! and an optional `.env` (`service::config`).

mod cli;
mod commands;
mod import;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.command.unwrap_or(cli::Command::Serve) {
        cli::Command::Serve => commands::serve(),
        cli::Command::Verify(args) => commands::verify(args),
        cli::Command::VerifyCopy(args) => commands::verify_copy(args),
        cli::Command::RotateKeys(args) => commands::rotate_keys(args),
        cli::Command::Chat(args) => commands::chat(args),
        cli::Command::ImportGovRecords(args) => commands::import_gov_records(args),
    }
}
