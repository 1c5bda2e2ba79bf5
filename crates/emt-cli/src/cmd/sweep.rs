//! `emt sweep`: a grid of training runs from a JSON spec, in parallel, resumable, shardable, with
//! a Slurm array script for the paper's full grid (docs/EMT.md §5).
//!
//! ```text
//! emt sweep --spec S.json --out DIR [--jobs J] [--shard i/n]
//! emt sweep --spec S.json --out DIR --emit-slurm SLURM_DIR [--slurm-shards n --slurm-cpus c ...]
//! emt sweep --merge --out DIR [--from OTHER_DIR ...]
//! ```
//!
//! Spec (contract): `{"tasks": ["id1,id2,id3", ...], "s": 8, "d": 8, "hidden": [..], "l2": [..],
//! "threshold": [..], "seeds": [..], "max_steps": n}`, optionally `"lr"` (1e-3), `"batch"` (64),
//! `"eval_horizon"` (200), `"eval_batch"` (512). The grid is tasks x hidden x l2 x threshold x
//! seeds, in that order. Every run trains an Elman network in the paper's setting (Adam, coupled
//! L2, clip 1, curriculum [10, 20, 40, 60, 100] at the threshold, stop at 0.999 at H = 200), one
//! thread per run and `--jobs` runs at a time (default: the cores).
//!
//! Each finished run writes `DIR/runs/<key>.json` and `DIR/weights/<key>.safetensors`
//! atomically (temporary file, then rename), then `DIR/results.jsonl` is rewritten atomically
//! from all finished runs in grid order. A restart skips finished runs, so `kill -9` loses only
//! the runs in flight; a run counts as finished only if its key (which names every setting,
//! `max_steps`, `lr`, `batch` and the evaluation sizes included) is the spec's and its weights
//! file still loads. `weights` in a result is relative to DIR (`weights/<key>.safetensors`), so
//! a copied directory stays whole; `--merge` copies the weights in too. Result keys: `key`, `task`, `s`, `d`, `hidden`, `l2`, `threshold`, `seed`,
//! `max_steps`, `eval_accuracy` (H = 200), `eval_horizon`, `spectral_error_rad`, `steps`,
//! `stop`, `train_seconds`, `weights`. `--shard i/n` (0-based i) runs the grid indices congruent to
//! i mod n. Last stdout line: `{"runs": total, "done": finished, "ran": this_call, "skipped": k,
//! "out": DIR, "results": path}`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use emt_basis::spectral_error;
use emt_core::cells::{Dtype, Model, ModelFile};
use emt_core::io::WeightsMetadata;
use emt_core::{Error, Result};
use emt_rnn::{AdamConfig, Curriculum, Trainer, TrainerParams};
use emt_tasks::{LinearVb, Phi, TaskId};
use serde_json::{Value, json};

use crate::common::write_atomic;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The grid (JSON; see the module docs).
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Output directory (runs/, weights/, results.jsonl).
    #[arg(long)]
    out: PathBuf,
    /// Runs at a time (one thread each).
    #[arg(long, default_value_t = std::thread::available_parallelism().map_or(1, |n| n.get()))]
    jobs: usize,
    /// Run only grid indices i, i + n, i + 2n, ... ("i/n", 0-based i).
    #[arg(long)]
    shard: Option<String>,
    /// Write a Slurm array script (one task per shard), a merge script and a submit script here
    /// instead of running.
    #[arg(long)]
    emit_slurm: Option<PathBuf>,
    /// Slurm: number of shards (array tasks).
    #[arg(long, default_value_t = 16)]
    slurm_shards: usize,
    /// Slurm: CPUs per array task (also its --jobs).
    #[arg(long, default_value_t = 4)]
    slurm_cpus: usize,
    /// Slurm: time limit per array task.
    #[arg(long, default_value = "04:00:00")]
    slurm_time: String,
    /// Slurm: memory per array task.
    #[arg(long, default_value = "4G")]
    slurm_mem: String,
    /// Slurm: partition (omitted if not given).
    #[arg(long)]
    slurm_partition: Option<String>,
    /// Collect finished runs (of --out and every --from) into --out/results.jsonl.
    #[arg(long)]
    merge: bool,
    /// With --merge: other sweep directories (e.g. per-shard copies) to collect from.
    #[arg(long)]
    from: Vec<PathBuf>,
}

/// One point of the grid.
#[derive(Debug, Clone, PartialEq)]
struct RunSpec {
    index: usize,
    task: TaskId,
    s: usize,
    d: usize,
    hidden: usize,
    l2: f64,
    threshold: f64,
    seed: u64,
    max_steps: u64,
    lr: f64,
    batch: usize,
    eval_horizon: usize,
    eval_batch: usize,
}

