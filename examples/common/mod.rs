//! Pieces the examples share: the task flags and the exit path that prints the JSON summary.
//! Each example compiles this module on its own and uses a subset of it.
#![allow(dead_code)]

use clap::Args;
use emt::prelude::*;

/// `--task ID1,ID2,ID3 --s S --d D`.
#[derive(Args, Debug, Clone)]
pub struct TaskArgs {
    /// Task id "id1,id2,id3".
    #[arg(long)]
    pub task: Option<TaskId>,
    /// Number of variables s.
    #[arg(long, default_value_t = 8)]
    pub s: usize,
    /// Bits per variable d.
    #[arg(long, default_value_t = 8)]
    pub d: usize,
}

impl TaskArgs {
    /// The id given, or repeat copy for `d` bits.
    pub fn id_or_repeat_copy(&self) -> TaskId {
        self.task.unwrap_or(TaskId::repeat_copy(self.d))
    }
}

/// Prints the summary as the last stdout line, or the error on stderr with a failing exit code.
pub fn finish(result: Result<serde_json::Value>) -> std::process::ExitCode {
    match result {
        Ok(summary) => {
            println!("{summary}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
