//! `emt simulate`: runs any model file on inputs from a safetensors file.
//!
//! ```text
//! emt simulate --weights F --inputs X.safetensors --out Y.safetensors
//! ```
//!
//! X holds `inputs` `(T, B, d_in)` and optionally `h0` `(B, state)` (else the model file's
//! `h0`, else zeros). Y gets `hidden` `(T, B, state)` and `outputs` `(T, B, d_out)` in the model
//! file's dtype. Flows (ctgru, gated) advance one Euler step of the file's `dt` per input
//! step. Last stdout line: `{"cell":..,"steps":T,"batch":B,"state_dim":n,"out":"Y"}`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use emt_core::cells::{Dtype, ModelFile};
use emt_core::io::{Tensors, tensors_to_safetensors};
use emt_core::{Error, Result, check};
use ndarray::{Array2, Array3, ArrayD};
use serde_json::json;

use crate::common::{ensure_writable, write_atomic};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model file (safetensors, any cell).
    #[arg(long)]
    weights: PathBuf,
    /// Inputs file: `inputs` (T, B, d_in), optional `h0` (B, state).
    #[arg(long)]
    inputs: PathBuf,
    /// Output file: `hidden` (T, B, state) and `outputs` (T, B, d_out).
    #[arg(long)]
    out: PathBuf,
}

fn tensor<D: ndarray::Dimension>(
    t: &Tensors,
    name: &str,
    path: &std::path::Path,
    what: &str,
) -> Result<Option<ndarray::Array<f64, D>>> {
    let Some(a) = t.tensors.get(name) else { return Ok(None) };
    let a: ArrayD<f64> = a.clone();
    let shape = a.shape().to_vec();
    a.into_dimensionality::<D>().map(Some).map_err(|_| Error::Format {
        path: path.display().to_string(),
        reason: format!("tensor {name} must be {what}, got shape {}", check::fmt_shape(&shape)),
    })
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    ensure_writable(&args.out)?;
    let model = ModelFile::load(&args.weights)?;
    let t = Tensors::read(&args.inputs)?;
    let inputs: Array3<f64> = tensor(&t, "inputs", &args.inputs, "(T, B, d_in)")?.ok_or_else(|| Error::Format {
        path: args.inputs.display().to_string(),
        reason: format!("missing tensor \"inputs\" (have: {:?})", t.tensors.keys().collect::<Vec<_>>()),
    })?;
    let h0: Option<Array2<f64>> = tensor(&t, "h0", &args.inputs, "(B, state)")?;
    let traj = model.simulate(inputs.view(), h0.as_ref().map(|h| h.view()))?;
    let (steps, batch, n) = traj.hidden.dim();
    let mut meta = BTreeMap::new();
    meta.insert("cell".to_string(), model.model.kind().name().to_string());
    let bytes = match model.dtype {
        Dtype::F64 => tensors_to_safetensors(
            &[("hidden", traj.hidden.view().into_dyn()), ("outputs", traj.outputs.view().into_dyn())],
            &meta,
        )?,
        Dtype::F32 => {
            let (h, o) = (traj.hidden.mapv(|v| v as f32), traj.outputs.mapv(|v| v as f32));
            tensors_to_safetensors(&[("hidden", h.view().into_dyn()), ("outputs", o.view().into_dyn())], &meta)?
        }
    };
    write_atomic(&args.out, &bytes)?;
    println!(
        "{} model ({} dims of state, {} in, {} out, {}): {steps} steps x {batch} sequences -> {}",
        model.model.kind(),
        n,
        model.model.input_dim(),
        model.model.output_dim(),
        model.dtype.name(),
        args.out.display()
    );
    Ok(json!({
        "cell": model.model.kind().name(),
        "steps": steps,
        "batch": batch,
        "state_dim": n,
        "out": args.out.display().to_string(),
    }))
}
