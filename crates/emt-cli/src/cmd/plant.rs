//! `emt plant`: writes a planted network `W_hh = B diag(Phi, T) B^-1` (identity activation)
//! as a model file, a test subject with a known answer for `emt analyze`.
//!
//! ```text
//! emt plant --task 9241421688590303745,0,0 --hidden 96 --basis random --out planted.safetensors
//! ```
//!
//! Last stdout line: one JSON object with keys `task`, `s`, `d`, `hidden`, `basis`, `dtype`, `out`.

use std::path::PathBuf;

use clap::ValueEnum;
use emt_circuit::{PlantedBasis, planted};
use emt_core::cells::{Model, ModelFile};
use emt_core::io::WeightsMetadata;
use emt_core::{Result, rng};
use emt_tasks::LinearVb;
use serde_json::json;

use crate::common::{TaskArgs, ensure_writable};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Basis {
    Orthonormal,
    Perturbed,
    Random,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Dtype {
    F64,
    F32,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    task: TaskArgs,
    /// Hidden size N (>= s*d).
    #[arg(long, default_value_t = 96)]
    hidden: usize,
    /// How the hidden basis B is drawn.
    #[arg(long, value_enum, default_value_t = Basis::Random)]
    basis: Basis,
    /// Perturbation size for --basis perturbed.
    #[arg(long, default_value_t = 0.3)]
    eps: f64,
    /// Stored dtype.
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    dtype: Dtype,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output path.
    #[arg(long, default_value = "planted.safetensors")]
    out: PathBuf,
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    ensure_writable(&args.out, &[])?;
    let id = args.task.id_or_repeat_copy();
    let task = LinearVb::new(id, args.task.s, args.task.d)?;
    let kind = match args.basis {
        Basis::Orthonormal => PlantedBasis::Orthonormal,
        Basis::Perturbed => PlantedBasis::Perturbed(args.eps),
        Basis::Random => PlantedBasis::Random,
    };
    let p = planted(&task, args.hidden, kind, 0.3, &mut rng::seeded(args.seed))?;
    let mut meta = WeightsMetadata {
        task: Some(id.to_string()),
        s: Some(args.task.s),
        d: Some(args.task.d),
        seed: Some(args.seed),
        ..Default::default()
    };
    meta.other.insert("planted_basis".into(), format!("{:?}", args.basis).to_lowercase());
    let dtype = match args.dtype {
        Dtype::F64 => emt_core::cells::Dtype::F64,
        Dtype::F32 => emt_core::cells::Dtype::F32,
    };
    let file = ModelFile::new(Model::Elman(p.weights)).with_meta(meta).with_dtype(dtype);
    crate::common::write_atomic(&args.out, &file.to_bytes()?)?;
    outln!(
        "planted {task} in N = {} ({:?} basis, {:?}) -> {}",
        args.hidden,
        args.basis,
        args.dtype,
        args.out.display()
    );
    Ok(json!({
        "task": id.to_string(), "s": args.task.s, "d": args.task.d, "hidden": args.hidden,
        "basis": format!("{:?}", args.basis).to_lowercase(), "dtype": format!("{:?}", args.dtype).to_lowercase(),
        "out": args.out.display().to_string(),
    }))
}
