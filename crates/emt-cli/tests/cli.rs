//! The `emt` binary, run as a user would: every subcommand once on small inputs, its last
//! stdout line parsed as JSON; `simulate` against PyTorch's numbers; plot files checked by
//! signature and size; bad paths and files rejected with messages that name them.

use std::path::{Path, PathBuf};
use std::process::Command;

use emt_core::io::{Tensors, tensors_to_safetensors};
use ndarray::ArrayD;
use serde_json::Value;

fn emt(args: &[&str]) -> (bool, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_emt")).args(args).output().expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return (false, Value::Null, stderr);
    }
    let last = stdout.lines().last().unwrap_or_default();
    let json = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("last line of `emt {args:?}` is not JSON ({e}): {last:?}"));
    (true, json, stderr)
}

fn ok(args: &[&str]) -> Value {
    let (success, json, stderr) = emt(args);
    assert!(success, "`emt {}` failed: {stderr}", args.join(" "));
    json
}

fn fails(args: &[&str]) -> String {
    let (success, _, stderr) = emt(args);
    assert!(!success, "`emt {}` should fail", args.join(" "));
    stderr
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("emt-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn train_log_checkpoint_and_plots() {
    let d = dir("train");
    let (model, log) = (d.join("rc.safetensors"), d.join("run.jsonl"));
    let j = ok(&[
        "train",
        "--s",
        "3",
        "--d",
        "3",
        "--hidden",
        "16",
        "--max-steps",
        "60",
        "--threads",
        "1",
        "--out",
        s(&model),
        "--log",
        s(&log),
        "--log-every",
        "5",
        "--checkpoint-every",
        "20",
    ]);
    assert_eq!((j["steps"].as_u64(), j["task"].as_str(), j["log"].as_str()), (Some(60), Some("7,0,0"), Some(s(&log))));
    for key in ["train_seconds", "steps_per_second", "eval_accuracy", "final_loss"] {
        assert!(j[key].is_number(), "{key}: {j}");
    }
    let lines: Vec<Value> =
        std::fs::read_to_string(&log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.iter().filter(|v| v["event"] == "step").count(), 13, "steps 1, 5, 10, ..., 60");
    assert_eq!(lines.last().unwrap()["event"], "eval", "the final evaluation is logged");
    let file = emt_core::cells::ModelFile::load(&model).unwrap();
    assert_eq!((file.model.kind().name(), file.dtype.name(), file.meta.step), ("elman", "f32", Some(60)));

    for ext in ["png", "svg"] {
        let out = d.join(format!("training.{ext}"));
        let j = ok(&["plot", "training", "--log", s(&log), "--out", s(&out)]);
        assert_eq!(j["format"], ext);
        check_figure(&out);
        for kind in ["spectrum", "phi", "memory"] {
            let out = d.join(format!("{kind}.{ext}"));
            let j = ok(&["plot", kind, "--weights", s(&model), "--out", s(&out)]);
            assert_eq!(j["plot"], kind);
            check_figure(&out);
        }
    }
    assert!(
        fails(&["plot", "spectrum", "--weights", s(&model), "--out", s(&d.join("x.jpg"))]).contains(".png or .svg")
    );
}

fn check_figure(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.len() > 10_000, "{} has only {} bytes", path.display(), bytes.len());
    if path.extension().unwrap() == "png" {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    } else {
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"), "{}", path.display());
        assert!(
            text.contains("@font-face") && text.contains("font-family=\"emt-sans\""),
            "font embedded in {}",
            path.display()
        );
        assert!(!text.contains("font-family=\"sans-serif\""), "no text falls back to a system font");
    }
}

#[test]
fn plant_analyze_and_circuit() {
    let d = dir("plant");
    let model = d.join("planted.safetensors");
    let j = ok(&["plant", "--task", "15,0,0", "--s", "4", "--d", "4", "--hidden", "24", "--out", s(&model)]);
    assert_eq!((j["hidden"].as_u64(), j["basis"].as_str()), (Some(24), Some("random")));
    let basis = d.join("basis.safetensors");
    let j = ok(&["analyze", "--weights", s(&model), "--save", s(&basis)]);
    assert_eq!(j["coordinates"].as_u64(), Some(16));
    assert!(j["phi_error"].as_f64().unwrap() < 1e-8, "{j}");
    assert!(Tensors::read(&basis).unwrap().tensors.contains_key("phi_emp"));
    // A planted repeat copy (linear circuit exact): the dual recursion and least squares read
    // the memory perfectly; the paper's method fails on a random basis (docs/EMT.md §4) and reads less.
    assert_eq!(j["decoding_accuracy"].as_f64(), Some(1.0), "{j}");
    assert_eq!(j["decoding_by_slot"].as_array().unwrap().len(), 4);
    for m in ["dual", "least_squares"] {
        assert_eq!(j["methods"][m]["decoding_accuracy"].as_f64(), Some(1.0), "{m}: {j}");
    }
    assert!(j["methods"]["least_squares"]["max_closure_residual"].as_f64().unwrap() < 1e-3, "{j}");
    assert!(j["methods"]["paper"]["decoding_accuracy"].as_f64().unwrap() < 1.0, "{j}");
    let j = ok(&["analyze", "--weights", s(&model), "--method", "least-squares"]);
    assert_eq!((j["method"].as_str(), j["decoding_accuracy"].as_f64()), (Some("least_squares"), Some(1.0)));
    let fig = d.join("decoding.svg");
    let j = ok(&["plot", "decoding", "--weights", s(&model), "--out", s(&fig)]);
    assert_eq!(j["decoding_accuracy"]["dual"].as_f64(), Some(1.0));
    check_figure(&fig);
    let j = ok(&["circuit", "--task", "15,0,0", "--s", "4", "--d", "4", "--horizon", "50", "--batch", "8"]);
    let c = &j["circuits"][0];
    assert_eq!((c["linear_realizable"].as_bool(), c["tanh_accuracy"].as_f64()), (Some(true), Some(1.0)));
}

/// Writes one case of a PyTorch fixture as a model file (prefix stripped) and an inputs file.
fn split_fixture(fixture: &str, case: &str, cell: &str, d: &Path) -> (PathBuf, PathBuf, Tensors) {
    let t =
        Tensors::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../emt-rnn/tests/fixtures").join(fixture)).unwrap();
    let pick = |names: &[&str]| -> Vec<(String, ArrayD<f64>)> {
        names.iter().filter_map(|n| t.tensors.get(&format!("{case}.{n}")).map(|a| (n.to_string(), a.clone()))).collect()
    };
    let write = |path: &Path, list: Vec<(String, ArrayD<f64>)>, meta: &[(&str, &str)]| {
        let views: Vec<(&str, _)> = list.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
        let meta = meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        std::fs::write(path, tensors_to_safetensors(&views, &meta).unwrap()).unwrap();
    };
    let (model, inputs) =
        (d.join(format!("{cell}-{case}.safetensors")), d.join(format!("{cell}-{case}-inputs.safetensors")));
    let params = pick(&["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight", "bias"]);
    // The GRU file carries no `cell` key: a PyTorch state dict is recognised by its (3N, N) shapes.
    write(&model, params, if cell == "elman" { &[("cell", "elman")] } else { &[] });
    write(&inputs, pick(&["inputs"]), &[]);
    (model, inputs, t)
}

