//! A planted network: Phi hidden behind a random basis, saved as a model file, a test subject
//! with a known answer for `analyze`.
//!
//! ```text
//! cargo run --release --example plant && cargo run --release --example analyze -- planted.safetensors
//! ```

use emt::circuit::{PlantedBasis, planted};
use emt::core::cells::{Model, ModelFile};
use emt::core::io::WeightsMetadata;
use emt::core::rng;
use emt::prelude::*;

fn main() -> Result<()> {
    let id: TaskId = "9241421688590303745,0,0".parse()?;
    let task = LinearVb::new(id, 8, 8)?;
    let p = planted(&task, 96, PlantedBasis::Random, 0.3, &mut rng::seeded(0))?;
    let meta = WeightsMetadata { task: Some(id.to_string()), s: Some(8), d: Some(8), ..Default::default() };
    ModelFile::new(Model::Elman(p.weights)).with_meta(meta).save("planted.safetensors")?;
    println!("planted {task} in N = 96 -> planted.safetensors");
    Ok(())
}
