//! `emt analyze`: extracts the variable-memory basis of a network and measures its match with
//! EMT.
//!
//! ```text
//! emt analyze --weights repeat_copy.safetensors --task 255,0,0 --s 8 --d 8 [--method dual|paper|least-squares]
//! ```
//!
//! Loads an elman model file (ours or a PyTorch `nn.RNN` + `nn.Linear` state dict, F32 or F64),
//! prints a summary and, as the last stdout line, one JSON object with keys `method`,
//! `spectral_error_rad`, `eig_count_08_whh`, `eig_count_08_phi`, `coordinates`, `phi_error`,
//! `max_closure_residual`, `accuracy_h200`, `decoding_accuracy` (mean sign accuracy with which
//! the basis coordinates read the true window content on 64 fresh sequences at H = 200) and
//! `decoding_by_slot` (s numbers, oldest slot first; null where the basis has no coordinate),
//! plus `gain` and `methods`: the same measures (`phi_error`, `max_closure_residual`,
//! `coordinates`, `decoding_accuracy`, `decoding_by_slot`, or `error`) for all three methods
//! (`dual`, `paper`, `least_squares`: a basis fitted by ridge regression to 32 other sequences'
//! hidden states against their known windows). `--save PATH` writes the basis
//! (`psi`, `psi_dual`, `phi_emp`, `phi_theory`, `coordinates`, `projection` of one sequence
//! `(T, m)`) as safetensors, which numpy reads with `safetensors.numpy.load_file`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::ValueEnum;
use emt_basis::Grounding;
use emt_core::Result;
use emt_core::io::tensors_to_safetensors;
use emt_tasks::{LinearVb, Phi};
use serde_json::json;

