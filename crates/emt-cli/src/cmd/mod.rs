//! One module per subcommand: its flags (`Args`) and `run`, which returns the JSON summary.

pub mod analyze;
pub mod circuit;
pub mod cycle;
pub mod fixed_points;
pub mod lyapunov;
pub mod phase;
pub mod plant;
pub mod plot;
pub mod reproduce;
pub mod simulate;
pub mod sweep;
pub mod sweep_param;
pub mod table;
pub mod train;
