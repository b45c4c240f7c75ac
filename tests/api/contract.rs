//! schemathesis (from PyPI) against the OpenAPI document the server serves: generated and
//! mutated requests on every operation, as a resident, staff, an agency, the chat gateway and
//! nobody. Any 5xx, status code, media type, header or body outside the contract fails the
//! test. Generation is deterministic, so a failure here reproduces with the command it prints.
//!
//! The tool is not on a fresh machine: the test is ignored unless asked for, and `.ci/run`
//! installs schemathesis and runs the ignored tests too.

use std::path::PathBuf;
use std::process::Command;

use crate::helpers::*;

const BOT_SECRET: &str = "contract-test-gateway-secret";

/// The `st` command: `YUEJU_SCHEMATHESIS` names it, else it is looked up on the PATH.
fn schemathesis() -> PathBuf {
    let st = std::env::var("YUEJU_SCHEMATHESIS").unwrap_or_else(|_| "st".into());
    let found = Command::new(&st).arg("--version").output();
    assert!(
        found.as_ref().is_ok_and(|o| o.status.success()),
        "schemathesis is needed: pip install schemathesis, or set YUEJU_SCHEMATHESIS to its `st` ({found:?})"
    );
    PathBuf::from(st)
}

/// One run of `st` over the operations whose path matches `paths`, with `token` as the bearer.
async fn run_schemathesis(
    st: &PathBuf,
    app: &TestApp,
    name: &str,
    paths: &str,
    token: Option<&str>,
) {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/schemathesis.toml");
    // Asynchronous on purpose: the server's first pooled PostgreSQL connections were opened on
    // this test's runtime and are woken by its I/O driver. Blocking this thread for the whole
    // run would leave a request that draws one of them waiting forever (SQLite has no such
    // sockets).
    let mut cmd = tokio::process::Command::new(st);
    // schemathesis keeps a cache of what it found in its working directory.
    cmd.current_dir(app.data_dir.path())
        .arg("--config-file")
        .arg(config)
        .arg("--no-color")
        .arg("run")
        .arg(app.url("/api/v1/openapi.json"))
        .args(["--checks", "all"])
        // The tool expects any write to be idempotent or a second identical request to be
        // refused; ours may differ on purpose (a second application is a 409, a closed account
        // answers 401): those are the stateful and resource checks.
        .args([
            "--exclude-checks",
            "use_after_free,ensure_resource_availability",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "10"])
        .arg("--generation-deterministic")
        .args(["--workers", "1"])
        .args(["--request-timeout", "10"])
        .args(["--include-path-regex", paths])
        // Closing the account ends the resident's session for the rest of the run;
        // tests/api/closing.rs covers it.
        .args(["--exclude-operation-id", "delete_api_v1_me"])
        .args(["--report", "junit"])
        .args([
            "--report-dir",
            &app.data_dir.path().join("st").display().to_string(),
        ]);
    if let Some(token) = token {
        cmd.args(["--header", &format!("Authorization: Bearer {token}")]);
    }
    let out = cmd.output().await.expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: String = stdout
        .lines()
        .skip_while(|l| !l.contains("SUMMARY"))
        .collect::<Vec<_>>()
        .join("\n");
    eprintln!("schemathesis, {name}:\n{summary}");
    assert!(
        out.status.success(),
        "schemathesis found failures as {name}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
#[ignore = "needs schemathesis from PyPI (pip install schemathesis); .ci/run installs it and runs ignored tests"]
async fn generated_requests_as_anyone_get_no_server_error_and_no_answer_outside_the_contract() {
    let st = schemathesis();
    let app = spawn_app_with(&[
        ("YUEJU_BOT_API_SECRET", BOT_SECRET),
        ("YUEJU_RATE_LIMIT_IDENTITY_PER_MINUTE", "100000"),
        ("YUEJU_RATE_LIMIT_LOGIN_PER_MINUTE", "100000"),
        ("YUEJU_RATE_LIMIT_OAUTH_PER_MINUTE", "100000"),
    ])
    .await;
    let resident = app.chen_with_permit().await;
    let admin = app.admin_token().await;
    let agency = app
        .agency(
            1,
            "广州市测试学校",
            &["permit:verify", "permit:download"],
            &["name"],
        )
        .await;

    let runs: [(&str, &str, Option<&str>); 5] = [
        (
            "a resident",
            "^/api/v1/(me|applications)",
            Some(&resident.access),
        ),
        ("staff", "^/api/v1/staff", Some(&admin)),
        ("an agency", "^/api/v1/agency", Some(&agency.token)),
        (
            "the chat gateway",
            "^/api/v1/bot/messages$",
            Some(BOT_SECRET),
        ),
        (
            "nobody",
            "^/(?!api/v1/(me|applications|staff|agency|bot/messages$))",
            None,
        ),
    ];
    for (name, paths, token) in runs {
        run_schemathesis(&st, &app, name, paths, token).await;
    }
}
