//! `emt table`: EMT's Table 1 from a sweep's results, beside the paper's numbers.
//!
//! ```text
//! emt table --results DIR/results.jsonl [--markdown docs/REPRODUCTION.md] [--json table.json]
//! ```
//!
//! Groups the runs by (task, N, L2, threshold) and reports, over seeds, the mean and standard
//! deviation of the spectral error (rad) and of the test accuracy at H = 200, with the seed
//! count and the mean steps and training seconds; rows the paper reports (N = 128, L2 = 0:
//! docs/EMT.md §5) get its numbers beside ours. `--markdown F` replaces the block between
//! `<!-- emt table: begin -->` and `<!-- emt table: end -->` in F (appending it if absent, creating
//! F if missing). `--decoding` also opens every run's weights and compares the three basis
//! extractions (decoding accuracy, phi_error, closure residuals: `emt analyze`'s `methods`),
//! adding `decoding` {method: [[mean, std] of decoding, of phi_error, of max closure residual]}
//! to each row and a second block between `<!-- emt decoding: begin/end -->`. Last stdout line: `{"rows": [{"task", "hidden", "l2", "threshold", "seeds",
//! "spectral_error_rad": [mean, std], "accuracy": [mean, std], "steps_mean",
//! "train_seconds_mean", "paper": {"spectral_error_rad", "accuracy"} | null}, ...], "runs": n}`.

use std::path::{Path, PathBuf};

use emt_core::{Error, Result};
use serde_json::{Value, json};

use crate::common::write_atomic;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// results.jsonl of `emt sweep`.
    #[arg(long)]
    results: PathBuf,
    /// Markdown file whose table block is replaced (or appended).
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Also write the JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also open every run's weights and measure how well each basis extraction (dual
    /// recursion, the paper's, least squares) reads the memory: decoding accuracy, phi_error and
    /// the largest closure residual, per group (a second markdown block).
    #[arg(long)]
    decoding: bool,
}

/// docs/EMT.md §5, Table 1 (N = 128, L2 = 0): (task, spectral error rad, test accuracy).
const PAPER: [(&str, f64, f64); 4] = [
    ("255,0,0", 0.0005, 1.00),
    ("9241421688590303745,0,0", 0.0055, 0.98),
    ("9241421688590303745,262676,189", 0.0031, 0.98),
    ("9241421688590303745,38637,145", 0.0022, 1.00),
];

const BEGIN: &str = "<!-- emt table: begin -->";
const END: &str = "<!-- emt table: end -->";
const DEC_BEGIN: &str = "<!-- emt decoding: begin -->";
const DEC_END: &str = "<!-- emt decoding: end -->";

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, var.sqrt())
}

/// "(X,262676,189)" for the paper's ids, the id itself otherwise.
fn short(task: &str) -> String {
    let x = "9241421688590303745";
    if task == "255,0,0" { "T1 = (255,0,0), repeat copy".into() } else { format!("({})", task.replace(x, "X")) }
}

/// The table rows from result lines.
pub fn rows(results: &[Value]) -> Result<Vec<Value>> {
    // (task, N, L2, threshold) -> its runs, in first-seen order.
    type Group<'a> = ((String, u64, f64, f64), Vec<&'a Value>);
    let mut groups: Vec<Group<'_>> = Vec::new();
    for r in results {
        let key = (
            r["task"].as_str().unwrap_or_default().to_string(),
            r["hidden"].as_u64().unwrap_or(0),
            r["l2"].as_f64().unwrap_or(f64::NAN),
            r["threshold"].as_f64().unwrap_or(f64::NAN),
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(r),
            None => groups.push((key, vec![r])),
        }
    }
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    Ok(groups
        .into_iter()
        .map(|((task, hidden, l2, threshold), runs)| {
            let spec: Vec<f64> = runs.iter().map(|r| f(&r["spectral_error_rad"])).collect();
            let acc: Vec<f64> = runs.iter().map(|r| f(&r["eval_accuracy"])).collect();
            let steps: Vec<f64> = runs.iter().map(|r| f(&r["steps"])).collect();
            let secs: Vec<f64> = runs.iter().map(|r| f(&r["train_seconds"])).collect();
            let paper = PAPER
                .iter()
                .find(|p| p.0 == task && hidden == 128 && l2 == 0.0)
                .map(|p| json!({"spectral_error_rad": p.1, "accuracy": p.2}));
            let (sm, ss) = mean_std(&spec);
            let (am, asd) = mean_std(&acc);
            json!({
                "task": task, "hidden": hidden, "l2": l2, "threshold": threshold, "seeds": runs.len(),
                "spectral_error_rad": [sm, ss], "accuracy": [am, asd],
                "steps_mean": mean_std(&steps).0, "train_seconds_mean": mean_std(&secs).0,
                "paper": paper,
            })
        })
        .collect())
}

