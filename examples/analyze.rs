//! Reads a trained network in its variable-memory basis (docs/EMT.md §4) with the library API.
//!
//! ```text
//! cargo run --release --example repeat_copy          # writes repeat_copy.safetensors
//! cargo run --release --example analyze -- repeat_copy.safetensors
//! ```
//!
//! `emt analyze` does the same with every option as a flag and a JSON summary.

use emt::basis::{ExtractOptions, VariableBasis, spectral_error};
use emt::core::cells::{Model, ModelFile};
use emt::prelude::*;
use emt::tasks::Phi;

fn main() -> Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "repeat_copy.safetensors".into());
    let file = ModelFile::load(&path)?;
    let Model::Elman(w) = &file.model else {
        return Err(Error::param("model", file.model.kind(), "this example reads elman networks"));
    };
    let id: TaskId = file.meta.task.as_deref().unwrap_or("255,0,0").parse()?;
    let task = LinearVb::new(id, file.meta.s.unwrap_or(8), file.meta.d.unwrap_or(8))?;
    let phi = Phi::new(&task);
    let spectral = spectral_error(w.w_hh(), phi.matrix().view(), 0.9)?;
    let basis = VariableBasis::extract(w, &phi, None, &ExtractOptions::default())?;
    println!("{path}: {task}, N = {}", w.hidden_dim());
    println!("  spectral error {:.3e} rad over {} matched eigenvalues", spectral.radians, spectral.matched);
    println!(
        "  variable basis: {} coordinates, gain {:.4}, max |Phi_emp - Phi| = {:.3e}",
        basis.coordinates().len(),
        basis.gain(),
        basis.phi_error()
    );
    Ok(())
}
