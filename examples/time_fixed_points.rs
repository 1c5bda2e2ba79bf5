//! Times the fixed-point search of a model file in-process, as the Python package's
//! `emt.find_fixed_points` runs it (emt's seeding recipe, FixedPointFinder's defaults,
//! eigenvectors and the Jacobian at each point): the Rust side of
//! `crates/emt-py/bench/fixed_points.py`.
//!
//! ```text
//! cargo run --release --example time_fixed_points -- MODEL.safetensors [n_inits] [seed] [threads] [repeats]
//! ```
//!
//! Prints one JSON line: `median_seconds`, `min_seconds`, `count`, `stable_count`, `seeds`.

use emt::core::cells::ModelFile;
use emt::dynamics::{AsSystem, FixedPointParams, SeedParams, System, find_fixed_points_per_input, seed_states};
use emt::ndarray::{Array1, Array2};

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> Result<T, String> {
    args.get(i).map_or(Ok(default), |a| a.parse().map_err(|_| format!("argument {i} ({a:?}) is not a number")))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: time_fixed_points MODEL.safetensors [n_inits] [seed] [threads] [repeats]")?;
    let (n_inits, seed, threads, repeats): (usize, u64, usize, usize) =
        (arg(&args, 2, 64)?, arg(&args, 3, 0)?, arg(&args, 4, 1)?, arg(&args, 5, 5)?);
    let file = ModelFile::load(path)?;
    let model = &file.model;
    let system = model.system()?;
    let u = Array1::zeros(model.input_dim());
    let params = FixedPointParams { threads, ..Default::default() };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let start = std::time::Instant::now();
        let p = SeedParams { starts: n_inits, seed, ..Default::default() };
        let seeds = seed_states(system, u.view(), file.h0.as_ref().map(|h| h.view()), &p)?.seeds;
        let inputs = u.clone().insert_axis(emt::ndarray::Axis(0));
        let groups = find_fixed_points_per_input(system, inputs.view(), seeds.view(), &params)?;
        // The Python call also returns the Jacobian at each point (FixedPointFinder's J_xstar).
        let jacobians: Vec<Array2<f64>> = groups
            .iter()
            .flat_map(|(u, g)| g.fixed.iter().chain(&g.slow).map(move |p| (u, p)))
            .map(|(u, p)| match system {
                System::Map(m) => m.jacobian(p.state.view(), u.view()),
                System::Flow(f) => f.jacobian(p.state.view(), u.view()),
            })
            .collect::<Result<_, _>>()?;
        times.push(start.elapsed().as_secs_f64());
        last = Some((groups, seeds.nrows(), jacobians.len()));
    }
    times.sort_by(f64::total_cmp);
    let (groups, seeds, _) = last.ok_or("no run")?;
    let count: usize = groups.iter().map(|(_, g)| g.fixed.len()).sum();
    let stable: usize = groups.iter().map(|(_, g)| g.stable_count()).sum();
    println!(
        "{{\"median_seconds\":{},\"min_seconds\":{},\"count\":{count},\"stable_count\":{stable},\"seeds\":{seeds},\"threads\":{threads}}}",
        times[times.len() / 2],
        times[0]
    );
    Ok(())
}
