//! The `emt` binary under abuse (issue 23): closed and full stdout, outputs that are devices,
//! FIFOs, symlinks or the input itself, byte-identical files from identical runs, a log cut by
//! kill -9, and messages that name what went wrong.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn emt() -> Command {
    Command::new(env!("CARGO_BIN_EXE_emt"))
}

fn run(args: &[&str]) -> Output {
    emt().args(args).output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("emt-robust-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn plant(out: &Path) -> Output {
    run(&["plant", "--s", "2", "--d", "2", "--hidden", "8", "--out", s(out)])
}

#[test]
fn a_closed_pipe_on_stdout_ends_the_run_quietly() {
    // A pipe whose reader has gone before a byte is written (`emt ... | head -0`): the write end
    // of `true`'s stdin, once `true` has exited. (std::io::pipe would do, but needs Rust 1.87.)
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().expect("true runs");
    let writer = reader.stdin.take().expect("a pipe");
    reader.wait().expect("true exits");
    let o = emt().args(["circuit"]).stdout(writer).stderr(Stdio::piped()).output().expect("runs");
    assert_eq!(o.status.code(), Some(141), "{o:?}");
    assert!(o.stderr.is_empty(), "no panic, no message: {}", stderr(&o));
}

#[test]
fn a_full_stdout_is_an_error_not_a_panic() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not Linux
    };
    let o = emt().args(["circuit"]).stdout(full).stderr(Stdio::piped()).output().expect("runs");
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let e = stderr(&o);
    assert!(e.contains("error: writing stdout") && !e.contains("panicked"), "{e}");
}

