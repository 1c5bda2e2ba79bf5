//! Every `emt` line of the README's command blocks, run as a user types it from the root of a
//! fresh clone, in a fast form: the same subcommand, flags and files, with the sizes that set
//! the run time (training steps, starts, steps examined) turned down and `--quick` where a
//! reproduction has it. A README line that no longer runs fails this test, and so does a
//! command line this test does not know how to shorten (add it to `fast_form`).
//!
//! The lines run in a scratch directory that looks like the clone's root to them: `crates` is
//! the repository's (read only: fixtures), `docs/models` and `docs/phase_codes.jsonl` likewise; `docs/REPRODUCTION.md` is a
//! copy (the `table` line rewrites it) and `docs/table1/spec.json` the real spec cut to one task,
//! one seed and 3 steps. `cargo run --release --bin emt --` is this test's build of the same
//! binary; that `cargo run --bin emt` resolves from the root is checked by `.ci/run`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PREFIX: &str = "cargo run --release --bin emt -- ";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The lines of the README's ```bash blocks.
fn bash_lines(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            inside = !inside && t == "```bash";
            continue;
        }
        if inside && !t.is_empty() && !t.starts_with('#') {
            out.push(t.to_string());
        }
    }
    out
}

/// Shell words of `line` up to an unquoted ` #` comment: double and single quotes group,
/// `> FILE` becomes the redirect.
fn words(line: &str) -> (Vec<String>, Option<String>) {
    let (mut words, mut cur, mut quote, mut any) = (Vec::new(), String::new(), None::<char>, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, '#') if cur.is_empty() && !any => break,
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    assert!(quote.is_none(), "unbalanced quote in README line {line:?}");
    match words.iter().position(|w| w == ">") {
        Some(i) => {
            assert_eq!(i + 2, words.len(), "README line {line:?}: `> FILE` must end the line");
            let file = words.pop();
            words.pop();
            (words, file)
        }
        None => (words, None),
    }
}

/// Sets `flag` to `value`: replaces the README's value, or appends the flag.
fn set(args: &mut Vec<String>, flag: &str, value: &str) {
    match args.iter().position(|a| a == flag) {
        Some(i) => args[i + 1] = value.to_string(),
        None => args.extend([flag.to_string(), value.to_string()]),
    }
}

/// The fast form of one command line; panics on a subcommand it does not know.
fn fast_form(mut args: Vec<String>) -> Vec<String> {
    let sub: Vec<&str> = args.iter().take(2).map(String::as_str).collect();
    match sub.as_slice() {
        ["train", ..] => set(&mut args, "--max-steps", "3"),
        ["fixed-points", ..] => {
            set(&mut args, "--starts", "8");
            if !args.iter().any(|a| a == "--init-states") {
                set(&mut args, "--steps", "20");
            }
        }
        ["cycle", ..] => {
            set(&mut args, "--steps", "50");
            set(&mut args, "--transient", "20");
        }
        ["lyapunov", ..] => {
            set(&mut args, "--steps", "100");
            set(&mut args, "--transient", "10");
        }
        ["sweep-param", ..] => set(&mut args, "--steps", "3"),
        ["reproduce", "phase-codes"] => args.push("--quick".into()),
        // Small already, or sized by their input files (the sweep's by its spec, cut below).
        ["analyze" | "sweep" | "table" | "simulate" | "circuit" | "plant" | "phase", ..] => {}
        ["plot", "spectrum" | "memory" | "phi" | "decoding" | "training" | "bifurcation" | "fsa"] => {}
        other => panic!("the README runs `emt {}`: give it a fast form in tests/readme.rs", other.join(" ")),
    }
    args
}

/// A directory that looks like the clone's root to the README's lines.
fn scratch_root() -> PathBuf {
    let root = std::env::temp_dir().join(format!("emt-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("docs/table1")).unwrap();
    let repo = repo().canonicalize().unwrap();
    std::os::unix::fs::symlink(repo.join("crates"), root.join("crates")).unwrap();
    std::os::unix::fs::symlink(repo.join("docs/models"), root.join("docs/models")).unwrap();
    std::os::unix::fs::symlink(repo.join("docs/phase_codes.jsonl"), root.join("docs/phase_codes.jsonl")).unwrap();
    std::fs::copy(repo.join("docs/REPRODUCTION.md"), root.join("docs/REPRODUCTION.md")).unwrap();
    let spec = std::fs::read_to_string(repo.join("docs/table1/spec.json")).unwrap();
    let mut spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
    for key in ["tasks", "seeds"] {
        let first = spec[key][0].clone();
        spec[key] = serde_json::json!([first]);
    }
    spec["max_steps"] = serde_json::json!(3);
    std::fs::write(root.join("docs/table1/spec.json"), spec.to_string()).unwrap();
    root
}

#[test]
fn every_readme_command_runs_as_typed() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let root = scratch_root();
    let (mut ran, mut skipped) = (Vec::new(), Vec::new());
    for line in bash_lines(&readme) {
        if let Some(dirs) = line.strip_prefix("mkdir -p ") {
            let (dirs, _) = words(dirs);
            for d in dirs {
                std::fs::create_dir_all(root.join(d)).unwrap();
            }
            continue;
        }
        let Some(rest) = line.strip_prefix(PREFIX) else {
            // `cargo test`, `pip install ... && pytest ...`, `cargo bench`, `python tools/...`: not
            // emt lines (CI runs the first two; pytest runs the README's Python block).
            assert!(
                line.starts_with("cargo ") || line.starts_with("python ") || line.starts_with("pip "),
                "README line the test does not know: {line:?}"
            );
            skipped.push(line);
            continue;
        };
        let (args, redirect) = words(rest);
        let args = fast_form(args);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_emt"));
        cmd.args(&args).current_dir(&root).stderr(Stdio::piped());
        if let Some(file) = &redirect {
            cmd.stdout(std::fs::File::create(root.join(file)).unwrap());
        } else {
            cmd.stdout(Stdio::piped());
        }
        let started = std::time::Instant::now();
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "README line failed: {line}\n(fast form: emt {})\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = match &redirect {
            Some(file) => std::fs::read_to_string(root.join(file)).unwrap(),
            None => String::from_utf8_lossy(&out.stdout).into_owned(),
        };
        let last = stdout.lines().last().unwrap_or_default();
        assert!(
            serde_json::from_str::<serde_json::Value>(last).is_ok(),
            "README line {line}: last stdout line is not JSON: {last:?}"
        );
        ran.push(format!("{:6.2} s  emt {}", started.elapsed().as_secs_f64(), args.join(" ")));
    }
    eprintln!("ran {} README lines:\n{}\nnot emt lines: {skipped:?}", ran.len(), ran.join("\n"));
    assert!(ran.len() >= 20, "the README's command block lost its emt lines? ran {}", ran.len());
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_line_parser_reads_quotes_comments_and_redirects() {
    let (w, r) = words(r#"sweep-param --param "weight_hh_l0[4,0]" --from 0 > out/s.jsonl  # bifurcations"#);
    assert_eq!(w, ["sweep-param", "--param", "weight_hh_l0[4,0]", "--from", "0"]);
    assert_eq!(r.as_deref(), Some("out/s.jsonl"));
    let (w, r) = words("circuit          # closed-form circuits for the four reference ids");
    assert_eq!((w, r), (vec!["circuit".to_string()], None));
    let mut a = vec!["fixed-points".to_string(), "--starts".into(), "64".into()];
    a = fast_form(a);
    assert_eq!(a, ["fixed-points", "--starts", "8", "--steps", "20"]);
}