impl RunSpec {
    /// A file-name-safe key unique within the grid.
    /// Every setting of the run: a restart with another `max_steps` (or lr, batch, ...) must
    /// not reuse a run made with the old one (the key once omitted them and it did).
    fn key(&self) -> String {
        format!(
            "task{}_s{}_d{}_n{}_l2{}_th{}_seed{}_steps{}_lr{}_b{}_eh{}_eb{}",
            self.task.to_string().replace(',', "-"),
            self.s,
            self.d,
            self.hidden,
            self.l2,
            self.threshold,
            self.seed,
            self.max_steps,
            self.lr,
            self.batch,
            self.eval_horizon,
            self.eval_batch
        )
    }
}

fn spec_err(path: &Path, why: String) -> Error {
    Error::Format { path: path.display().to_string(), reason: why }
}

/// Parses the spec into the grid, in order tasks x hidden x l2 x threshold x seeds.
fn grid(path: &Path) -> Result<Vec<RunSpec>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| spec_err(path, format!("not JSON: {e}")))?;
    let list = |key: &str| -> Result<Vec<Value>> {
        match v.get(key) {
            Some(Value::Array(a)) if !a.is_empty() => Ok(a.clone()),
            Some(other) => Err(spec_err(path, format!("\"{key}\" must be a non-empty list, got {other}"))),
            None => Err(spec_err(path, format!("missing \"{key}\""))),
        }
    };
    let uint = |x: &Value, key: &str| -> Result<u64> {
        x.as_u64().ok_or_else(|| spec_err(path, format!("\"{key}\": {x} is not a non-negative integer")))
    };
    let num = |x: &Value, key: &str| -> Result<f64> {
        x.as_f64().filter(|f| f.is_finite()).ok_or_else(|| spec_err(path, format!("\"{key}\": {x} is not a number")))
    };
    let get_u = |key: &str, default: Option<u64>| -> Result<u64> {
        match (v.get(key), default) {
            (Some(x), _) => uint(x, key),
            (None, Some(dv)) => Ok(dv),
            (None, None) => Err(spec_err(path, format!("missing \"{key}\""))),
        }
    };
    let (s, d) = (get_u("s", None)? as usize, get_u("d", None)? as usize);
    let max_steps = get_u("max_steps", None)?;
    let lr = v.get("lr").map(|x| num(x, "lr")).transpose()?.unwrap_or(1e-3);
    let batch = get_u("batch", Some(64))? as usize;
    let eval_horizon = get_u("eval_horizon", Some(200))? as usize;
    let eval_batch = get_u("eval_batch", Some(512))? as usize;
    let tasks: Vec<TaskId> = list("tasks")?
        .iter()
        .map(|t| {
            let text = t.as_str().ok_or_else(|| spec_err(path, format!("\"tasks\": {t} is not a string")))?;
            let id: TaskId = text.parse().map_err(|e: Error| spec_err(path, format!("task {text:?}: {e}")))?;
            LinearVb::new(id, s, d).map_err(|e| spec_err(path, format!("task {text:?} with s = {s}, d = {d}: {e}")))?;
            Ok(id)
        })
        .collect::<Result<_>>()?;
    let hidden: Vec<usize> =
        list("hidden")?.iter().map(|x| uint(x, "hidden").map(|u| u as usize)).collect::<Result<_>>()?;
    let l2: Vec<f64> = list("l2")?.iter().map(|x| num(x, "l2")).collect::<Result<_>>()?;
    let threshold: Vec<f64> = list("threshold")?.iter().map(|x| num(x, "threshold")).collect::<Result<_>>()?;
    let seeds: Vec<u64> = list("seeds")?.iter().map(|x| uint(x, "seeds")).collect::<Result<_>>()?;
    let mut out = Vec::new();
    for &task in &tasks {
        for &n in &hidden {
            for &l in &l2 {
                for &th in &threshold {
                    for &seed in &seeds {
                        out.push(RunSpec {
                            index: out.len(),
                            task,
                            s,
                            d,
                            hidden: n,
                            l2: l,
                            threshold: th,
                            seed,
                            max_steps,
                            lr,
                            batch,
                            eval_horizon,
                            eval_batch,
                        });
                    }
                }
            }
        }
    }
    // Check every setting now, not an hour into the sweep.
    for r in &out {
        settings(r)?;
    }
    let mut keys: Vec<String> = out.iter().map(RunSpec::key).collect();
    keys.sort();
    keys.dedup();
    if keys.len() != out.len() {
        return Err(spec_err(path, "the grid repeats a setting (duplicate list entries)".into()));
    }
    Ok(out)
}