#[test]
fn simulate_reproduces_pytorch_elman_and_gru() {
    let d = dir("simulate");
    for (fixture, cell) in [("torch_elman.safetensors", "elman"), ("torch_gru.safetensors", "gru")] {
        for case in ["nobias", "bias"] {
            let (model, inputs, t) = split_fixture(fixture, case, cell, &d);
            let out = d.join(format!("{cell}-{case}-out.safetensors"));
            let j = ok(&["simulate", "--weights", s(&model), "--inputs", s(&inputs), "--out", s(&out)]);
            assert_eq!(
                (j["cell"].as_str(), j["steps"].as_u64(), j["batch"].as_u64(), j["state_dim"].as_u64()),
                (Some(cell), Some(6), Some(2), Some(5))
            );
            assert_eq!(j["out"].as_str(), Some(s(&out)));
            let y = Tensors::read(&out).unwrap();
            for name in ["hidden", "outputs"] {
                let (got, want) = (&y.tensors[name], &t.tensors[&format!("{case}.{name}")]);
                assert_eq!(got.shape(), want.shape());
                let err = got.iter().zip(want.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                assert!(err < 1e-10, "{cell} {case} {name}: {err:e}");
                assert_eq!(y.dtypes[name], "f64", "written in the model file's dtype");
            }
        }
    }
}

#[test]
fn bad_paths_and_files_are_named() {
    let d = dir("bad");
    let e = fails(&[
        "train",
        "--s",
        "2",
        "--d",
        "2",
        "--hidden",
        "8",
        "--max-steps",
        "5",
        "--out",
        "/no/such/dir/w.safetensors",
    ]);
    assert!(e.contains("/no/such/dir/w.safetensors"), "{e}");
    let e = fails(&["analyze", "--weights", s(&d.join("missing.safetensors"))]);
    assert!(e.contains("missing.safetensors"), "{e}");
    let junk = d.join("junk.safetensors");
    std::fs::write(&junk, b"this is not a safetensors file").unwrap();
    let e = fails(&["simulate", "--weights", s(&junk), "--inputs", s(&junk), "--out", s(&d.join("y.safetensors"))]);
    assert!(e.contains("junk.safetensors"), "{e}");
    // A GRU file given to an Elman-only command says what it holds.
    let (gru, inputs, _) = split_fixture("torch_gru.safetensors", "bias", "gru", &d);
    let e = fails(&["analyze", "--weights", s(&gru)]);
    assert!(e.contains("gru model"), "{e}");
    // Inputs of the wrong width name the tensor and the shape.
    let e = fails(&["simulate", "--weights", s(&gru), "--inputs", s(&gru), "--out", s(&d.join("y.safetensors"))]);
    assert!(e.contains("inputs"), "{e}");
    let _ = inputs;
}

#[test]
fn lyapunov_of_a_ctgru_cycle_and_its_plot() {
    use emt_core::cells::{CtGruWeights, Model, ModelFile};
    let d = dir("lyapunov");
    let (c, sn) = (std::f64::consts::FRAC_PI_4.cos(), std::f64::consts::FRAC_PI_4.sin());
    let mut u = ndarray::Array2::zeros((6, 2));
    u.slice_mut(ndarray::s![4.., ..]).assign(&(ndarray::array![[c, -sn], [sn, c]] * 4.0));
    let model = d.join("ctgru.safetensors");
    ModelFile::new(Model::CtGru(CtGruWeights::new(u, None, None, 0.1, None).unwrap())).save(&model).unwrap();
    let j = ok(&["lyapunov", "--weights", s(&model), "--steps", "30000", "--transient", "3000", "--dt", "0.01"]);
    let ex: Vec<f64> = j["exponents"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    // docs/DYNAMICS.md §9: a stable cycle with multiplier 0.0375 and period 12.8325.
    assert!(ex[0].abs() < 0.02 && (ex[1] - 0.0375f64.ln() / 12.8325).abs() < 0.01, "{ex:?}");
    assert_eq!((j["time_unit"].as_str(), j["cell"].as_str(), j["k"].as_u64()), (Some("time"), Some("ctgru"), Some(2)));
    assert!(j["sum"].is_number() && j["lambda_max_two_trajectories"].is_number() && j.get("kaplan_yorke").is_some());
    // The run settles on the stable cycle: T = 12.8325, multiplier 0.0375 (docs/DYNAMICS.md §9).
    let j = ok(&["cycle", "--weights", s(&model)]);
    assert_eq!((j["kind"].as_str(), j["time_unit"].as_str()), (Some("limit_cycle"), Some("time")), "{j}");
    assert!((j["period"].as_f64().unwrap() - 12.8325).abs() < 1e-3, "{j}");
    let mult = j["floquet"][0].as_array().unwrap()[0].as_f64().unwrap();
    assert!((mult - 0.0375).abs() < 5e-4 && j["pc_variance"].as_array().unwrap().len() == 2, "{j}");
    assert!((j["trivial_multiplier"][0].as_f64().unwrap() - 1.0).abs() < 1e-6);
    // Fixed points: the origin only, an unstable focus 0.2071 +- 0.7071i (docs/DYNAMICS.md §9).
    let j = ok(&["fixed-points", "--weights", s(&model), "--starts", "16"]);
    assert_eq!((j["count"].as_u64(), j["stable_count"].as_u64()), (Some(1), Some(0)), "{j}");
    let fp = &j["fixed_points"][0];
    let lead: Vec<f64> = fp["leading_eigenvalue"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let h = std::f64::consts::FRAC_1_SQRT_2;
    assert!((lead[0] - (h - 0.5)).abs() < 1e-9 && (lead[1].abs() - h).abs() < 1e-9, "{lead:?}");
    assert_eq!((fp["unstable_dims"].as_u64(), fp["stable"].as_bool()), (Some(2), Some(false)));
    assert!(fp["residual"].as_f64().unwrap() < 1e-20 && fp["state"].as_array().unwrap().len() == 2);
    let bad = d.join("input.safetensors");
    std::fs::write(
        &bad,
        tensors_to_safetensors(&[("input", ndarray::Array1::<f64>::zeros(3).into_dyn().view())], &Default::default())
            .unwrap(),
    )
    .unwrap();
    assert!(fails(&["fixed-points", "--weights", s(&model), "--input", s(&bad)]).contains("input"));
    for ext in ["png", "svg"] {
        let out = d.join(format!("fixed-points.{ext}"));
        let j = ok(&["plot", "fixed-points", "--weights", s(&model), "--starts", "8", "--out", s(&out)]);
        assert_eq!((j["count"].as_u64(), j["plot"].as_str()), (Some(1), Some("fixed-points")));
        check_figure(&out);
    }
    for ext in ["png", "svg"] {
        let out = d.join(format!("lyapunov.{ext}"));
        let j = ok(&["plot", "lyapunov", "--weights", s(&model), "--steps", "5000", "--out", s(&out)]);
        assert_eq!(j["time_unit"], "time");
        check_figure(&out);
    }
}

#[test]
fn phase_shifts_of_pulses_on_an_oscillating_ctgru() {
    use emt_core::cells::{CtGruWeights, Model, ModelFile};
    let d = dir("phase");
    let (c, sn) = (std::f64::consts::FRAC_PI_4.cos(), std::f64::consts::FRAC_PI_4.sin());
    let mut u = ndarray::Array2::zeros((6, 2));
    u.slice_mut(ndarray::s![4.., ..]).assign(&(ndarray::array![[c, -sn], [sn, c]] * 4.0));
    // The input drives the candidate of unit 1 only.
    let mut w_ih = ndarray::Array2::zeros((6, 1));
    w_ih[[4, 0]] = 1.0;
    let model = d.join("ctgru-in.safetensors");
    ModelFile::new(Model::CtGru(CtGruWeights::new(u, Some(w_ih), None, 0.1, None).unwrap())).save(&model).unwrap();
    let pulses = d.join("pulses.safetensors");
    let (a, b, z) = (ndarray::array![2.0], ndarray::array![-2.0], ndarray::array![0.0]);
    let list = [("A", a.view().into_dyn()), ("B", b.view().into_dyn()), ("Z", z.view().into_dyn())];
    std::fs::write(&pulses, tensors_to_safetensors(&list, &Default::default()).unwrap()).unwrap();
    let j = ok(&["phase", "--weights", s(&model), "--pulses", s(&pulses), "--arrivals", "8"]);
    // The Euler map (dt = 0.1) of the flow's cycle (T = 12.83) turns once in ~128 steps.
    let period = j["period"].as_f64().unwrap();
    assert!((110.0..150.0).contains(&period), "{j}");
    let shift = |k: &str| j["shifts"][k].as_f64().unwrap();
    assert!(shift("Z").abs() < 1e-9 && j["spread"]["Z"].as_f64().unwrap() < 1e-6, "a zero pulse shifts nothing: {j}");
    assert!(shift("A").abs() > 1e-3 && shift("B").abs() > 1e-3, "{j}");
    // A pulse file whose vectors do not fit the input is named.
    let wrong = d.join("wrong.safetensors");
    let two = ndarray::array![1.0, 2.0];
    std::fs::write(&wrong, tensors_to_safetensors(&[("A", two.view().into_dyn())], &Default::default()).unwrap())
        .unwrap();
    assert!(fails(&["phase", "--weights", s(&model), "--pulses", s(&wrong)]).contains("A"));
}

#[test]
fn train_every_cell_writes_its_model_file() {
    let d = dir("cells");
    let ff = d.join("ff.safetensors");
    let j = ok(&[
        "train",
        "--cell",
        "ctrnn",
        "--alpha",
        "0.5",
        "--noise",
        "0.05",
        "--rate-penalty",
        "1e-4",
        "--bias",
        "--flipflop",
        "2",
        "--p-flip",
        "0.1",
        "--horizon",
        "40",
        "--hidden",
        "32",
        "--lr",
        "0.01",
        "--max-steps",
        "400",
        "--threads",
        "1",
        "--optimizer",
        "adamw",
        "--weight-decay",
        "1e-4",
        "--out",
        s(&ff),
    ]);
    assert_eq!(
        (j["cell"].as_str(), j["task"].as_str(), j["alpha"].as_f64()),
        (Some("ctrnn"), Some("flipflop"), Some(0.5))
    );
    assert!(j["eval_accuracy"].as_f64().unwrap() > 0.95, "{j}");
    let file = emt_core::cells::ModelFile::load(&ff).unwrap();
    match &file.model {
        emt_core::cells::Model::CtRnn(w) => assert_eq!(w.alpha(), 0.5),
        m => panic!("expected a ctrnn, got {:?}", m.kind()),
    }
    // The analysis tools take the trained file.
    let c = ok(&["cycle", "--weights", s(&ff)]);
    assert_eq!(c["cell"], "ctrnn");
    for (cell, extra) in [("gru", None), ("ctgru", Some(("--dt", "0.5"))), ("elman", None)] {
        let out = d.join(format!("{cell}.safetensors"));
        let mut args = vec![
            "train",
            "--cell",
            cell,
            "--s",
            "2",
            "--d",
            "2",
            "--hidden",
            "8",
            "--max-steps",
            "20",
            "--threads",
            "2",
            "--out",
            s(&out),
        ];
        if let Some((k, v)) = extra {
            args.extend([k, v]);
        }
        let j = ok(&args);
        assert_eq!(j["cell"], cell);
        assert_eq!(emt_core::cells::ModelFile::load(&out).unwrap().model.kind().name(), cell);
    }
    let bad = fails(&[
        "train",
        "--cell",
        "ctrnn",
        "--alpha",
        "1.5",
        "--max-steps",
        "5",
        "--out",
        s(&d.join("x.safetensors")),
    ]);
    assert!(bad.contains("alpha"), "{bad}");
    let bad =
        fails(&["train", "--cell", "gru", "--noise", "0.1", "--max-steps", "5", "--out", s(&d.join("x.safetensors"))]);
    assert!(bad.contains("noise"), "{bad}");
}

/// Issue 11: the handcrafted Z3 oscillator of docs/DYNAMICS.md §7, written as a model file, through
/// `emt phase`: shifts +2pi/3 (G), -2pi/3 (P), 0 (R) with no spread, period 25 steps.
#[test]
fn z3_oscillator_model_file_through_emt_phase() {
    use emt_core::cells::{Model, ModelFile, OscillatorWeights};
    let d = dir("z3");
    let v = emt_testkit::gaussian(3, 100, 7);
    let osc = OscillatorWeights::z3(v.view(), 2, 2.0 * std::f64::consts::PI / 25.0, 0.5).unwrap();
    let model = d.join("z3.safetensors");
    ModelFile::new(Model::Oscillator(osc)).save(&model).unwrap();
    let pulses = d.join("colours.safetensors");
    let (g, p, r) = (v.row(0).to_owned(), v.row(1).to_owned(), v.row(2).to_owned());
    let list = [("G", g.view().into_dyn()), ("P", p.view().into_dyn()), ("R", r.view().into_dyn())];
    std::fs::write(&pulses, tensors_to_safetensors(&list, &Default::default()).unwrap()).unwrap();
    let j = ok(&["phase", "--weights", s(&model), "--pulses", s(&pulses), "--arrivals", "25"]);
    let third = 2.0 * std::f64::consts::PI / 3.0;
    assert!((j["period"].as_f64().unwrap() - 25.0).abs() < 1e-6, "{j}");
    for (k, want) in [("G", third), ("P", -third), ("R", 0.0)] {
        let got = j["shifts"][k].as_f64().unwrap();
        assert!((got - want).abs() < 1e-6, "{k}: {got} vs {want}: {j}");
        assert!(j["spread"][k].as_f64().unwrap() < 1e-6, "{k}: {j}");
    }
    assert_eq!(j["cell"], "oscillator");
    // The same file through `emt cycle`: an invariant circle / orbit of period 25.
    let c = ok(&["cycle", "--weights", s(&model)]);
    assert!((c["period"].as_f64().unwrap() - 25.0).abs() < 1e-3, "{c}");
}

/// `emt sweep-param` on the rotation ctgru: a Hopf point of the origin at U_h[0,0] = 4 - 2 sqrt 2
/// (the trace of (1/2)((1/2) U_h - I) vanishes), the per-value JSON lines, the bifurcation
/// diagram, and errors naming bad parameters.
#[test]
fn sweep_param_finds_the_hopf_point_and_draws_the_diagram() {
    use emt_core::cells::{CtGruWeights, Model, ModelFile};
    let d = dir("sweep");
    let c = std::f64::consts::FRAC_PI_4.cos() * 4.0;
    let mut u = ndarray::Array2::zeros((6, 2));
    u.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -c], [c, c]]);
    let model = d.join("rot.safetensors");
    ModelFile::new(Model::CtGru(CtGruWeights::new(u, None, None, 0.1, None).unwrap())).save(&model).unwrap();
    let args = [
        "sweep-param",
        "--weights",
        s(&model),
        "--param",
        "weight_hh_l0[4,0]",
        "--from",
        "0",
        "--to",
        "2",
        "--steps",
        "5",
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_emt")).args(args).arg("--continuation").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 6, "5 values and the summary");
    assert_eq!(lines[0]["attractor"], "fixed_point");
    assert_eq!(lines[4]["attractor"], "limit_cycle");
    assert!(lines[4]["period"].as_f64().unwrap() > 9.0);
    let summary = &lines[5];
    let hopf = &summary["bifurcations"][0];
    assert_eq!(hopf["kind"], "hopf");
    let truth = 4.0 - 2.0 * 2f64.sqrt();
    assert!((hopf["parameter"].as_f64().unwrap() - truth).abs() < 1e-6, "{summary}");
    assert!(summary["branches"][0]["points"].as_array().unwrap().len() > 5);
    let jsonl = d.join("sweep.jsonl");
    std::fs::write(&jsonl, &text).unwrap();
    for ext in ["png", "svg"] {
        let fig = d.join(format!("bifurcation.{ext}"));
        let j = ok(&["plot", "bifurcation", "--sweep", s(&jsonl), "--out", s(&fig)]);
        assert_eq!(j["values"], 5);
        check_figure(&fig);
    }
    // A metadata constant sweeps too (dt does not move a flow's fixed points).
    let j =
        ok(&["sweep-param", "--weights", s(&model), "--param", "dt", "--from", "0.05", "--to", "0.2", "--steps", "2"]);
    assert_eq!(j["bifurcations"].as_array().unwrap().len(), 0);
    for (bad, says) in [
        ("nope[0]", "weight_hh_l0"),
        ("weight_hh_l0[12]", "out of range"),
        ("weight_hh_l0[6,0]", "out of range"),
        ("dt[0]", "no index"),
        ("weight_hh_l0", "needs an index"),
    ] {
        let e =
            fails(&["sweep-param", "--weights", s(&model), "--param", bad, "--from", "0", "--to", "1", "--steps", "2"]);
        assert!(e.contains(says), "{bad}: {e}");
    }
    let garbage = d.join("garbage.jsonl");
    std::fs::write(&garbage, "{\"parameter\": 1}\n").unwrap();
    assert!(fails(&["plot", "bifurcation", "--sweep", s(&garbage), "--out", s(&d.join("x.png"))]).contains("summary"));
}

#[test]
fn prc_plot_of_the_z3_oscillator() {
    use emt_core::cells::{Model, ModelFile, OscillatorWeights};
    let d = dir("prcplot");
    let v = emt_testkit::gaussian(3, 10, 3);
    let model = d.join("z3.safetensors");
    let osc = OscillatorWeights::z3(v.view(), 2, 2.0 * std::f64::consts::PI / 20.0, 0.5).unwrap();
    ModelFile::new(Model::Oscillator(osc)).save(&model).unwrap();
    let pulses = d.join("colours.safetensors");
    let rows: Vec<ndarray::Array1<f64>> = (0..3).map(|k| v.row(k).to_owned()).collect();
    let list = [("G", rows[0].view().into_dyn()), ("P", rows[1].view().into_dyn()), ("R", rows[2].view().into_dyn())];
    std::fs::write(&pulses, tensors_to_safetensors(&list, &Default::default()).unwrap()).unwrap();
    for ext in ["png", "svg"] {
        let fig = d.join(format!("prc.{ext}"));
        let j = ok(&["plot", "prc", "--weights", s(&model), "--pulses", s(&pulses), "--out", s(&fig)]);
        assert!((j["shifts"]["G"].as_f64().unwrap() - 2.0 * std::f64::consts::PI / 3.0).abs() < 1e-6, "{j}");
        check_figure(&fig);
    }
}

fn tiny_spec(d: &Path) -> PathBuf {
    let spec = d.join("spec.json");
    std::fs::write(
        &spec,
        r#"{"tasks": ["3,0,0"], "s": 2, "d": 2, "hidden": [16], "l2": [0, 0.001], "threshold": [0.96],
            "seeds": [0, 1], "max_steps": 1500, "eval_batch": 64, "eval_horizon": 50}"#,
    )
    .unwrap();
    spec
}

