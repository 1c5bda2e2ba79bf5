//! Writes the small models behind the dynamics figures of the README (docs/):
//!
//! - `z3.safetensors`: the handcrafted Z3 phase oscillator of docs/DYNAMICS.md §7 (colour vectors
//!   N(0, I_100) from seed 7, 2-step pulses, period 25 steps, kappa = 0.5), and
//!   `colours.safetensors`, its three colour vectors G, P, R as pulses for `emt phase`;
//! - `ctgru_rotation.safetensors`: the 2-D continuous-time GRU with U_h = 4 R(pi/4) (a stable
//!   limit cycle of period 12.83), whose entry `weight_hh_l0[4,0]` has a Hopf point at
//!   4 - 2 sqrt 2 = 1.1716 (the trace of the origin's Jacobian, (U_h00 + U_h11)/4 - 1, is 0).
//!
//! ```text
//! cargo run --example dynamics_models -- docs/models
//! emt phase --weights docs/models/z3.safetensors --pulses docs/models/colours.safetensors
//! emt plot prc --weights docs/models/z3.safetensors --pulses docs/models/colours.safetensors --out docs/prc.png
//! emt plot fixed-points --weights docs/models/ctgru_rotation.safetensors --out docs/cycle.png
//! emt sweep-param --weights docs/models/ctgru_rotation.safetensors --param "weight_hh_l0[4,0]" \
//!     --from 0 --to 2.5 --steps 11 --continuation > sweep.jsonl
//! emt plot bifurcation --sweep sweep.jsonl --out docs/bifurcation.png
//! ```

use emt::core::cells::{CtGruWeights, Model, ModelFile, OscillatorWeights};
use emt::core::io::tensors_to_safetensors;
use rand_distr::{Distribution, StandardNormal};

fn main() -> emt::core::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "models".into()));
    std::fs::create_dir_all(&dir).map_err(|e| emt::core::Error::file(&dir, e))?;
    let mut r = emt::core::rng::seeded(7);
    let v = ndarray::Array2::from_shape_simple_fn((3, 100), || StandardNormal.sample(&mut r));
    let osc = OscillatorWeights::z3(v.view(), 2, 2.0 * std::f64::consts::PI / 25.0, 0.5)?;
    ModelFile::new(Model::Oscillator(osc)).save(dir.join("z3.safetensors"))?;
    let rows: Vec<ndarray::Array1<f64>> = (0..3).map(|k| v.row(k).to_owned()).collect();
    let list = [("G", rows[0].view().into_dyn()), ("P", rows[1].view().into_dyn()), ("R", rows[2].view().into_dyn())];
    let path = dir.join("colours.safetensors");
    std::fs::write(&path, tensors_to_safetensors(&list, &Default::default())?)
        .map_err(|e| emt::core::Error::file(&path, e))?;
    let c = std::f64::consts::FRAC_PI_4.cos() * 4.0;
    let mut u = ndarray::Array2::zeros((6, 2));
    u.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -c], [c, c]]);
    ModelFile::new(Model::CtGru(CtGruWeights::new(u, None, None, 0.1, None)?))
        .save(dir.join("ctgru_rotation.safetensors"))?;
    println!("wrote z3.safetensors, colours.safetensors, ctgru_rotation.safetensors to {}", dir.display());
    Ok(())
}