fn settings(r: &RunSpec) -> Result<TrainerParams> {
    TrainerParams::paper()
        .hidden(r.hidden)
        .seed(r.seed)
        .threads(1)
        .max_steps(r.max_steps)
        .batch(r.batch)
        .eval_horizon(r.eval_horizon)
        .eval_batch(r.eval_batch)
        .adam(AdamConfig { lr: r.lr, weight_decay: r.l2, ..Default::default() })
        .curriculum(Curriculum::new(vec![10, 20, 40, 60, 100], r.threshold)?)
        .check()
}

fn parse_shard(spec: &str) -> Result<(usize, usize)> {
    let bad = || Error::param("--shard", spec, "expected i/n with 0 <= i < n");
    let (i, n) = spec.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Trains one run and writes its weights and result file (both atomically).
fn run_one(r: &RunSpec, out: &Path) -> Result<Value> {
    let task = LinearVb::new(r.task, r.s, r.d)?;
    let phi = Phi::new(&task);
    let mut trainer = Trainer::new(task, settings(r)?)?;
    // A run stopped by Ctrl-C is not a result: a restart trains it again.
    let report = trainer.run(&mut [])?.completed("sweep run")?;
    let weights = trainer.weights()?.cast::<f64>();
    let spectral = spectral_error(weights.w_hh(), phi.matrix().view(), 0.9)?;
    let key = r.key();
    let wpath = out.join("weights").join(format!("{key}.safetensors"));
    let meta = WeightsMetadata {
        task: Some(r.task.to_string()),
        s: Some(r.s),
        d: Some(r.d),
        seed: Some(r.seed),
        step: Some(report.steps),
        ..Default::default()
    };
    let file = ModelFile::new(Model::Elman(weights)).with_meta(meta).with_dtype(Dtype::F32);
    write_atomic(&wpath, &file.to_bytes()?)?;
    let result = json!({
        "key": key,
        "index": r.index,
        "task": r.task.to_string(),
        "s": r.s,
        "d": r.d,
        "hidden": r.hidden,
        "l2": r.l2,
        "threshold": r.threshold,
        "seed": r.seed,
        "max_steps": r.max_steps,
        "eval_accuracy": report.eval.stats.accuracy,
        "eval_horizon": report.eval.horizon,
        "spectral_error_rad": spectral.radians,
        "spectral_unmatched": spectral.unmatched,
        "steps": report.steps,
        "stop": format!("{:?}", report.stop),
        "train_seconds": report.train_seconds,
        // Relative to the sweep directory, so a copied or merged directory stays whole.
        "weights": weights_rel(&key),
    });
    write_atomic(&out.join("runs").join(format!("{key}.json")), format!("{result}\n").as_bytes())?;
    Ok(result)
}

/// Where a run's weights live, relative to its sweep directory.
fn weights_rel(key: &str) -> String {
    format!("weights/{key}.safetensors")
}

/// A result's weights file: its `weights` entry, relative to the sweep directory `dir`
/// (results written before paths were relative hold absolute ones, taken as they are).
pub fn weights_path(dir: &Path, result: &Value) -> PathBuf {
    let w = Path::new(result["weights"].as_str().unwrap_or_default());
    if w.is_absolute() { w.to_path_buf() } else { dir.join(w) }
}

/// Whether a finished run's weights file is still there and loads (a deleted or truncated
/// file makes the run count as not done, so a restart runs it again).
fn weights_intact(dir: &Path, result: &Value) -> bool {
    ModelFile::load(weights_path(dir, result)).is_ok()
}

/// Finished runs of `dir` (valid result files only; a torn temporary is never a `.json`).
fn finished(dir: &Path) -> Result<Vec<Value>> {
    let runs = dir.join("runs");
    if !runs.exists() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&runs).map_err(|e| Error::file(&runs, e))? {
        let path = entry.map_err(|e| Error::file(&runs, e))?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::file(&path, e))?;
            let v: Value = serde_json::from_str(text.trim())
                .map_err(|e| Error::Format { path: path.display().to_string(), reason: e.to_string() })?;
            out.push(v);
        }
    }
    Ok(out)
}