fn result_keys(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["key"].as_str().unwrap().to_string())
        .collect()
}

/// Issue 13: a sweep of 4 tiny runs killed (SIGKILL) after the first result and restarted ends
/// with exactly 4 results and no duplicate.
#[test]
fn sweep_survives_kill_9_and_resumes() {
    let d = dir("sweep-kill");
    let spec = tiny_spec(&d);
    let out = d.join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_emt"))
        .args(["sweep", "--spec", s(&spec), "--out", s(&out), "--jobs", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let runs = out.join("runs");
    let count = || {
        std::fs::read_dir(&runs)
            .map_or(0, |r| r.filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json")).count())
    };
    let start = std::time::Instant::now();
    while count() == 0 {
        assert!(start.elapsed().as_secs() < 120, "no run finished");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = count();
    assert!(at_kill < 4, "every run had finished before the kill: the test would not test resuming");
    let j = ok(&["sweep", "--spec", s(&spec), "--out", s(&out), "--jobs", "2"]);
    assert_eq!((j["done"].as_u64(), j["skipped"].as_u64()), (Some(4), Some(at_kill as u64)), "{j}");
    let mut keys = result_keys(&out);
    assert_eq!(keys.len(), 4);
    keys.dedup();
    assert_eq!(keys.len(), 4, "no duplicates");
    // No temporary file is left behind as a result.
    assert_eq!(count(), 4);
    let t = ok(&["table", "--results", s(&out.join("results.jsonl")), "--markdown", s(&d.join("R.md")), "--decoding"]);
    assert_eq!(t["rows"].as_array().unwrap().len(), 2);
    let dec = t["rows"][0]["decoding"]["dual"][0][0].as_f64().unwrap();
    assert!((0.5..=1.0).contains(&dec), "{t}");
    let md = std::fs::read_to_string(d.join("R.md")).unwrap();
    assert!(md.contains("<!-- emt table: begin -->") && md.contains("<!-- emt decoding: begin -->"));
}

/// `--shard i/n` slices partition the grid (two shards in two directories, merged), and the
/// emitted Slurm scripts are valid bash naming every shard.
#[test]
fn sweep_shards_merge_and_slurm_scripts() {
    let d = dir("sweep-shard");
    let spec = tiny_spec(&d);
    let (a, b, all) = (d.join("a"), d.join("b"), d.join("all"));
    let ja = ok(&["sweep", "--spec", s(&spec), "--out", s(&a), "--shard", "0/2", "--jobs", "2"]);
    let jb = ok(&["sweep", "--spec", s(&spec), "--out", s(&b), "--shard", "1/2", "--jobs", "2"]);
    assert_eq!((ja["ran"].as_u64(), jb["ran"].as_u64()), (Some(2), Some(2)));
    let (ka, kb) = (result_keys(&a), result_keys(&b));
    assert!(ka.iter().all(|k| !kb.contains(k)), "shards are disjoint");
    let m = ok(&["sweep", "--merge", "--out", s(&all), "--from", s(&a), "--from", s(&b)]);
    assert_eq!(m["done"], 4);
    assert_eq!(result_keys(&all).len(), 4);
    let slurm = d.join("slurm");
    let j = ok(&["sweep", "--spec", s(&spec), "--out", s(&all), "--emit-slurm", s(&slurm), "--slurm-shards", "3"]);
    assert_eq!(j["shards"], 3);
    for name in ["sweep.sbatch", "merge.sbatch", "submit.sh"] {
        let status = Command::new("bash").args(["-n", s(&slurm.join(name))]).status().unwrap();
        assert!(status.success(), "{name} is not valid bash");
    }
    let script = std::fs::read_to_string(slurm.join("sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-2"), "{script}");
    for i in 0..3 {
        assert!(script.contains(&format!("shard {i}/3")), "shard {i} named: {script}");
    }
    assert!(script.contains("--shard \"${SLURM_ARRAY_TASK_ID}/3\""));
    for (bad, says) in
        [("{}", "missing \"s\""), (r#"{"tasks": ["1,0,0"], "s": 2, "d": 2, "max_steps": 5}"#, "task \"1,0,0\"")]
    {
        let p = d.join("bad.json");
        std::fs::write(&p, bad).unwrap();
        let e = fails(&["sweep", "--spec", s(&p), "--out", s(&d.join("x"))]);
        assert!(e.contains(says) && e.contains("bad.json"), "{e}");
    }
}

/// Issue 12: `emt reproduce phase-codes --quick` trains one network per alpha, analyses it, and
/// reports the contract keys; the handcrafted oscillator gets all 27 sequences right.
#[test]
fn reproduce_phase_codes_quick() {
    let d = dir("phase-codes");
    let out = Command::new(env!("CARGO_BIN_EXE_emt"))
        .args(["reproduce", "phase-codes", "--quick", "--out", s(&d)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "two networks and the summary");
    for net in &lines[..2] {
        for key in
            ["alpha", "seed", "steps", "test_accuracy", "attractor", "fixed_points", "stable_fixed_points", "weights"]
        {
            assert!(net.get(key).is_some(), "{key}: {net}");
        }
        let file = emt_core::cells::ModelFile::load(net["weights"].as_str().unwrap()).unwrap();
        assert!(file.h0.as_ref().is_some_and(|h| h.iter().all(|&v| v == 1.0)), "h0 = ones is saved");
    }
    let summary = &lines[2];
    assert_eq!(summary["oscillator_correct"], 27);
    for alpha in ["alpha_1", "alpha_0.1"] {
        for key in ["trained", "solved", "oscillatory", "attractive", "z3", "fsa_z3"] {
            assert!(summary["networks"][alpha][key].is_u64(), "{alpha}.{key}: {summary}");
        }
    }
    // Alpha = 0.1 learns the task within the quick budget (seed 0: 266 steps), and a solved
    // network gets its automaton extracted.
    assert_eq!(summary["networks"]["alpha_0.1"]["solved"], 1, "{summary}");
    let solved = &lines[1];
    for key in ["states", "minimal_states", "start", "transitions", "accept_states", "verdicts_match", "z3"] {
        assert!(solved["fsa"].get(key).is_some(), "fsa.{key}: {solved}");
    }
    assert!(summary["networks"]["alpha_0.1"]["fsa_z3"].is_u64());
    // The attractive solution's memory between cards: every labelling is decoded above chance
    // somewhere, and the keys are there with the right class counts.
    assert_eq!(solved["attractor"], "fixed_point", "{solved}");
    let pd = &solved["prefix_decoding"];
    for (moment, classes) in [("after_1", [3, 3, 3]), ("after_2", [3, 6, 9])] {
        for (key, c) in ["sum_mod3", "multiset", "ordered"].iter().zip(classes) {
            let e = &pd[moment][key];
            assert_eq!(e["classes"], c, "{moment}.{key}: {pd}");
            for side in ["raw", "relaxed"] {
                let acc = e[side].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&acc), "{moment}.{key}.{side}: {pd}");
            }
        }
    }
    // After one card all three labellings are the card itself: the state must hold it.
    assert!(pd["after_1"]["ordered"]["raw"].as_f64().unwrap() > 0.9, "{pd}");
    // The saved test trials draw their end states on the model's portrait.
    let trials = d.join("trials_seed0.safetensors");
    let t = Tensors::read(&trials).unwrap();
    assert_eq!(t.tensors["inputs"].shape(), &[50, 27, 100]);
    assert_eq!(t.tensors["accept"].iter().filter(|&&v| v == 1.0).count(), 9);
    let fig = d.join("ends.svg");
    let weights = solved["weights"].as_str().unwrap();
    fn plot<'a>(weights: &'a str, trials: &'a Path, fig: &'a Path) -> [&'a str; 10] {
        ["plot", "fixed-points", "--weights", weights, "--starts", "8", "--trials", s(trials), "--out", s(fig)]
    }
    let j = ok(&plot(weights, &trials, &fig));
    assert_eq!(j["trials"], 27, "{j}");
    check_figure(&fig);
    let bad = d.join("bad_trials.safetensors");
    std::fs::write(&bad, b"not a safetensors file").unwrap();
    let e = fails(&plot(weights, &bad, &fig));
    assert!(e.contains("bad_trials.safetensors"), "{e}");
    // The count-lattice automaton over the raw states between cards: one start state, layers
    // in order, and its figure (also redrawn by `emt plot fsa` from the saved lines).
    let lattice = &solved["lattice_fsa"];
    for key in ["states", "transitions", "verdicts_match", "shape", "count_purity", "count_purity_by_moment"] {
        assert!(lattice.get(key).is_some(), "lattice_fsa.{key}: {lattice}");
    }
    let per_moment = lattice["shape"]["states_per_moment"].as_array().unwrap();
    assert_eq!(per_moment[0], 1, "{lattice}");
    assert_eq!(lattice["count_purity_by_moment"][0], 1.0, "{lattice}");
    assert!((1..=3).all(|m| per_moment[m].as_u64().unwrap() >= 1), "{lattice}");
    check_figure(&d.join("fsa_alpha0.1_seed0.png"));
    check_figure(&d.join("lattice_alpha0.1_seed0.png"));
    let jsonl = d.join("phase_codes.jsonl");
    std::fs::write(&jsonl, &text).unwrap();
    for key in ["fsa", "lattice_fsa"] {
        let fig = d.join(format!("{key}.svg"));
        let j = ok(&[
            "plot",
            "fsa",
            "--summary",
            s(&jsonl),
            "--alpha",
            "0.1",
            "--seed",
            "0",
            "--key",
            key,
            "--out",
            s(&fig),
        ]);
        assert_eq!(j["states"], solved[key]["states"], "{j}");
        check_figure(&fig);
    }
    let e = fails(&["plot", "fsa", "--summary", s(&jsonl), "--alpha", "0.1", "--seed", "7", "--out", s(&fig)]);
    assert!(e.contains("seed 7"), "{e}");
    // A corrupt automaton is named, not drawn (and never a panic).
    let corrupt = d.join("corrupt.jsonl");
    std::fs::write(&corrupt, r#"{"alpha": 1.0, "seed": 3, "fsa": {"states": 0, "start": 0, "transitions": []}}"#)
        .unwrap();
    let e = fails(&["plot", "fsa", "--summary", s(&corrupt), "--alpha", "1", "--seed", "3", "--out", s(&fig)]);
    assert!(e.contains("corrupt.jsonl") && e.contains("start state 0"), "{e}");
}

/// Issue 12: `emt reproduce gating --quick`: the zero state's spectrum equals docs/DYNAMICS.md §8's
/// formula and its stability flips at the derived boundary; the contract keys are there.
#[test]
fn reproduce_gating_quick() {
    let fig = dir("gating").join("gating.svg");
    let j = ok(&["reproduce", "gating", "--quick", "--figure", s(&fig)]);
    check_figure(&fig);
    for z in j["zero_state"].as_array().unwrap() {
        let checks = z["checks"].as_array().unwrap();
        assert!(checks.iter().all(|c| c["formula_error"].as_f64().unwrap() < 1e-10), "{z}");
        assert_eq!((checks[0]["stable"].as_bool(), checks[1]["stable"].as_bool()), (Some(true), Some(false)), "{z}");
        assert!(z["g_star"].as_f64().unwrap() > 0.0 && z["predicted_large_n"].is_f64());
    }
    let t = j["timescales"].as_array().unwrap();
    assert_eq!(t.len(), 5);
    let frac = |k: usize| t[k]["near_zero_fraction"].as_f64().unwrap();
    assert!(frac(4) > frac(0), "eigenvalues pile up near 0 as alpha_z grows: {j}");
    assert!(t.iter().all(|e| e["lambda_max"].as_f64().is_some_and(f64::is_finite)), "{j}");
    for c in j["chaos"].as_array().unwrap() {
        for key in ["bias", "g_h", "alpha_r", "lambda_max", "participation_ratio"] {
            assert!(c.get(key).is_some(), "{key}");
        }
    }
    for t in j["transition"].as_array().unwrap() {
        for key in [
            "n",
            "alpha_r",
            "lambda_max",
            "onset_alpha_r",
            "largest_step",
            "largest_step_at",
            "lambda_max_sd",
            "lambda_max_by_seed",
            "verdict",
        ] {
            assert!(t.get(key).is_some(), "transition.{key}");
        }
        // --quick averages 2 coupling draws; the mean is theirs.
        let by_seed = t["lambda_max_by_seed"].as_array().unwrap();
        assert_eq!(by_seed.len(), 2);
        let mean0 = (by_seed[0][0].as_f64().unwrap() + by_seed[1][0].as_f64().unwrap()) / 2.0;
        assert!((t["lambda_max"][0].as_f64().unwrap() - mean0).abs() < 1e-12);
        assert!(["abrupt", "continuous", "undecided"].contains(&t["verdict"].as_str().unwrap()));
    }
    // The input-driven scan: the zero state's boundary per draw, and alone with --input-only.
    for t in j["input_transition"].as_array().unwrap() {
        assert_eq!(t["zero_state_boundary"].as_array().unwrap().len(), 2, "{t}");
        assert!(t.get("onset_b_r").is_some() && t["b_r"].as_array().unwrap().len() == 3, "{t}");
    }
    let fig = dir("gating").join("input.svg");
    let only = ok(&["reproduce", "gating", "--quick", "--input-only", "--figure", s(&fig)]);
    check_figure(&fig);
    assert_eq!(only["transition"].as_array().unwrap().len(), 0);
    assert_eq!(only["input_transition"], j["input_transition"], "the same scan either way");
    assert!(fails(&["reproduce", "gating", "--quick", "--input-max", "0"]).contains("--input-max"));
    // Fixed points along the input: every root checked on the full flow, the zero state always
    // among them (b_r moves the r-gate only, so h = 0 stays fixed).
    let fps = j["input_fixed_points"].as_array().unwrap();
    assert_eq!(fps.len(), 1, "{j}");
    for e in fps {
        assert!(e["max_residual"].as_f64().unwrap() < 1e-10, "{e}");
        assert!(e["max_flow_residual"].as_f64().unwrap() < 1e-9, "{e}");
        let found = e["fixed_points"].as_array().unwrap();
        assert_eq!(found.len(), 3, "{e}");
        assert!(found.iter().all(|c| c.as_u64().unwrap() >= 1), "{e}");
        for key in ["n", "b_r", "seeds", "stable", "converged", "largest_norm"] {
            assert!(e.get(key).is_some(), "input_fixed_points.{key}");
        }
    }
    assert_eq!(only["input_fixed_points"], j["input_fixed_points"]);
    // --grid replaces the phase diagram's (g_h, alpha_r) grid; a bad one names the bad value.
    let pd = dir("gating").join("phase.svg");
    let g = ok(&[
        "reproduce",
        "gating",
        "--quick",
        "--grid",
        "1.5,2.5x0,1,3",
        "--fp-seeds",
        "0",
        "--phase-diagram",
        s(&pd),
    ]);
    check_figure(&pd);
    let pts: Vec<(f64, f64)> = g["chaos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["bias"] == 0.0)
        .map(|c| (c["g_h"].as_f64().unwrap(), c["alpha_r"].as_f64().unwrap()))
        .collect();
    assert_eq!(pts, [(1.5, 0.0), (1.5, 1.0), (1.5, 3.0), (2.5, 0.0), (2.5, 1.0), (2.5, 3.0)]);
    assert_eq!(g["input_fixed_points"].as_array().unwrap().len(), 0, "--fp-seeds 0 skips the search");
    assert!(fails(&["reproduce", "gating", "--quick", "--grid", "1,2x0,-1"]).contains("alpha_r value -1"));
    assert!(fails(&["reproduce", "gating", "--quick", "--grid", "1,2"]).contains("g_h x alpha_r"));
    // Figure paths fail before any work; the phase diagram needs the grid.
    let e = fails(&["reproduce", "gating", "--quick", "--figure", "/nonexistent/dir/g.png"]);
    assert!(e.contains("/nonexistent/dir"), "{e}");
    let e = fails(&["reproduce", "gating", "--quick", "--input-only", "--phase-diagram", s(&pd)]);
    assert!(e.contains("--input-only"), "{e}");
}

/// Issue 12: `emt reproduce gru --quick`: certified fixed-point counts of random 2-D ctgrus are
/// all odd (the field points inward on the boundary of [-1, 1]^2, so the indices sum to 1), the
/// constructed U_h = 3 I network has 9 (4 stable), and the rotation network's cycle is stable.
#[test]
fn reproduce_gru_quick() {
    let d = dir("gru");
    let j = ok(&["reproduce", "gru", "--quick", "--out", s(&d)]);
    assert_eq!(j["undecided"], 0, "{j}");
    let hist = j["count_histogram"].as_object().unwrap();
    assert!(hist.keys().all(|k| k.parse::<usize>().unwrap() % 2 == 1), "{j}");
    assert_eq!(hist.values().map(|v| v.as_u64().unwrap()).sum::<u64>(), 200);
    assert_eq!(
        (j["constructed_u_h_3i"]["fixed_points"].as_u64(), j["constructed_u_h_3i"]["stable"].as_u64()),
        (Some(9), Some(4))
    );
    assert!((j["limit_cycle"]["period"].as_f64().unwrap() - 12.8325).abs() < 1e-3);
    // A saddle-node on the cycle: the period fit's critical value meets the located saddle-node.
    let snic = &j["snic"];
    assert_eq!(snic["found"], true, "{j}");
    let (sn, fit) = (snic["saddle_node"].as_f64().unwrap(), snic["fitted_critical"].as_f64().unwrap());
    assert!((sn - fit).abs() < 2e-3 && fit > sn, "{snic}");
    // The hand-built pseudo-line attractor: one fixed point, a finite slow stretch.
    let pl = &j["pseudo_line"];
    assert_eq!(pl["fixed_points"], 1, "{pl}");
    assert!(pl["stable"][0]["rates"][1].as_f64().unwrap() > -0.01, "{pl}");
    assert!(std::path::Path::new(pl["weights"].as_str().unwrap()).exists());
    // One 2-D ctgru trained on analog memory, with every key the summary promises.
    let net = &j["trained_lines"]["networks"][0];
    for key in
        ["mse", "explained", "max_error_by_delay", "rms_error_by_delay", "end_states", "runs_ending_at_stable_points"]
    {
        assert!(!net[key].is_null(), "{key}: {net}");
    }
    assert!(net["mse"].as_f64().unwrap() < 1.0 / 3.0, "better than answering 0: {net}");
    assert!(net["manifold"]["fixed_points"].as_u64().unwrap() % 2 == 1, "{net}");
    let periods: Vec<f64> = snic["periods"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(periods.windows(2).all(|w| w[1] > 1.25 * w[0]), "periods diverge like (p_c - p)^(-1/2): {periods:?}");
    let best = emt_core::cells::ModelFile::load(j["most_fixed_points"]["weights"].as_str().unwrap()).unwrap();
    assert_eq!(best.model.kind().name(), "ctgru");
    // The saved network's fixed points, found again by `emt fixed-points`.
    let fp = ok(&["fixed-points", "--weights", j["most_fixed_points"]["weights"].as_str().unwrap(), "--starts", "200"]);
    assert_eq!(fp["count"], j["most_fixed_points"]["fixed_points"], "{fp}");
}

/// A whole nn.Module's state dict (2-layer LSTM `rnn` + Linear `fc`), as torch saved it:
/// `emt simulate` reproduces torch's output from torch's (L, B, H) h0 / c0, and its `state`
/// seeds `emt fixed-points --init-states`, with one input per seed from `--inputs`.
#[test]
fn pytorch_module_dicts_simulate_and_seed_fixed_points() {
    let d = dir("torch-module");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../emt-core/tests/fixtures/torch_layers");
    let (model, io) = (format!("{fixtures}/module.safetensors"), format!("{fixtures}/module.io.safetensors"));
    let out = d.join("states.safetensors");
    let j = ok(&["simulate", "--weights", &model, "--inputs", &io, "--out", s(&out)]);
    assert_eq!(
        (j["cell"].as_str(), j["state_dim"].as_u64(), j["hidden_dim"].as_u64(), j["num_layers"].as_u64()),
        (Some("lstm"), Some(20), Some(5), Some(2))
    );
    let got = Tensors::read(&out).unwrap();
    let want = Tensors::read(&io).unwrap();
    let diff = |a: &ArrayD<f64>, b: &ArrayD<f64>| a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    assert_eq!(got.tensors["hidden"].shape(), &[7, 3, 5]);
    assert_eq!(got.tensors["state"].shape(), &[7, 3, 20]);
    assert!(diff(&got.tensors["hidden"], &want.tensors["output"]) < 1e-10);
    assert!(diff(&got.tensors["outputs"], &want.tensors["readout"]) < 1e-10);

    // Seeds sampled from those trajectories; two inputs, alternating over the 16 seeds.
    let inputs = ArrayD::from_shape_fn(vec![16, 3], |i| if i[0] % 2 == 0 { 0.0 } else { 0.3 });
    let inputs_file = d.join("inputs.safetensors");
    std::fs::write(&inputs_file, tensors_to_safetensors(&[("inputs", inputs.view())], &Default::default()).unwrap())
        .unwrap();
    let args =
        ["fixed-points", "--weights", &model, "--init-states", s(&out), "--starts", "16", "--inputs", s(&inputs_file)];
    let one = ok(&[&args[..], &["--threads", "1"]].concat());
    let two = ok(&[&args[..], &["--threads", "2"]].concat());
    assert_eq!(one, two, "the thread count changes nothing");
    assert_eq!(one["inputs"].as_u64(), Some(2));
    let points = one["fixed_points"].as_array().unwrap();
    assert!(points.iter().any(|p| p["input"][0].as_f64() == Some(0.0)));
    assert!(points.iter().any(|p| p["input"][0].as_f64() == Some(0.3)));
    assert!(
        points.iter().all(|p| p["state"].as_array().unwrap().len() == 20 && p["residual"].as_f64().unwrap() < 1e-12)
    );
    // One input per seed needs seeds of the same count; a relu file is never read as tanh.
    let e = fails(&["fixed-points", "--weights", &model, "--inputs", s(&inputs_file)]);
    assert!(e.contains("--init-states"), "{e}");
    let e = fails(&["fixed-points", "--weights", &format!("{fixtures}/relu.safetensors"), "--nonlinearity", "tanh"]);
    assert!(e.contains("nonlinearity = relu"), "{e}");
    let e = fails(&["simulate", "--weights", &model, "--prefix", "encoder", "--inputs", &io, "--out", s(&out)]);
    assert!(e.contains("encoder"), "{e}");
}

/// `emt train --cell lstm --flipflop 3` makes a flip-flop LSTM whose fixed points of [h; c]
/// are 8 stable ones, each reading out a different word (as the Elman flip-flop test finds).
#[test]
fn a_flip_flop_lstm_trained_by_emt_has_eight_stable_fixed_points() {
    let d = dir("lstm-flipflop");
    let ff = d.join("ff.safetensors");
    let j = ok(&[
        "train",
        "--cell",
        "lstm",
        "--bias",
        "--flipflop",
        "3",
        "--p-flip",
        "0.05",
        "--horizon",
        "100",
        "--hidden",
        "16",
        "--lr",
        "0.01",
        "--max-steps",
        "1500",
        "--threads",
        "2",
        "--seed",
        "0",
        "--out",
        s(&ff),
    ]);
    assert_eq!((j["cell"].as_str(), j["task"].as_str()), (Some("lstm"), Some("flipflop")));
    assert!(j["eval_accuracy"].as_f64().unwrap() > 0.99, "{j}");
    let file = emt_core::cells::ModelFile::load(&ff).unwrap();
    assert_eq!((file.model.kind(), file.model.state_dim()), (emt_core::cells::CellKind::Lstm, 32));
    let fp = ok(&["fixed-points", "--weights", s(&ff), "--threads", "2"]);
    assert_eq!(fp["stable_count"].as_u64(), Some(8), "{}", fp["count"]);
    let mut words: Vec<Vec<bool>> = fp["fixed_points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["stable"].as_bool() == Some(true))
        .map(|p| {
            let x: ndarray::Array1<f64> = p["state"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            let mut y = ndarray::Array1::zeros(3);
            file.model.cell().output_into(x.view(), y.view_mut());
            y.iter().map(|&v| v > 0.0).collect()
        })
        .collect();
    words.sort();
    words.dedup();
    assert_eq!(words.len(), 8);
}

/// `emt train --nonlinearity relu` trains a relu Elman and its file says so: reading it back
/// (or through `--nonlinearity tanh`, refused) can never turn it into tanh.
#[test]
fn a_relu_elman_trains_and_stays_relu() {
    let d = dir("relu");
    let out = d.join("relu.safetensors");
    let j = ok(&[
        "train",
        "--nonlinearity",
        "relu",
        "--bias",
        "--flipflop",
        "2",
        "--horizon",
        "40",
        "--hidden",
        "16",
        "--lr",
        "0.005",
        "--max-steps",
        "300",
        "--threads",
        "1",
        "--out",
        s(&out),
    ]);
    assert_eq!((j["cell"].as_str(), j["nonlinearity"].as_str()), (Some("elman"), Some("relu")));
    let file = emt_core::cells::ModelFile::load(&out).unwrap();
    assert_eq!(file.model.activation(), emt_core::Activation::Relu);
    let e = fails(&["cycle", "--weights", s(&out), "--nonlinearity", "tanh"]);
    assert!(e.contains("nonlinearity = relu"), "{e}");
    let e = fails(&["train", "--cell", "gru", "--nonlinearity", "relu", "--out", s(&d.join("x.safetensors"))]);
    assert!(e.contains("--nonlinearity"), "{e}");
}

/// Without --starts, a search of more than 256 unknowns keeps fewer seeds (their cost grows as
/// n^3; issue 23: the full recipe at n = 2000 took hours) and says so on stderr; --starts is
/// kept as given.
#[test]
fn fixed_points_scale_the_default_seeding_to_the_size() {
    use emt_core::cells::{Model, ModelFile};
    let d = dir("fixed-points-scaled");
    let n = 800;
    let w = ndarray::Array2::eye(n) * 0.5;
    let net = emt_core::ElmanWeights::new(w, ndarray::Array2::zeros((n, 1)), ndarray::Array2::zeros((1, n))).unwrap();
    let model = d.join("elman800.safetensors");
    ModelFile::new(Model::Elman(net)).save(&model).unwrap();
    // 1,344 (256 / 800)^3 = 44 seeds: 2 whole starts of 21.
    let (success, j, stderr) = emt(&["fixed-points", "--weights", s(&model), "--threads", "2"]);
    assert!(success, "{stderr}");
    assert!(stderr.contains("800 unknowns: minimising 42 seeds (2 start(s), every 10th state"), "{stderr}");
    // h = tanh(h / 2) has the origin as its one fixed point, stable.
    assert_eq!(
        (j["seeds"].as_u64(), j["count"].as_u64(), j["stable_count"].as_u64()),
        (Some(42), Some(1), Some(1)),
        "{j}"
    );
    let (success, j, stderr) = emt(&["fixed-points", "--weights", s(&model), "--starts", "1", "--threads", "2"]);
    assert!(success && !stderr.contains("unknowns: minimising"), "{stderr}");
    assert_eq!(j["seeds"].as_u64(), Some(21), "{j}");
}
