//! The H5 screens in a real browser: tests/browser/flow.mjs drives Debian's Chromium through
//! playwright-core against this server. A fresh machine lacks Chromium, Node.js and
//! playwright-core (`npm ci --prefix tests/browser`), so the browser test is `#[ignore]`d with
//! that reason; `.ci/run` installs them and runs it with `--include-ignored`. Run without
//! them, it fails and names what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::*;

fn missing_tools(root: &Path) -> Vec<&'static str> {
    let mut missing = Vec::new();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        missing.push("Chromium (apt-get install chromium)");
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("Node.js");
    }
    if !root
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        missing.push("playwright-core (npm ci --prefix tests/browser)");
    }
    missing
}

#[tokio::test]
#[ignore = "needs Chromium, Node.js and playwright-core; .ci/run installs them and runs ignored tests"]
async fn a_resident_and_an_agency_complete_the_whole_flow_in_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let missing = missing_tools(&root);
    assert!(
        missing.is_empty(),
        "the browser test needs: {}",
        missing.join(", ")
    );
    let app = spawn_app().await;
    let artifacts = root.join("target/browser-artifacts");
    let output = tokio::process::Command::new("node")
        .arg(root.join("tests/browser/flow.mjs"))
        .arg(&app.address)
        .arg(&artifacts)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser flow failed:\n{stdout}\n{stderr}\n(screenshots in {})",
        artifacts.display()
    );
    assert!(stdout.contains("browser flow passed"), "{stdout}");
    assert!(artifacts.join("06-copy.png").exists());
    assert!(artifacts.join("12-overview.png").exists());
}

#[tokio::test]
async fn every_screen_is_served_from_the_binary_with_a_strict_content_security_policy() {
    let app = spawn_app().await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/h5/yss.html", "text/html"),
        ("/h5/yjm.html", "text/html"),
        ("/h5/agency.html", "text/html"),
        ("/h5/staff.html", "text/html"),
        ("/h5/api.js", "text/javascript"),
        ("/h5/overview.js", "text/javascript"),
        ("/h5/vendor/uplot.min.js", "text/javascript"),
        ("/h5/vendor/uplot.min.css", "text/css"),
        ("/h5/vendor/uplot.LICENSE.txt", "text/plain"),
        ("/h5/app.css", "text/css"),
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        let body = r.text().await.unwrap();
        if kind == "text/html" {
            assert!(body.contains("lang=\"zh-CN\""), "{path}");
            assert!(body.contains("width=device-width"), "{path}");
            assert!(
                !body.contains("<script>"),
                "{path}: inline scripts break the CSP"
            );
        }
    }
    app.get("/h5/nothing.html", None)
        .await
        .assert_error(404, "NOT_FOUND");
    app.get("/h5/../Cargo.toml", None)
        .await
        .assert_error(404, "NOT_FOUND");
}