/// The markdown block (without the markers).
pub fn markdown(rows: &[Value]) -> String {
    let mut s = String::from(
        "| task | N | L2 | threshold | seeds | spectral error (rad), ours | paper | test accuracy (H = 200), ours | paper | mean steps |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    for r in rows {
        let paper = &r["paper"];
        let (ps, pa) = if paper.is_null() {
            ("-".to_string(), "-".to_string())
        } else {
            (format!("{}", f(&paper["spectral_error_rad"])), format!("{:.2}", f(&paper["accuracy"])))
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.4} ± {:.4} | {ps} | {:.4} ± {:.4} | {pa} | {:.0} |\n",
            short(r["task"].as_str().unwrap_or("?")),
            r["hidden"],
            r["l2"],
            r["threshold"],
            r["seeds"],
            f(&r["spectral_error_rad"][0]),
            f(&r["spectral_error_rad"][1]),
            f(&r["accuracy"][0]),
            f(&r["accuracy"][1]),
            f(&r["steps_mean"]),
        ));
    }
    s
}

/// `text` with the block between the markers replaced by `block` (appended if absent).
fn splice(text: &str, block: &str) -> String {
    splice_between(text, block, BEGIN, END)
}

fn splice_between(text: &str, block: &str, begin: &str, end: &str) -> String {
    let fenced = format!("{begin}\n{block}{end}");
    match (text.find(begin), text.find(end)) {
        (Some(a), Some(b)) if b > a => format!("{}{fenced}{}", &text[..a], &text[b + end.len()..]),
        _ => format!("{}{}{fenced}\n", text, if text.is_empty() || text.ends_with('\n') { "" } else { "\n" }),
    }
}

/// One run's measures per method: (decoding accuracy, phi_error, max closure residual), NaN
/// where the method fails.
type RunMeasures = Vec<(&'static str, [f64; 3])>;

fn decode_run(dir: &Path, r: &Value) -> Result<RunMeasures> {
    let path = crate::cmd::sweep::weights_path(dir, r);
    let file = emt_core::cells::ModelFile::load(&path)?;
    let w = crate::common::elman_of(&file, &path, "table --decoding")?;
    let id: emt_tasks::TaskId = r["task"].as_str().unwrap_or_default().parse()?;
    let (s, d) = (r["s"].as_u64().unwrap_or(8) as usize, r["d"].as_u64().unwrap_or(8) as usize);
    let task = emt_tasks::LinearVb::new(id, s, d)?;
    let compared = emt_basis::compare_methods(&w, &task, 0, 0, emt_basis::Grounding::Readout)?;
    Ok(compared
        .into_iter()
        .map(|(name, e)| match e {
            Ok((b, dec)) => (name, [dec.mean, b.phi_error(), b.max_closure_residual()]),
            Err(_) => (name, [f64::NAN; 3]),
        })
        .collect())
}

/// Adds `decoding` to every row (mean and std over its runs) and returns the markdown block.
fn add_decoding(dir: &Path, results: &[Value], rows: &mut [Value]) -> Result<String> {
    let mut per_run = Vec::new();
    for r in results {
        per_run.push((r, decode_run(dir, r)?));
    }
    let same = |r: &Value, row: &Value| ["task", "hidden", "l2", "threshold"].iter().all(|k| r[*k] == row[*k]);
    for row in rows.iter_mut() {
        let mine: Vec<&RunMeasures> = per_run.iter().filter(|(r, _)| same(r, row)).map(|(_, m)| m).collect();
        let mut obj = serde_json::Map::new();
        for method in emt_basis::METHODS {
            let stats: Vec<Value> = (0..3)
                .map(|k| {
                    let v: Vec<f64> = mine
                        .iter()
                        .filter_map(|m| m.iter().find(|(n, _)| *n == method).map(|(_, x)| x[k]))
                        .filter(|x| x.is_finite())
                        .collect();
                    if v.is_empty() { json!([null, null]) } else { json!(mean_std(&v)) }
                })
                .collect();
            obj.insert(method.into(), json!(stats));
        }
        row["decoding"] = Value::Object(obj);
    }
    Ok(decoding_markdown(rows))
}

/// The decoding markdown block from rows carrying `decoding`.
fn decoding_markdown(rows: &[Value]) -> String {
    let mut s = String::from(
        "| task | N | L2 | seeds | decoding: dual | paper | least squares | phi_error: dual | paper | least squares | max closure residual: dual | least squares |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    for r in rows {
        let dec = &r["decoding"];
        let cell = |m: &str, k: usize| {
            let v = &dec[m][k];
            if k == 0 { format!("{:.4} ± {:.4}", f(&v[0]), f(&v[1])) } else { format!("{:.3}", f(&v[0])) }
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            short(r["task"].as_str().unwrap_or("?")),
            r["hidden"],
            r["l2"],
            r["seeds"],
            cell("dual", 0),
            cell("paper", 0),
            cell("least_squares", 0),
            cell("dual", 1),
            cell("paper", 1),
            cell("least_squares", 1),
            cell("dual", 2),
            cell("least_squares", 2),
        ));
    }
    s
}