/// Rewrites `dir/results.jsonl` from the result files, in grid order (then key order).
fn write_results(dir: &Path, mut results: Vec<Value>) -> Result<PathBuf> {
    results.sort_by(|a, b| {
        let ia = a["index"].as_u64().unwrap_or(u64::MAX);
        let ib = b["index"].as_u64().unwrap_or(u64::MAX);
        ia.cmp(&ib).then_with(|| a["key"].as_str().cmp(&b["key"].as_str()))
    });
    results.dedup_by(|a, b| a["key"] == b["key"]);
    let text: String = results.iter().map(|v| format!("{v}\n")).collect();
    let path = dir.join("results.jsonl");
    write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

fn create_dirs(out: &Path) -> Result<()> {
    for sub in ["runs", "weights"] {
        let p = out.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| Error::file(&p, e))?;
    }
    Ok(())
}

pub fn run(args: &Args) -> Result<Value> {
    if args.merge {
        return merge(args);
    }
    let spec = args.spec.as_ref().ok_or_else(|| Error::param("--spec", "missing", "needed unless --merge"))?;
    let all = grid(spec)?;
    if let Some(dir) = &args.emit_slurm {
        return emit_slurm(args, spec, dir, &all);
    }
    emt_core::check::positive("--jobs", args.jobs)?;
    let (i, n) = match &args.shard {
        Some(s) => parse_shard(s)?,
        None => (0, 1),
    };
    create_dirs(&args.out)?;
    let done: std::collections::HashSet<String> = finished(&args.out)?
        .iter()
        .filter(|v| weights_intact(&args.out, v))
        .filter_map(|v| v["key"].as_str().map(str::to_string))
        .collect();
    let mine: Vec<&RunSpec> = all.iter().filter(|r| r.index % n == i).collect();
    let todo: Vec<&RunSpec> = mine.iter().copied().filter(|r| !done.contains(&r.key())).collect();
    let skipped = mine.len() - todo.len();
    errln!(
        "{} runs in the grid, {} in this shard, {skipped} already done, {} to run",
        all.len(),
        mine.len(),
        todo.len()
    );
    let bar = crate::common::progress_bar(todo.len() as u64);
    let next = AtomicUsize::new(0);
    let write_lock = Mutex::new(());
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let interrupted = std::sync::atomic::AtomicBool::new(false);
    // The caller's interrupt hook (Ctrl-C, the deadline) goes with the work to every job.
    let hook = emt_core::interrupt::current();
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.min(todo.len()) {
            let hook = hook.clone();
            scope.spawn(|| {
                emt_core::interrupt::with_installed(hook, || {
                    loop {
                        if emt_core::interrupt::check("sweep").is_err() {
                            interrupted.store(true, Ordering::SeqCst);
                            break;
                        }
                        let k = next.fetch_add(1, Ordering::SeqCst);
                        let Some(r) = todo.get(k) else { break };
                        match run_one(r, &args.out) {
                            Ok(v) => {
                                bar.println(format!(
                                    "{}: accuracy {:.5}, spectral error {:.2e} rad, {} steps",
                                    r.key(),
                                    v["eval_accuracy"].as_f64().unwrap_or(f64::NAN),
                                    v["spectral_error_rad"].as_f64().unwrap_or(f64::NAN),
                                    v["steps"]
                                ));
                                let _guard = write_lock.lock().unwrap_or_else(|p| p.into_inner());
                                if let Err(e) = finished(&args.out).and_then(|f| write_results(&args.out, f)) {
                                    errors.lock().unwrap_or_else(|p| p.into_inner()).push(e.to_string());
                                }
                            }
                            Err(Error::Interrupted { .. }) => interrupted.store(true, Ordering::SeqCst),
                            Err(e) => {
                                errors.lock().unwrap_or_else(|p| p.into_inner()).push(format!("{}: {e}", r.key()))
                            }
                        }
                        bar.inc(1);
                    }
                })
            });
        }
    });
    bar.finish_and_clear();
    if interrupted.load(Ordering::SeqCst) {
        let done = finished(&args.out)?.len();
        return Err(Error::Interrupted {
            what: format!("sweep ({done} of {} runs finished and kept; a restart runs the rest)", all.len()),
        });
    }
    let errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(first) = errors.first() {
        return Err(Error::param("sweep", format!("{} failed run(s)", errors.len()), first.clone()));
    }
    let results = write_results(&args.out, finished(&args.out)?)?;
    let done_now = finished(&args.out)?.len();
    Ok(json!({
        "runs": all.len(),
        "done": done_now,
        "ran": todo.len(),
        "skipped": skipped,
        "shard": format!("{i}/{n}"),
        "out": args.out.display().to_string(),
        "results": results.display().to_string(),
    }))
}