use crate::common::{ModelTaskArgs, elman_of, ensure_writable, write_atomic};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MethodArg {
    Dual,
    Paper,
    LeastSquares,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    model: crate::common::ModelArgs,
    #[command(flatten)]
    task: ModelTaskArgs,
    /// Extraction method.
    #[arg(long, value_enum, default_value_t = MethodArg::Dual)]
    method: MethodArg,
    /// For --method paper: ground on the input weights instead of the readout.
    #[arg(long)]
    ground_on_input: bool,
    /// PCA components of the unexplained hidden history.
    #[arg(long, default_value_t = 10)]
    pca: usize,
    /// Seed for the evaluation sequences.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Save the basis and projections here (safetensors).
    #[arg(long)]
    save: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    if let Some(path) = &args.save {
        ensure_writable(path, &[&args.model.weights])?;
    }
    let file = args.model.load()?;
    let weights = elman_of(&file, &args.model.weights, "analyze")?;
    let (id, s, d) = args.task.resolve(&file.meta)?;
    let task = LinearVb::new(id, s, d)?;
    let phi = Phi::new(&task);

    // Accuracy at H = 200 on 512 fresh sequences, the spectral error, and one hidden history.
    let fit = emt_basis::task_fit(&weights, &task, args.seed)?;
    let accuracy = fit.accuracy;
    let n = weights.hidden_dim();

    let grounding = if args.ground_on_input { Grounding::Input } else { Grounding::Readout };
    let compared = emt_basis::compare_methods(&weights, &task, args.seed, args.pca, grounding)?;
    let mut methods = serde_json::Map::new();
    for (name, entry) in &compared {
        let v = match entry {
            Ok((b, dec)) => json!({
                "coordinates": b.coordinates().len(),
                "phi_error": b.phi_error(),
                "max_closure_residual": b.max_closure_residual(),
                "gain": b.gain(),
                "decoding_accuracy": dec.mean,
                "decoding_by_slot": dec.by_slot,
            }),
            Err(e) => json!({"error": e.to_string()}),
        };
        methods.insert(name.to_string(), v);
    }
    let chosen = match args.method {
        MethodArg::Dual => "dual",
        MethodArg::Paper => "paper",
        MethodArg::LeastSquares => "least_squares",
    };
    let (basis, decoding) = match compared.into_iter().find(|(n, _)| *n == chosen) {
        Some((_, Ok(found))) => found,
        Some((_, Err(e))) => return Err(e),
        None => return Err(emt_core::Error::param("--method", chosen, "unknown")),
    };
    let method = basis.method();
    let spectral = &fit.spectral;
    let eig_whh = emt_linalg::eigenvalues(weights.w_hh())?.iter().filter(|z| z.norm() > 0.8).count();

    outln!("{task}, N = {n}, activation {:?}, {}", weights.activation(), args.model.weights.display());
    outln!("  accuracy at H = 200: {accuracy:.5}");
    outln!(
        "  spectral error (|λ| > 0.9, arguments): {:.3e} rad = {:.4} deg; {} vs {} eigenvalues ({} unmatched)",
        spectral.radians,
        spectral.degrees(),
        spectral.count_a,
        spectral.count_b,
        spectral.unmatched
    );
    outln!("  #|λ| > 0.8: W_hh {eig_whh}, Phi {}", phi.eig_count_above(0.8));
    outln!(
        "  {:?}: {} coordinates, gain {:.6}, max |Phi_emp - Phi| {:.3e}, max closure residual {:.3e}",
        method,
        basis.coordinates().len(),
        basis.gain(),
        basis.phi_error(),
        basis.max_closure_residual()
    );
    let slots: Vec<String> = decoding.by_slot.iter().map(|x| x.map_or("-".into(), |v| format!("{v:.3}"))).collect();
    outln!("  decoding accuracy {:.4}; by slot (oldest first): {}", decoding.mean, slots.join(" "));
    for (name, m) in &methods {
        match m.get("decoding_accuracy") {
            Some(acc) => outln!(
                "    {name:>13}: decoding {:.4}, phi_error {:.3e}, max closure residual {:.3e}",
                acc.as_f64().unwrap_or(f64::NAN),
                m["phi_error"].as_f64().unwrap_or(f64::NAN),
                m["max_closure_residual"].as_f64().unwrap_or(f64::NAN)
            ),
            None => outln!("    {name:>13}: {}", m["error"]),
        }
    }
    if let Some(pca) = basis.complement() {
        let shown: Vec<String> = pca.explained.iter().take(5).map(|x| format!("{x:.3}")).collect();
        outln!("  unexplained history: top PCA components explain {}", shown.join(", "));
    }
    if let Some(path) = &args.save {
        let projection = basis.project(fit.first_hidden.view())?;
        let coords: ndarray::Array1<f64> = basis.coordinates().iter().map(|&c| c as f64).collect();
        let phi_emp = basis.phi_emp().to_owned();
        let list = [
            ("psi", basis.psi().into_dyn()),
            ("psi_dual", basis.psi_dual().into_dyn()),
            ("phi_emp", phi_emp.view().into_dyn()),
            ("phi_theory", basis.phi_theory().into_dyn()),
            ("coordinates", coords.view().into_dyn()),
            ("projection", projection.view().into_dyn()),
        ];
        let mut m = BTreeMap::new();
        m.insert("task".to_string(), id.to_string());
        write_atomic(path, &tensors_to_safetensors(&list, &m)?)?;
        outln!("  basis saved to {}", path.display());
    }
    Ok(json!({
        "method": match args.method { MethodArg::Dual => "dual", MethodArg::Paper => "paper", MethodArg::LeastSquares => "least_squares" },
        "spectral_error_rad": spectral.radians,
        "eig_count_08_whh": eig_whh,
        "eig_count_08_phi": phi.eig_count_above(0.8),
        "coordinates": basis.coordinates().len(),
        "phi_error": basis.phi_error(),
        "max_closure_residual": basis.max_closure_residual(),
        "accuracy_h200": accuracy,
        "gain": basis.gain(),
        "decoding_accuracy": decoding.mean,
        "decoding_by_slot": decoding.by_slot,
        "methods": methods,
    }))
}