#[test]
fn outputs_must_be_regular_files_and_never_an_input() {
    let d = dir("outputs");
    let model = d.join("m.safetensors");
    assert!(plant(&model).status.success());
    let original = std::fs::read(&model).unwrap();

    // A device: as root, emt once turned /dev/full into a regular file.
    let o = plant(Path::new("/dev/full"));
    assert!(!o.status.success() && stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    // A FIFO a pipeline might be reading.
    let fifo = d.join("fifo");
    if Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
        let o = plant(&fifo);
        assert!(!o.status.success() && stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    }
    // A directory.
    let o = plant(&d);
    assert!(!o.status.success() && stderr(&o).contains("a directory"), "{}", stderr(&o));

    // The input itself, by the same path and through a symlink.
    let link = d.join("link.safetensors");
    std::os::unix::fs::symlink(&model, &link).unwrap();
    let inputs = d.join("x.safetensors");
    let x = ndarray::Array3::<f64>::zeros((3, 1, 2));
    let bytes = emt_core::io::tensors_to_safetensors(&[("inputs", x.view().into_dyn())], &Default::default()).unwrap();
    std::fs::write(&inputs, bytes).unwrap();
    for out in [&model, &link, &inputs] {
        let o = run(&["simulate", "--weights", s(&model), "--inputs", s(&inputs), "--out", s(out)]);
        assert!(!o.status.success() && stderr(&o).contains("is the input"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(&model).unwrap(), original, "the model is untouched");

    // Writing through a symlink replaces its target and keeps the link.
    let target = d.join("target.safetensors");
    std::fs::write(&target, b"old").unwrap();
    let out_link = d.join("out-link.safetensors");
    std::os::unix::fs::symlink(&target, &out_link).unwrap();
    assert!(plant(&out_link).status.success());
    assert!(std::fs::symlink_metadata(&out_link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), original, "the target holds the new model");
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn identical_runs_write_identical_bytes() {
    let d = dir("bytes");
    let (a, b) = (d.join("a.safetensors"), d.join("b.safetensors"));
    assert!(plant(&a).status.success() && plant(&b).status.success());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "plant");
    let train = |out: &Path| {
        let o = run(&[
            "train",
            "--s",
            "2",
            "--d",
            "2",
            "--hidden",
            "8",
            "--max-steps",
            "5",
            "--threads",
            "1",
            "--seed",
            "3",
            "--out",
            s(out),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    train(&a);
    train(&b);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "train, same seed and threads");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_log_cut_by_kill_is_plotted_up_to_its_last_whole_line() {
    let d = dir("log");
    let log = d.join("run.jsonl");
    let line = |step: u32| {
        format!(r#"{{"event":"step","step":{step},"horizon":2,"loss":0.5,"accuracy":0.75,"grad_norm":1.0}}"#)
    };
    std::fs::write(&log, format!("{}\n{}\n{{\"event\":\"st", line(1), line(5))).unwrap();
    let out = d.join("training.svg");
    let o = run(&["plot", "training", "--log", s(&log), "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let last = String::from_utf8_lossy(&o.stdout).lines().last().unwrap_or_default().to_string();
    let j: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!((j["cut_last_line"].as_bool(), j["steps"].as_f64()), (Some(true), Some(5.0)));
    assert!(stderr(&o).contains("line 3 is cut short"), "{}", stderr(&o));
    // A bad line that is not the last (or a last line that ends in a newline) is still an error.
    std::fs::write(&log, format!("{}\n{{\"event\":\"st\n{}\n", line(1), line(5))).unwrap();
    let o = run(&["plot", "training", "--log", s(&log), "--out", s(&out)]);
    assert!(!o.status.success() && stderr(&o).contains("line 2"), "{}", stderr(&o));
    // The same file as --log and --out is refused.
    let o = run(&["plot", "training", "--log", s(&log), "--out", s(&log)]);
    assert!(!o.status.success(), "{}", stderr(&o));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn messages_name_the_flag_or_key_at_fault() {
    let d = dir("messages");
    let model = d.join("m.safetensors");
    assert!(plant(&model).status.success());
    let o = run(&["cycle", "--weights", s(&model), "--steps", "0"]);
    let e = stderr(&o);
    assert!(!o.status.success() && e.contains("length (steps) = 0") && !e.contains("AttractorParams"), "{e}");

    let o = run(&["sweep", "--merge", "--out", s(&d.join("sweep")), "--from", s(&d.join("missing"))]);
    assert!(!o.status.success() && stderr(&o).contains("--from"), "{}", stderr(&o));

    // A metadata key emt does not read (here one byte off `activation`) is refused, by name.
    let t = emt_core::io::Tensors::read(&model).unwrap();
    let mut meta = t.metadata.clone();
    let act = meta.remove("activation").unwrap();
    meta.insert("activatiom".into(), act);
    let list: Vec<(&str, ndarray::ArrayViewD<'_, f64>)> =
        t.tensors.iter().map(|(k, v)| (k.as_str(), v.view())).collect();
    let odd = d.join("odd.safetensors");
    std::fs::write(&odd, emt_core::io::tensors_to_safetensors(&list, &meta).unwrap()).unwrap();
    let o = run(&["cycle", "--weights", s(&odd)]);
    assert!(!o.status.success() && stderr(&o).contains("\"activatiom\""), "{}", stderr(&o));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_trajectory_that_overflows_is_an_error_not_inf_in_a_file() {
    let d = dir("overflow");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let t = emt_core::io::Tensors::read(repo.join("docs/models/ctgru_rotation.safetensors")).unwrap();
    let mut meta = t.metadata.clone();
    meta.insert("dt".into(), "1e10".into());
    let w: ndarray::ArrayD<f32> = t.tensors["weight_hh_l0"].mapv(|v| v as f32);
    let model = d.join("ctgru_dt.safetensors");
    std::fs::write(&model, emt_core::io::tensors_to_safetensors(&[("weight_hh_l0", w.view())], &meta).unwrap())
        .unwrap();
    let inputs = ndarray::Array3::<f64>::zeros((30, 1, 0));
    let h0 = ndarray::array![[1.0, 1.0]];
    let x = d.join("x.safetensors");
    let list = [("inputs", inputs.view().into_dyn()), ("h0", h0.view().into_dyn())];
    std::fs::write(&x, emt_core::io::tensors_to_safetensors(&list, &Default::default()).unwrap()).unwrap();
    let out = d.join("y.safetensors");
    let o = run(&["simulate", "--weights", s(&model), "--inputs", s(&x), "--out", s(&out)]);
    let e = stderr(&o);
    assert!(!o.status.success() && e.contains("diverged at step") && e.contains("f32 range"), "{e}");
    assert!(!out.exists(), "nothing is written");
    std::fs::remove_dir_all(&d).unwrap();
}

fn json_of(o: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    serde_json::from_str(text.lines().last().unwrap_or_default()).unwrap_or(serde_json::Value::Null)
}

/// A restart reruns what it cannot trust: runs made with another `max_steps`, and runs whose
/// weights file was deleted or truncated. Paths are relative, so a copied sweep directory
/// (or a merged one, whose sources are then deleted) still has its weights.
#[test]
fn a_sweep_restart_trusts_only_runs_it_can_verify() {
    let d = dir("sweep-verify");
    let spec = |steps: u32| {
        let p = d.join(format!("spec{steps}.json"));
        let text = format!(
            r#"{{"tasks": ["3,0,0"], "s": 2, "d": 2, "hidden": [8], "l2": [0], "threshold": [0.96],
                "seeds": [0, 1], "max_steps": {steps}, "eval_batch": 8, "eval_horizon": 10}}"#
        );
        std::fs::write(&p, text).unwrap();
        p
    };
    let (s20, s30) = (spec(20), spec(30));
    let out = d.join("out");
    let sweep = |spec: &Path, out: &Path| {
        let o = run(&["sweep", "--spec", s(spec), "--out", s(out), "--jobs", "1"]);
        assert!(o.status.success(), "{}", stderr(&o));
        json_of(&o)
    };
    assert_eq!(sweep(&s20, &out)["ran"], 2);
    assert_eq!(sweep(&s20, &out)["ran"], 0, "nothing to redo");
    assert_eq!(sweep(&s30, &out)["ran"], 2, "another max_steps is another run");
    // Truncate one weights file and delete another: both run again.
    let weights: Vec<PathBuf> = std::fs::read_dir(out.join("weights"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("steps20"))
        .collect();
    assert_eq!(weights.len(), 2);
    let bytes = std::fs::read(&weights[0]).unwrap();
    std::fs::write(&weights[0], &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_file(&weights[1]).unwrap();
    assert_eq!(sweep(&s20, &out)["ran"], 2, "damaged weights are rerun");
    // Results name weights relative to the sweep directory; a copy works on its own.
    let results = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    assert!(results.contains("\"weights\":\"weights/") && !results.contains(s(&d)), "{results}");
    let (a, merged) = (d.join("a"), d.join("merged"));
    sweep(&s20, &a);
    let o = run(&["sweep", "--merge", "--out", s(&merged), "--from", s(&a)]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_dir_all(&a).unwrap();
    let o = run(&["table", "--results", s(&merged.join("results.jsonl")), "--decoding"]);
    assert!(o.status.success(), "the merged directory holds its weights: {}", stderr(&o));
    std::fs::remove_dir_all(&d).unwrap();
}

/// Sizes past the machine's memory are refused by name before anything is allocated (they
/// aborted the process in the allocator with a 40-64 GB request).
#[test]
fn sizes_past_memory_are_refused_before_allocating() {
    let d = dir("memory");
    let o = run(&["train", "--hidden", "10000000", "--max-steps", "1", "--out", s(&d.join("m.safetensors"))]);
    let e = stderr(&o);
    assert!(!o.status.success() && e.contains("hidden = 10000000") && e.contains("GiB"), "{e}");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let z3 = repo.join("docs/models/z3.safetensors");
    let o = run(&["fixed-points", "--weights", s(&z3), "--starts", "1000000000000"]);
    let e = stderr(&o);
    assert!(!o.status.success() && e.contains("starts = 1000000000000") && e.contains("GiB"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// A file without task metadata (a PyTorch state dict) is not silently analysed as repeat
/// copy: the error names --task, and with it the analysis runs.
#[test]
fn analyze_without_task_metadata_asks_for_the_task() {
    let d = dir("analyze-task");
    let model = d.join("m.safetensors");
    assert!(plant(&model).status.success());
    let t = emt_core::io::Tensors::read(&model).unwrap();
    let mut meta = t.metadata.clone();
    for k in ["task", "s", "d"] {
        meta.remove(k);
    }
    let list: Vec<(&str, ndarray::ArrayViewD<'_, f64>)> =
        t.tensors.iter().map(|(k, v)| (k.as_str(), v.view())).collect();
    let bare = d.join("bare.safetensors");
    std::fs::write(&bare, emt_core::io::tensors_to_safetensors(&list, &meta).unwrap()).unwrap();
    let o = run(&["analyze", "--weights", s(&bare)]);
    assert!(!o.status.success() && stderr(&o).contains("--task"), "{}", stderr(&o));
    let task = t.metadata["task"].clone();
    let o = run(&["analyze", "--weights", s(&bare), "--task", &task, "--s", "2", "--d", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_dir_all(&d).unwrap();
}

/// `--max-seconds`: train stops and saves what it has; any other command ends with status 124
/// and no partial file.
#[test]
fn max_seconds_bounds_every_command() {
    let d = dir("deadline");
    let out = d.join("m.safetensors");
    let started = std::time::Instant::now();
    let o = run(&[
        "--max-seconds",
        "1",
        "train",
        "--hidden",
        "64",
        "--threads",
        "1",
        "--max-steps",
        "100000000",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json_of(&o)["stop"], "deadline", "{}", json_of(&o));
    assert!(emt_core::cells::ModelFile::load(&out).is_ok(), "the model trained so far is saved");
    assert!(started.elapsed().as_secs_f64() < 30.0);
    let started = std::time::Instant::now();
    let o = emt().args(["reproduce", "gru", "--max-seconds", "0.5"]).current_dir(&d).output().unwrap();
    assert_eq!(o.status.code(), Some(124), "{}", stderr(&o));
    assert!(stderr(&o).contains("--max-seconds 0.5"), "{}", stderr(&o));
    assert!(started.elapsed().as_secs_f64() < 10.0);
    let o = run(&["--max-seconds", "0", "circuit"]);
    assert!(!o.status.success() && stderr(&o).contains("--max-seconds"), "{}", stderr(&o));
    let partial: Vec<_> = walk(&d).into_iter().filter(|p| p.to_string_lossy().ends_with(".tmp")).collect();
    assert!(partial.is_empty(), "{partial:?}");
    std::fs::remove_dir_all(&d).unwrap();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

/// Sends SIGINT (Ctrl-C) to a running `emt` after `after` and waits for it: (output, seconds from
/// the signal to the exit).
#[cfg(unix)]
fn interrupt_after(mut cmd: Command, after: std::time::Duration) -> (Output, f64) {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(after);
    let sent = std::time::Instant::now();
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    (o, sent.elapsed().as_secs_f64())
}

/// Ctrl-C: training stops after the step in flight and saves the model with stop
/// "interrupted" (status 0); an analysis stops at its next interrupt check with status 130 and
/// no summary, within a second (the hook is sticky: no 10 ms wait per remaining seed).
#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly() {
    let d = dir("ctrl-c");
    let out = d.join("m.safetensors");
    let mut train = emt();
    train.args(["train", "--hidden", "32", "--threads", "1", "--max-steps", "100000000", "--out", s(&out)]);
    let (o, _) = interrupt_after(train, std::time::Duration::from_millis(1500));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json_of(&o)["stop"], "interrupted", "{}", json_of(&o));
    assert!(emt_core::cells::ModelFile::load(&out).is_ok(), "the model trained so far is saved");
    // The paper-scale gating reproduction runs for minutes; Ctrl-C ends it at once.
    let mut gating = emt();
    gating.args(["reproduce", "gating", "--n", "200", "--input-only"]);
    let (o, took) = interrupt_after(gating, std::time::Duration::from_millis(1500));
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("interrupted by Ctrl-C"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "no summary");
    assert!(took < 5.0, "stopped {took} s after the signal");
    std::fs::remove_dir_all(&d).unwrap();
}
