//! What a newcomer reads and types: help texts, the command names Terraform users try, errors
//! under --json, -v, the wording of hints, and a repository that stands on its own.

use std::path::Path;

use crate::common::{run_catup, World};

fn help(args: &[&str]) -> String {
    let w_dir = std::env::temp_dir();
    let run = run_catup(&w_dir, &[], args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

/// The help's option lines (`  --name <VALUE>  text`), without the section they are in.
fn flags(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|word| word.starts_with("--") || word.starts_with("-v"))
        .map(|word| word.trim_end_matches(',').to_owned())
        .collect()
}

#[test]
fn dev_help_lists_only_what_dev_uses() {
    let text = help(&["dev", "--help"]);
    let flags = flags(&text);
    for used in [
        "--port",
        "--api-port",
        "--frontend",
        "--stack",
        "--endpoint-url",
    ] {
        assert!(flags.iter().any(|f| f == used), "{used} missing:\n{text}");
    }
    for unused in ["--profile", "--role-arn"] {
        assert!(
            !flags.iter().any(|f| f == unused),
            "{unused} listed:\n{text}"
        );
    }
    assert!(!text.contains("default: a free one"), "{text}");
}

#[test]
fn dev_refuses_flags_that_do_nothing_there() {
    let dir = std::env::temp_dir();
    run_catup(&dir, &[], &["dev", "--profile", "prod"]).fails_with(1, "drop --profile");
    run_catup(
        &dir,
        &[],
        &[
            "--role-arn",
            "arn:aws:iam::123456789012:role/LabRole",
            "dev",
        ],
    )
    .fails_with(1, "drop --role-arn");
}

#[test]
fn global_options_have_their_own_heading() {
    let text = help(&["deploy", "--help"]);
    let (own, global) = text
        .split_once("Global options:")
        .expect("a Global options heading");
    assert!(own.contains("--bootstrap"), "{text}");
    assert!(!own.contains("--role-arn"), "{text}");
    assert!(
        global.contains("--role-arn") && global.contains("--region"),
        "{text}"
    );
}

#[test]
fn status_help_explains_its_exit_codes() {
    let text = help(&["status", "--help"]);
    assert!(
        text.contains("3 not deployed") && text.contains("4 drifted"),
        "{text}"
    );
}

#[tokio::test]
async fn destroy_and_delete_are_teardown() {
    let w = World::new();
    w.deploy();
    let run = w.catup(&["destroy", "--yes"]).ok();
    assert!(run.stdout.contains("removed"), "{}", run.stdout);
    assert!(!w.function_exists().await);
    let run = w.catup(&["delete", "--yes"]).ok();
    assert!(run.stdout.contains("nothing to do"), "{}", run.stdout);
}

#[tokio::test]
async fn json_errors_are_a_json_object_on_stdout() {
    let w = World::new();
    let run = w.catup(&["--region", "mars-north-1", "--json", "status"]);
    assert_eq!(run.code, 1);
    let error = run.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("unknown AWS region 'mars-north-1'"),
        "{error}"
    );
}