fn merge(args: &Args) -> Result<Value> {
    create_dirs(&args.out)?;
    let mut all = finished(&args.out)?;
    for dir in &args.from {
        // A missing directory would otherwise merge nothing from it and still exit 0.
        if !dir.is_dir() {
            return Err(Error::param(
                "--from",
                dir.display(),
                "is not a sweep directory (it does not exist or is a file)",
            ));
        }
        for v in finished(dir)? {
            let key = v["key"].as_str().unwrap_or_default().to_string();
            if all.iter().any(|w| w["key"] == v["key"]) {
                continue;
            }
            // The weights come along, so the merged directory is whole on its own.
            let from = weights_path(dir, &v);
            let bytes = std::fs::read(&from).map_err(|e| Error::file(&from, e))?;
            write_atomic(&args.out.join(weights_rel(&key)), &bytes)?;
            let mut v = v;
            v["weights"] = json!(weights_rel(&key));
            write_atomic(&args.out.join("runs").join(format!("{key}.json")), format!("{v}\n").as_bytes())?;
            all.push(v);
        }
    }
    let n = all.len();
    let path = write_results(&args.out, all)?;
    errln!("{n} finished runs -> {}", path.display());
    Ok(json!({"done": n, "results": path.display().to_string(), "out": args.out.display().to_string()}))
}

fn emit_slurm(args: &Args, spec: &Path, dir: &Path, all: &[RunSpec]) -> Result<Value> {
    let n = args.slurm_shards.max(1);
    std::fs::create_dir_all(dir.join("logs")).map_err(|e| Error::file(dir, e))?;
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "emt".into());
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let (spec_s, out_s, logs) = (
        abs(spec).display().to_string(),
        abs(&args.out).display().to_string(),
        abs(&dir.join("logs")).display().to_string(),
    );
    let partition = args.slurm_partition.as_ref().map_or(String::new(), |p| format!("#SBATCH --partition={p}\n"));
    let shard_lines: String = (0..n)
        .map(|i| format!("#   shard {i}/{n}: {} runs\n", all.iter().filter(|r| r.index % n == i).count()))
        .collect();
    let array = format!(
        "#!/bin/bash\n\
         #SBATCH --job-name=emt-sweep\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --time={time}\n\
         #SBATCH --mem={mem}\n\
         {partition}\
         #SBATCH --output={logs}/shard-%a.out\n\
         # {total} runs in {n} shards (grid index i runs in shard i mod {n}); each shard is resumable.\n\
         {shard_lines}\
         set -euo pipefail\n\
         EMT=\"${{EMT:-{exe}}}\"\n\
         \"$EMT\" sweep --spec {spec} --out {out} --shard \"${{SLURM_ARRAY_TASK_ID}}/{n}\" --jobs {cpus}\n",
        last = n - 1,
        cpus = args.slurm_cpus,
        time = args.slurm_time,
        mem = args.slurm_mem,
        total = all.len(),
        exe = exe,
        spec = quote(&spec_s),
        out = quote(&out_s),
    );
    let merge_script = format!(
        "#!/bin/bash\n\
         #SBATCH --job-name=emt-sweep-merge\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --time=00:10:00\n\
         {partition}\
         #SBATCH --output={logs}/merge.out\n\
         set -euo pipefail\n\
         EMT=\"${{EMT:-{exe}}}\"\n\
         \"$EMT\" sweep --merge --out {out}\n\
         \"$EMT\" table --results {out}/results.jsonl --json {out}/table.json\n",
        out = quote(&out_s),
    );
    let submit = "#!/bin/bash\n\
         # Submits the array and the merge, which runs once every shard has finished.\n\
         set -euo pipefail\n\
         cd \"$(dirname \"$0\")\"\n\
         jid=$(sbatch --parsable sweep.sbatch)\n\
         sbatch --dependency=afterok:\"${jid%%;*}\" merge.sbatch\n"
        .to_string();
    let paths = [("sweep.sbatch", array), ("merge.sbatch", merge_script), ("submit.sh", submit)];
    for (name, text) in &paths {
        write_atomic(&dir.join(name), text.as_bytes())?;
    }
    errln!("{} runs in {n} shards: sbatch scripts in {} (run submit.sh)", all.len(), dir.display());
    Ok(json!({
        "runs": all.len(),
        "shards": n,
        "array": dir.join("sweep.sbatch").display().to_string(),
        "merge": dir.join("merge.sbatch").display().to_string(),
        "submit": dir.join("submit.sh").display().to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_grid() {
        for n in 1..6 {
            let mut seen = [0usize; 23];
            for i in 0..n {
                let (i2, n2) = parse_shard(&format!("{i}/{n}")).unwrap();
                (0..23).filter(|k| k % n2 == i2).for_each(|k| seen[k] += 1);
            }
            assert!(seen.iter().all(|&c| c == 1));
        }
        for bad in ["3/3", "a/2", "1", "0/0", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
