//! `emt analyze`: extracts the variable-memory basis of a network and measures its match with
//! EMT.
//!
//! ```text
//! emt analyze --weights repeat_copy.safetensors --task 255,0,0 --s 8 --d 8 [--method dual|paper]
//! ```
//!
//! Loads an elman model file (ours or a PyTorch `nn.RNN` + `nn.Linear` state dict, F32 or F64),
//! prints a summary and, as the last stdout line, one JSON object with keys `method`,
//! `spectral_error_rad`, `eig_count_08_whh`, `eig_count_08_phi`, `coordinates`, `phi_error`,
//! `max_closure_residual`, `accuracy_h200` (and `gain`). `--save PATH` writes the basis
//! (`psi`, `psi_dual`, `phi_emp`, `phi_theory`, `coordinates`, `projection` of one sequence
//! `(T, m)`) as safetensors, which numpy reads with `safetensors.numpy.load_file`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::ValueEnum;
use emt_basis::{ExtractOptions, Grounding, Method, VariableBasis, spectral_error};
use emt_core::cells::ModelFile;
use emt_core::io::tensors_to_safetensors;
use emt_core::{Result, Task, metrics, rng};
use emt_tasks::{LinearVb, Phi};
use ndarray::{Array2, Axis};
use serde_json::json;

use crate::common::{ModelTaskArgs, elman_of, ensure_writable, write_atomic};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MethodArg {
    Dual,
    Paper,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Weights file (safetensors).
    #[arg(long)]
    weights: PathBuf,
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
        ensure_writable(path)?;
    }
    let file = ModelFile::load(&args.weights)?;
    let weights = elman_of(&file, &args.weights, "analyze")?;
    let (id, s, d) = args.task.resolve(&file.meta)?;
    let task = LinearVb::new(id, s, d)?;
    let phi = Phi::new(&task);

    // Accuracy at H = 200 on 512 fresh sequences, and a hidden history for the complement.
    let ep = task.sample(200, 512, &mut rng::seeded(args.seed))?;
    let traj = weights.simulate(ep.inputs().mapv(f64::from).view())?;
    let accuracy = metrics::sign_accuracy(traj.outputs.view(), ep.targets(), ep.first_scored())?;
    let (t, b, n) = traj.hidden.dim();
    let history: Array2<f64> = traj
        .hidden
        .slice(ndarray::s![.., ..b.min(32), ..])
        .to_owned()
        .into_shape_with_order((t * b.min(32), n))
        .map_err(|e| emt_core::Error::shape("history", "(T*B, N)", e.to_string()))?;

    let method = match args.method {
        MethodArg::Dual => Method::DualRecursion,
        MethodArg::Paper => {
            Method::PaperKrylov(if args.ground_on_input { Grounding::Input } else { Grounding::Readout })
        }
    };
    let opts = ExtractOptions { method, pca_components: args.pca, ..Default::default() };
    let basis = VariableBasis::extract(&weights, &phi, Some(history.view()), &opts)?;
    let spectral = spectral_error(weights.w_hh(), phi.matrix().view(), 0.9)?;
    let eig_whh = emt_linalg::eigenvalues(weights.w_hh())?.iter().filter(|z| z.norm() > 0.8).count();

    println!("{task}, N = {n}, activation {:?}, {}", weights.activation(), args.weights.display());
    println!("  accuracy at H = 200: {accuracy:.5}");
    println!(
        "  spectral error (|λ| > 0.9, arguments): {:.3e} rad = {:.4} deg; {} vs {} eigenvalues ({} unmatched)",
        spectral.radians,
        spectral.degrees(),
        spectral.count_a,
        spectral.count_b,
        spectral.unmatched
    );
    println!("  #|λ| > 0.8: W_hh {eig_whh}, Phi {}", phi.eig_count_above(0.8));
    println!(
        "  {:?}: {} coordinates, gain {:.6}, max |Phi_emp - Phi| {:.3e}, max closure residual {:.3e}",
        method,
        basis.coordinates().len(),
        basis.gain(),
        basis.phi_error(),
        basis.max_closure_residual()
    );
    if let Some(pca) = basis.complement() {
        let shown: Vec<String> = pca.explained.iter().take(5).map(|x| format!("{x:.3}")).collect();
        println!("  unexplained history: top PCA components explain {}", shown.join(", "));
    }
    if let Some(path) = &args.save {
        let one = traj.hidden.index_axis(Axis(1), 0).to_owned();
        let projection = basis.project(one.view())?;
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
        println!("  basis saved to {}", path.display());
    }
    Ok(json!({
        "method": match args.method { MethodArg::Dual => "dual", MethodArg::Paper => "paper" },
        "spectral_error_rad": spectral.radians,
        "eig_count_08_whh": eig_whh,
        "eig_count_08_phi": phi.eig_count_above(0.8),
        "coordinates": basis.coordinates().len(),
        "phi_error": basis.phi_error(),
        "max_closure_residual": basis.max_closure_residual(),
        "accuracy_h200": accuracy,
        "gain": basis.gain(),
    }))
}