/// A usage error that clap reports is still a JSON object on stdout under --json (clap's text
/// on stderr, clap's exit code 2); without --json stdout stays empty.
#[test]
fn usage_errors_under_json_are_a_json_object_too() {
    let dir = std::env::temp_dir();
    for (args, named) in [
        (&["--json", "logs", "--since", "yesterday"][..], "yesterday"),
        (&["--json", "deplyo"][..], "deplyo"),
        (&["status", "--json", "--frobnicate"][..], "--frobnicate"),
    ] {
        let run = run_catup(&dir, &[], args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        let error = run.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(named), "{args:?}: {error}");
        assert!(!error.starts_with("error:"), "{error}");
        // clap's own message stays on stderr.
        assert!(
            run.stderr.starts_with("error: ") && run.stderr.contains(named),
            "{}",
            run.stderr
        );
    }
    let run = run_catup(&dir, &[], &["deplyo"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{}", run.stderr);
    let run = run_catup(&dir, &[], &["--json", "--help"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Usage"), "{}", run.stdout);
}

#[tokio::test]
async fn the_not_deployed_hint_names_the_stack_to_deploy() {
    let w = World::new();
    let run = w.catup(&["status"]);
    assert_eq!(run.code, 3);
    let expected = format!("run `catup --stack {} deploy`", w.stack);
    assert!(run.stdout.contains(&expected), "{}", run.stdout);
}

#[tokio::test]
async fn verbose_shows_catups_steps_and_calls() {
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap().to_owned();
    let run = w.catup(&["-v", "deploy", "--bootstrap", &bootstrap]).ok();
    for step in [
        "GetCallerIdentity: HTTP 200",
        "CreateFunction: HTTP 201",
        &format!("read function {}: absent", w.function()),
        &format!("done: created  function      {}", w.function()),
    ] {
        assert!(
            run.stderr.contains(step),
            "{step:?} not in:\n{}",
            run.stderr
        );
    }
    let quiet = w.catup(&["deploy", "--bootstrap", &bootstrap]).ok();
    assert!(!quiet.stderr.contains("HTTP 200"), "{}", quiet.stderr);
}

#[test]
fn bootstrap_folder_and_frontend_file_say_what_was_expected() {
    let dir = std::env::temp_dir();
    let tree = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folder = tree.join("lambda-fn");
    run_catup(
        &dir,
        &[],
        &["deploy", "--bootstrap", folder.to_str().unwrap()],
    )
    .fails_with(1, "is a folder: pass the bootstrap executable itself");
    let file = tree.join("frontend/index.html");
    run_catup(&dir, &[], &["deploy", "--frontend", file.to_str().unwrap()])
        .fails_with(1, "is a file: pass the folder that holds index.html");
}

/// A user's clone has no shared folder beside it: nothing tracked may read from there, and
/// no compiled Python is committed.
#[test]
fn the_repository_stands_alone() {
    let tree = Path::new(env!("CARGO_MANIFEST_DIR"));
    let listed = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(tree)
        .output()
        .expect("git ls-files");
    assert!(listed.status.success());
    // Spelt in pieces, so that this file does not name them itself.
    let folder = "shared";
    let mut outside = vec![["..", folder].join("/")];
    outside.extend(["FACTS", "DESIGN", "anchors"].map(|name| format!("{folder}/{name}")));
    let mut readers = Vec::new();
    let mut compiled = Vec::new();
    for path in listed.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let path = tree.join(String::from_utf8_lossy(path).as_ref());
        if path.extension().is_some_and(|e| e == "pyc") {
            compiled.push(path.display().to_string());
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if outside.iter().any(|needle| text.contains(needle.as_str())) {
            readers.push(path.display().to_string());
        }
    }
    assert!(
        readers.is_empty(),
        "files reading outside the repo: {readers:?}"
    );
    assert!(
        compiled.is_empty(),
        "compiled Python committed: {compiled:?}"
    );
}

/// `-v` is catup's own account of what it does (each call with its resource, status and
/// time; each read; each outcome), not the SDK's debug log, which `-vv` adds.
#[test]
fn verbose_is_catup_s_steps_and_very_verbose_adds_the_sdk_s_log() {
    let w = World::new();
    let run = w.catup(&["-v", "status"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    // aws-config's warnings (a config file named but missing) stay: they say what is wrong.
    let ours = |l: &&&str| l.contains("catup::") || l.contains(" WARN ");
    let foreign: Vec<&&str> = lines.iter().filter(|l| !ours(l)).collect();
    assert!(foreign.is_empty(), "not catup's steps: {foreign:#?}");
    let function_read = "Lambda.GetFunction: HTTP 404 in";
    assert!(
        lines
            .iter()
            .any(|l| l.contains(function_read) && l.contains(&w.function())),
        "{}",
        run.stderr
    );
    let very = w.catup(&["-vv", "status"]);
    assert!(
        very.stderr.contains("aws_smithy_runtime"),
        "{}",
        very.stderr
    );
}
