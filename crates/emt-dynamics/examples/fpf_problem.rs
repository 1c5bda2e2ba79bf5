//! The fixed-point speed comparison of issue 10, our side: a random 128-unit GRU and 100 seeds
//! (the problem of `benches/dynamics.rs`), written as safetensors for
//! `tools/fixed_points_torch.py` (a FixedPointFinder-style Adam search in PyTorch), then solved
//! by emt.
//!
//! ```text
//! cargo run --release -p emt-dynamics --example fpf_problem -- /tmp/fpf   # default: out/fpf
//! python tools/fixed_points_torch.py /tmp/fpf
//! ```

use std::time::Instant;

use emt_core::cells::{GruWeights, Model, ModelFile};
use emt_core::io::tensors_to_safetensors;
use emt_core::{Result, rng};
use emt_dynamics::{FixedPointParams, Stability, System, find_fixed_points};
use ndarray::{Array1, Array2};
use rand::Rng;

fn main() -> Result<()> {
    // Default out/fpf: the README's outputs go under out/, which git ignores.
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "out/fpf".into()));
    std::fs::create_dir_all(&dir).map_err(|e| emt_core::Error::file(&dir, e))?;
    let n = 128;
    let scale = 1.0 / (n as f64).sqrt();
    let mut w_hh = emt_testkit::gaussian(3 * n, n, 3) * scale;
    w_hh.slice_mut(ndarray::s![2 * n.., ..]).mapv_inplace(|v| 2.5 * v);
    let gru = GruWeights::new(Array2::zeros((3 * n, 1)), w_hh, None, None, None)?;
    let mut r = rng::seeded(4);
    let seeds = Array2::from_shape_simple_fn((100, n), || 2.0 * r.random::<f64>() - 1.0);
    ModelFile::new(Model::Gru(gru.clone())).save(dir.join("gru128.safetensors"))?;
    let bytes = tensors_to_safetensors(&[("seeds", seeds.view().into_dyn())], &Default::default())?;
    std::fs::write(dir.join("seeds.safetensors"), bytes).map_err(|e| emt_core::Error::file(&dir, e))?;
    let t0 = Instant::now();
    let found =
        find_fixed_points(System::Map(&gru), Array1::zeros(1).view(), seeds.view(), &FixedPointParams::default())?;
    let secs = t0.elapsed().as_secs_f64();
    let worst = found.fixed.iter().map(|p| p.q).fold(0.0, f64::max);
    println!(
        "emt: {} fixed points ({} stable, {} saddles), {} slow, worst q {worst:.1e}, {secs:.2} s for 100 seeds (1 thread)",
        found.fixed.len(),
        found.stable_count(),
        found.fixed.iter().filter(|p| p.stability == Stability::Unstable).count(),
        found.slow.len(),
    );
    Ok(())
}