fn read_results(path: &Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(k, l)| {
            let v: Value = serde_json::from_str(l).map_err(|e| Error::Format {
                path: path.display().to_string(),
                reason: format!("line {}: {e}", k + 1),
            })?;
            for key in ["task", "hidden", "l2", "threshold", "seed", "eval_accuracy", "spectral_error_rad"] {
                if v.get(key).is_none() {
                    return Err(Error::Format {
                        path: path.display().to_string(),
                        reason: format!("line {}: missing \"{key}\" (is this emt sweep's results.jsonl?)", k + 1),
                    });
                }
            }
            Ok(v)
        })
        .collect()
}

pub fn run(args: &Args) -> Result<Value> {
    let results = read_results(&args.results)?;
    if results.is_empty() {
        return Err(Error::Format { path: args.results.display().to_string(), reason: "no results".into() });
    }
    let mut rows = rows(&results)?;
    let md = markdown(&rows);
    out!("{md}");
    // Weights paths in results.jsonl are relative to the sweep directory, where it lives.
    let dir = args.results.parent().unwrap_or(Path::new("."));
    let dec_md = if args.decoding { Some(add_decoding(dir, &results, &mut rows)?) } else { None };
    if let Some(block) = &dec_md {
        out!("{block}");
    }
    if let Some(path) = &args.markdown {
        let old = if path.exists() {
            std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?
        } else {
            String::new()
        };
        let mut text = splice(&old, &md);
        if let Some(block) = &dec_md {
            text = splice_between(&text, block, DEC_BEGIN, DEC_END);
        }
        write_atomic(path, text.as_bytes())?;
    }
    let out = json!({"rows": rows, "runs": results.len()});
    if let Some(path) = &args.json {
        write_atomic(path, format!("{out}\n").as_bytes())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splicing_replaces_only_the_block() {
        let text = format!("# Title\n\nbefore\n{BEGIN}\nold\n{END}\nafter\n");
        let new = splice(&text, "new\n");
        assert_eq!(new, format!("# Title\n\nbefore\n{BEGIN}\nnew\n{END}\nafter\n"));
        assert_eq!(splice("x", "b\n"), format!("x\n{BEGIN}\nb\n{END}\n"));
        assert_eq!(splice(&new, "new\n"), new, "idempotent");
    }

    #[test]
    fn rows_group_seeds_and_attach_the_paper() {
        let r = |seed: u64, acc: f64| {
            json!({"task": "255,0,0", "hidden": 128, "l2": 0.0, "threshold": 0.96, "seed": seed,
                   "eval_accuracy": acc, "spectral_error_rad": 5e-4, "steps": 100, "train_seconds": 1.0})
        };
        let rows = rows(&[r(0, 1.0), r(1, 0.998)]).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["seeds"], 2);
        assert!((rows[0]["accuracy"][0].as_f64().unwrap() - 0.999).abs() < 1e-12);
        assert_eq!(rows[0]["paper"]["accuracy"], 1.0);
        assert!(markdown(&rows).contains("T1 = (255,0,0)"));
    }
}
