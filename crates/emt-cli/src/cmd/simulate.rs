//! `emt simulate`: runs any model file on inputs from a safetensors file.
//!
//! ```text
//! emt simulate --weights F --inputs X.safetensors --out Y.safetensors
//! ```
//!
//! X holds `inputs` `(T, B, d_in)` and optionally `h0`: the state `(B, n)`, or PyTorch's
//! `(L, B, H_out)` with `c0` `(L, B, N)` for an LSTM (else the model file's `h0`, else zeros).
//! Y gets, in the model file's dtype, `hidden` (PyTorch's `output`: the top layer's `h`,
//! `(T, B, H_out)`; the whole state for single-layer cells without a cell memory), `outputs`
//! (the readout, `(T, B, d_out)`) and `state` (the full dynamical state, `(T, B, n)`: the
//! layers' states, layer 0 first, an LSTM layer's `[h; c]`). Flows (ctgru, gated) advance one
//! Euler step of the file's `dt` per input step. Last stdout line:
//! `{"cell":..,"steps":T,"batch":B,"state_dim":n,"hidden_dim":H_out,"num_layers":L,"out":"Y"}`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use emt_core::cells::Dtype;
use emt_core::io::{Tensors, tensors_to_safetensors};
use emt_core::{Error, Result, check};
use ndarray::{Array2, Array3, ArrayD};
use serde_json::json;

use crate::common::{ensure_writable, write_atomic};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    model: crate::common::ModelArgs,
    /// Inputs file: `inputs` (T, B, d_in), optional `h0` (B, n) or PyTorch's (L, B, H_out)
    /// with `c0` (L, B, N) for an LSTM.
    #[arg(long)]
    inputs: PathBuf,
    /// Output file: `hidden` (T, B, H_out), `outputs` (T, B, d_out), `state` (T, B, n).
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

/// The inputs file's `h0` as states `(B, n)`: already states, or PyTorch's `(L, B, H_out)`
/// (with `c0` `(L, B, N)`), one sequence at a time.
fn initial_states(
    model: &emt_core::cells::Model,
    t: &Tensors,
    path: &std::path::Path,
    batch: usize,
) -> Result<Option<Array2<f64>>> {
    let n = model.state_dim();
    let (h0, c0) = (t.tensors.get("h0"), t.tensors.get("c0"));
    let Some(h0) = h0 else {
        return match c0 {
            Some(_) => Err(Error::Format { path: path.display().to_string(), reason: "tensor c0 without h0".into() }),
            None => Ok(None),
        };
    };
    if h0.shape() == [batch, n] && c0.is_none() {
        return tensor(t, "h0", path, "(B, state)");
    }
    let torch_shaped = |a: &ndarray::ArrayD<f64>| a.ndim() == 3 && a.shape()[1] == batch;
    if !torch_shaped(h0) || c0.is_some_and(|c| !torch_shaped(c)) {
        return Err(Error::Format {
            path: path.display().to_string(),
            reason: format!(
                "tensors h0 {} / c0 {}: expected the states h0 (B, n) = ({batch}, {n}), or PyTorch's h0 (L, B, H_out) \
                 [with c0 (L, B, N) for an LSTM] with B = {batch}",
                check::fmt_shape(h0.shape()),
                c0.map_or("absent".to_string(), |c| check::fmt_shape(c.shape()))
            ),
        });
    }
    let mut out = Array2::zeros((batch, n));
    for b in 0..batch {
        let hb = h0.slice(ndarray::s![.., b..b + 1, ..]).into_dyn();
        let cb = c0.map(|c| c.slice(ndarray::s![.., b..b + 1, ..]).into_dyn());
        out.row_mut(b).assign(&model.initial_state(hb, cb)?);
    }
    Ok(Some(out))
}

/// A non-finite result as a divergence at its time step (index 0 of `(T, B, n)`).
fn diverged(e: Error, why: &str) -> Error {
    match e {
        Error::NonFinite { what, index, value } => Error::Diverged {
            step: index.first().copied().unwrap_or(0),
            reason: format!("{what}{index:?} = {value}: {why}; nothing was written"),
        },
        other => other,
    }
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    ensure_writable(&args.out, &[&args.model.weights, &args.inputs])?;
    let model = args.model.load()?;
    let t = Tensors::read(&args.inputs)?;
    let inputs: Array3<f64> = tensor(&t, "inputs", &args.inputs, "(T, B, d_in)")?.ok_or_else(|| Error::Format {
        path: args.inputs.display().to_string(),
        reason: format!("missing tensor \"inputs\" (have: {:?})", t.tensors.keys().collect::<Vec<_>>()),
    })?;
    let h0 = initial_states(&model.model, &t, &args.inputs, inputs.dim().1)?;
    let traj = model.simulate(inputs.view(), h0.as_ref().map(|h| h.view()))?;
    let (steps, batch, n) = traj.hidden.dim();
    let top = model.model.cell().hidden_range();
    let hidden = traj.hidden.slice(ndarray::s![.., .., top.clone()]).to_owned();
    let mut meta = BTreeMap::new();
    meta.insert("cell".to_string(), model.model.kind().name().to_string());
    let named =
        [("hidden", hidden.into_dyn()), ("outputs", traj.outputs.into_dyn()), ("state", traj.hidden.into_dyn())];
    // A trajectory that overflowed is refused, not written: inf in a results file reads as a
    // number to the next tool (a ctgru with dt = 1e10 wrote inf without a word).
    for (name, a) in &named {
        check::finite(name, a).map_err(|e| diverged(e, "the model's state overflowed (in f64)"))?;
    }
    let bytes = match model.dtype {
        Dtype::F64 => {
            let views: Vec<_> = named.iter().map(|(k, a)| (*k, a.view())).collect();
            tensors_to_safetensors(&views, &meta)?
        }
        Dtype::F32 => {
            let cast: Vec<_> = named.iter().map(|(k, a)| (*k, a.mapv(|v| v as f32))).collect();
            for (name, a) in &cast {
                check::finite(name, a).map_err(|e| {
                    diverged(e, "a value exceeds the f32 range of the model file's dtype (save the model as f64)")
                })?;
            }
            let views: Vec<_> = cast.iter().map(|(k, a)| (*k, a.view())).collect();
            tensors_to_safetensors(&views, &meta)?
        }
    };
    write_atomic(&args.out, &bytes)?;
    outln!(
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
        "hidden_dim": top.len(),
        "num_layers": model.model.num_layers(),
        "out": args.out.display().to_string(),
    }))
}
