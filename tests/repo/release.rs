//! The release: `scripts/release`'s layout (what `make release` writes to `dist/<version>/`)
//! built from a stand-in zip, so no arm64 build is needed; the Serverless Application
//! Repository metadata; and which build the binary says it is.

use crate::support::{BINARY, built_from, root};
use monitoring_schedule_isolation::Template;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const TEMPLATES: [&str; 5] = [
    "template.yaml",
    "template-org.yaml",
    "template-org-global.yaml",
    "template-hook.yaml",
    "security-hub-automation.yaml",
];

fn parse(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Template::parse(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .root
}

/// A scratch directory of its own for each test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("release-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the layout step alone on a stand-in zip (an empty archive: its end-of-directory
/// record) and a stand-in SBOM, and returns `dist/<version>/`.
fn lay_out(scratch: &Scratch) -> PathBuf {
    let zip = scratch.0.join("stand-in.zip");
    let mut empty_archive = b"PK\x05\x06".to_vec();
    empty_archive.extend([0u8; 18]);
    std::fs::write(&zip, empty_archive).unwrap();
    let sbom = scratch.0.join("stand-in.cdx.json");
    std::fs::write(&sbom, r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#).unwrap();
    let dist = scratch.0.join("dist");
    succeeds(
        "scripts/release layout",
        Command::new("bash")
            .arg(root().join("scripts/release"))
            .arg("layout")
            .args([&zip, &sbom, &dist]),
    );
    dist.join(VERSION)
}

/// Runs `command`, failing the test with its output unless it succeeds.
fn succeeds(what: &str, command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
    assert!(
        output.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect()
}

/// The source template as the release should have it: each function's build Metadata gone and
/// its CodeUri the zip; nothing else changed.
fn expected_release_template(source: &Value, zip: &str) -> Value {
    let mut expected = source.clone();
    for resource in expected["Resources"].as_object_mut().unwrap().values_mut() {
        if resource["Type"] == "AWS::Serverless::Function" {
            let resource = resource.as_object_mut().unwrap();
            resource.remove("Metadata");
            resource.get_mut("Properties").unwrap()["CodeUri"] = Value::from(zip);
        }
    }
    expected
}

#[test]
fn the_release_layout_holds_checksummed_files_and_templates_that_point_at_the_zip() {
    let scratch = Scratch::new("layout");
    let release = lay_out(&scratch);
    let zip = format!("monitoring-schedule-isolation-{VERSION}-arm64.zip");
    let sbom = format!("monitoring-schedule-isolation-{VERSION}.cdx.json");
    let mut expected: BTreeSet<String> = TEMPLATES.iter().map(|t| t.to_string()).collect();
    expected.extend([zip.clone(), sbom, "LICENSE".into(), "README.md".into()]);

    // SHA256SUMS names every other file once, and each hash is right.
    let sums = std::fs::read_to_string(release.join("SHA256SUMS")).unwrap();
    let listed: BTreeSet<String> = sums
        .lines()
        .map(|line| {
            line.split_once("  ")
                .expect("sha256sum's format")
                .1
                .to_owned()
        })
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(listed.len(), sums.lines().count(), "a file listed twice");
    expected.insert("SHA256SUMS".into());
    assert_eq!(files_in(&release), expected);
    succeeds(
        "sha256sum --check",
        Command::new("sha256sum")
            .args(["--check", "--strict", "SHA256SUMS"])
            .current_dir(&release),
    );

    // Each template: the source with only the functions' code changed, every local file it
    // names present, and nothing that would make SAM build.
    let mut functions = 0;
    for template in TEMPLATES {
        let released = parse(&release.join(template));
        let source = parse(&root().join(template));
        assert_eq!(
            released,
            expected_release_template(&source, &zip),
            "{template}"
        );
        for resource in released["Resources"].as_object().unwrap().values() {
            if resource["Type"] == "AWS::Serverless::Function" {
                functions += 1;
                let code = resource["Properties"]["CodeUri"].as_str().unwrap();
                assert!(release.join(code).is_file(), "{template}: {code}");
                assert!(resource.get("Metadata").is_none(), "{template}");
            }
        }
        let text = std::fs::read_to_string(release.join(template)).unwrap();
        assert!(!text.contains("BuildMethod"), "{template}");
    }
    // The rule, the organization's regional function and the hook.
    assert_eq!(functions, 3);
    let application =
        &parse(&release.join("template.yaml"))["Metadata"]["AWS::ServerlessRepo::Application"];
    for key in ["LicenseUrl", "ReadmeUrl"] {
        let file = application[key].as_str().unwrap();
        assert!(release.join(file).is_file(), "{key}: {file}");
    }
}

#[test]
#[ignore = "needs cfn-lint and sam in .venv; `make test` installs them and runs this test"]
fn the_release_templates_pass_cfn_lint_and_sam_validate() {
    let venv = root().join(".venv/bin");
    assert!(
        venv.join("cfn-lint").exists() && venv.join("sam").exists(),
        "cfn-lint and sam are not installed: `scripts/tools`"
    );
    let scratch = Scratch::new("lint");
    let release = lay_out(&scratch);
    succeeds(
        "cfn-lint",
        Command::new(venv.join("cfn-lint"))
            .args(TEMPLATES)
            .current_dir(&release),
    );
    for template in TEMPLATES {
        succeeds(
            &format!("sam validate {template}"),
            Command::new(venv.join("sam"))
                .args(["validate", "--lint", "--language-extensions", "--template"])
                .arg(template)
                .env("SAM_CLI_TELEMETRY", "0")
                .current_dir(&release),
        );
    }
}

#[test]
fn the_sar_metadata_publishes_cargo_tomls_version_under_its_license() {
    let template = parse(&root().join("template.yaml"));
    let application = &template["Metadata"]["AWS::ServerlessRepo::Application"];
    assert_eq!(application["SemanticVersion"], VERSION);
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let license = manifest
        .lines()
        .find_map(|line| line.strip_prefix("license = "))
        .expect("Cargo.toml names a license")
        .trim_matches('"');
    assert_eq!(application["SpdxLicenseId"], license);
    let text =
        std::fs::read_to_string(root().join(application["LicenseUrl"].as_str().unwrap())).unwrap();
    assert!(text.starts_with("MIT No Attribution\n"), "{text}");
    assert!(
        root()
            .join(application["ReadmeUrl"].as_str().unwrap())
            .is_file()
    );
}

#[test]
fn version_names_the_release_and_the_commit_it_was_built_from() {
    let output = Command::new(BINARY).arg("--version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!(
            "monitoring-schedule-isolation {VERSION} (commit {})\n",
            built_from()
        )
    );
}
