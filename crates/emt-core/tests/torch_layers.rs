//! Parity with PyTorch's own recurrent modules (LSTM with and without biases, with
//! `proj_size`, 3 layers; a 2-layer GRU; a ReLU RNN; a whole-module state dict), in f64 to
//! 1e-10, on the files torch wrote (`tests/fixtures/make_torch_layers.py`); and the files emt
//! must refuse: missing layers, a relu file read as tanh, unused tensors, ambiguous modules,
//! bidirectional modules, a cell that the shapes contradict.

use std::collections::BTreeMap;

use emt_core::cells::{CellKind, LoadOptions, Model, ModelFile};
use emt_core::io::{Tensors, tensors_to_safetensors};
use emt_core::{Activation, Error};
use ndarray::{Array2, Array3, ArrayD, Axis, s};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/torch_layers/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn max_diff(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
}

/// Simulates the case's model from torch's h0 / c0 and returns the largest difference to
/// torch's output, final states and readout.
fn parity(case: &str) -> (ModelFile, f64) {
    let file = ModelFile::load(fixture(&format!("{case}.safetensors"))).unwrap();
    let io = Tensors::read(fixture(&format!("{case}.io.safetensors"))).unwrap();
    let inputs: Array3<f64> = io.tensors["inputs"].clone().into_dimensionality().unwrap();
    let h0 = &io.tensors["h0"];
    let c0 = io.tensors.get("c0");
    let batch = inputs.dim().1;
    let n = file.model.state_dim();
    // PyTorch's (L, B, H) initial states, one sequence at a time, as emt states (B, n).
    let mut start = Array2::zeros((batch, n));
    for b in 0..batch {
        let hb = h0.slice(s![.., b..b + 1, ..]).into_dyn();
        let cb = c0.map(|c| c.slice(s![.., b..b + 1, ..]).into_dyn());
        start.row_mut(b).assign(&file.model.initial_state(hb, cb).unwrap());
    }
    let traj = file.simulate(inputs.view(), Some(start.view())).unwrap();
    let top = file.model.cell().hidden_range();
    let hidden = traj.hidden.slice(s![.., .., top]).to_owned().into_dyn();
    let mut worst = max_diff(&hidden, &io.tensors["output"]);
    if let Some(readout) = io.tensors.get("readout") {
        worst = worst.max(max_diff(&traj.outputs.clone().into_dyn(), readout));
    }
    // Final states, layer by layer: h_n (L, B, H_out) and c_n (L, B, N).
    let last = traj.hidden.index_axis(Axis(0), inputs.dim().0 - 1);
    let (h_n, c_n) = (&io.tensors["h_n"], io.tensors.get("c_n"));
    let mut offset = 0;
    for l in 0..h_n.shape()[0] {
        let (p, c) = (h_n.shape()[2], c_n.map_or(0, |c| c.shape()[2]));
        for b in 0..batch {
            for j in 0..p {
                worst = worst.max((last[[b, offset + j]] - h_n[[l, b, j]]).abs());
            }
            for j in 0..c {
                worst = worst.max((last[[b, offset + p + j]] - c_n.unwrap()[[l, b, j]]).abs());
            }
        }
        offset += p + c;
    }
    assert_eq!(offset, n, "{case}: the state is the layers' [h; c], layer 0 first");
    (file, worst)
}

#[test]
fn every_pytorch_layer_matches_torch_to_1e10() {
    let cases = [
        ("lstm_bias", CellKind::Lstm, 1, 10, 2),
        ("lstm_nobias", CellKind::Lstm, 1, 10, 2),
        ("lstm_proj", CellKind::Lstm, 1, 8, 2),
        ("lstm3", CellKind::Lstm, 3, 30, 0),
        ("gru2", CellKind::Gru, 2, 10, 2),
        ("relu", CellKind::Elman, 1, 5, 2),
        ("module", CellKind::Lstm, 2, 20, 2),
    ];
    for (case, kind, layers, n, d_out) in cases {
        let (file, worst) = parity(case);
        let m = &file.model;
        assert_eq!((m.kind(), m.num_layers(), m.state_dim(), m.output_dim()), (kind, layers, n, d_out), "{case}");
        assert!(worst < 1e-10, "{case}: max difference to torch {worst:e}");
        println!("{case}: max |emt - torch| = {worst:.1e}");
    }
}

#[test]
fn the_relu_rnn_is_relu_and_its_jacobian_has_the_kink_at_zero() {
    let (file, _) = parity("relu");
    assert_eq!(file.model.activation(), Activation::Relu);
    let map = file.model.as_map().unwrap();
    // Drive some units below zero: their rows of the Jacobian vanish.
    let x = ndarray::Array1::from_elem(5, 0.1);
    let u = ndarray::array![3.0, -3.0, 2.0];
    let next = map.step(x.view(), u.view()).unwrap();
    let j = map.jacobian(x.view(), u.view()).unwrap();
    for (i, &h) in next.iter().enumerate() {
        if h == 0.0 {
            assert!(j.row(i).iter().all(|v| *v == 0.0));
        } else {
            assert!(j.row(i).iter().any(|v| *v != 0.0));
        }
    }
    assert!(next.iter().any(|h| *h == 0.0) && next.iter().any(|h| *h > 0.0), "{next}");
}

fn rewrite(
    case: &str,
    edit: impl FnOnce(&mut BTreeMap<String, ArrayD<f64>>, &mut BTreeMap<String, String>),
) -> Vec<u8> {
    let t = Tensors::read(fixture(&format!("{case}.safetensors"))).unwrap();
    let (mut tensors, mut meta) = (t.tensors, t.metadata);
    edit(&mut tensors, &mut meta);
    let views: Vec<_> = tensors.iter().map(|(k, v)| (k.as_str(), v.view())).collect();
    tensors_to_safetensors(&views, &meta).unwrap()
}

fn refused(bytes: &[u8], options: &LoadOptions, needle: &str) -> String {
    let t = Tensors::from_bytes(bytes, "edited.safetensors").unwrap();
    let e = ModelFile::from_tensors_with(&t, options).unwrap_err();
    assert!(matches!(e, Error::Format { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains(needle) && msg.contains("edited.safetensors"), "expected {needle:?} in: {msg}");
    msg
}

#[test]
fn a_missing_layer_is_an_error_never_a_shallower_network() {
    let none = LoadOptions::default();
    // weight_*_l1 deleted, biases of layer 1 left.
    let bytes = rewrite("gru2", |t, _| {
        t.remove("weight_ih_l1");
        t.remove("weight_hh_l1");
    });
    refused(&bytes, &none, "weight_hh_l1");
    // Layer 1 deleted whole, but the file says it has 2 layers.
    let bytes = rewrite("gru2", |t, m| {
        t.retain(|k, _| !k.ends_with("_l1"));
        m.insert("num_layers".into(), "2".into());
    });
    refused(&bytes, &none, "num_layers = 2");
    // Layer 1 deleted, layer 2 present: a gap.
    let bytes = rewrite("lstm3", |t, _| t.retain(|k, _| !k.ends_with("_l1")));
    refused(&bytes, &none, "weight_hh_l1");
}

#[test]
fn a_relu_file_is_never_simulated_as_tanh() {
    let bytes = rewrite("relu", |_, _| {});
    let tanh = LoadOptions { nonlinearity: Some(Activation::Tanh), ..Default::default() };
    refused(&bytes, &tanh, "nonlinearity = relu");
    // The same weights without the metadata: tanh by default, relu when told.
    let bare = rewrite("relu", |_, m| m.clear());
    let t = Tensors::from_bytes(&bare, "bare").unwrap();
    let relu = LoadOptions { nonlinearity: Some(Activation::Relu), ..Default::default() };
    assert_eq!(ModelFile::from_tensors_with(&t, &relu).unwrap().model.activation(), Activation::Relu);
    assert_eq!(ModelFile::from_tensors(&t).unwrap().model.activation(), Activation::Tanh);
    // relu is an Elman nonlinearity only.
    let gru = rewrite("gru2", |_, m| {
        m.insert("nonlinearity".into(), "relu".into());
    });
    refused(&gru, &LoadOptions::default(), "only valid for elman");
}

#[test]
fn unused_tensors_are_named() {
    let bytes = rewrite("lstm_bias", |t, _| {
        t.insert("weight_extra".into(), ArrayD::zeros(vec![2, 2]));
    });
    refused(&bytes, &LoadOptions::default(), "weight_extra");
    // A readout that reads the wrong size is not silently dropped.
    let bytes = rewrite("lstm_proj", |t, _| {
        t.insert("weight".into(), ArrayD::zeros(vec![2, 5]));
    });
    refused(&bytes, &LoadOptions::default(), "\"weight\"");
    // A GRU-only tensor in an elman file, an LSTM projection in a GRU file.
    let bytes = rewrite("gru2", |t, _| {
        t.insert("weight_hr_l0".into(), ArrayD::zeros(vec![5, 5]));
    });
    refused(&bytes, &LoadOptions::default(), "weight_hr_l0");
    // A constant of another cell.
    let bytes = rewrite("lstm_bias", |_, m| {
        m.insert("dt".into(), "0.1".into());
    });
    refused(&bytes, &LoadOptions::default(), "metadata dt");
}

#[test]
fn whole_module_dicts_find_their_readout_or_list_the_candidates() {
    // A second Linear reading the top layer: ambiguous until one is named.
    let bytes = rewrite("module", |t, _| {
        t.insert("head.weight".into(), ArrayD::zeros(vec![4, 5]));
    });
    let msg = refused(&bytes, &LoadOptions::default(), "--readout");
    assert!(msg.contains("\"fc\"") && msg.contains("\"head\""), "{msg}");
    // Naming fc leaves head unused: also refused, naming it.
    let fc = LoadOptions { readout: Some("fc".into()), ..Default::default() };
    refused(&bytes, &fc, "head.weight");
    // Two recurrent modules: the prefix must be named.
    let bytes = rewrite("module", |t, _| {
        let extra: Vec<(String, ArrayD<f64>)> = t
            .iter()
            .filter(|(k, _)| k.starts_with("rnn."))
            .map(|(k, v)| (k.replacen("rnn.", "enc.", 1), v.clone()))
            .collect();
        t.extend(extra);
    });
    let msg = refused(&bytes, &LoadOptions::default(), "--prefix");
    assert!(msg.contains("\"enc\"") && msg.contains("\"rnn\""), "{msg}");
    let enc = LoadOptions { prefix: Some("enc".into()), ..Default::default() };
    refused(&bytes, &enc, "rnn.weight_hh_l0");
    // The plain module dict loads with or without the names given.
    let t = Tensors::read(fixture("module.safetensors")).unwrap();
    let named = LoadOptions { prefix: Some("rnn.".into()), readout: Some("fc".into()), ..Default::default() };
    assert_eq!(ModelFile::from_tensors_with(&t, &named).unwrap(), ModelFile::from_tensors(&t).unwrap());
}

#[test]
fn bidirectional_modules_and_contradicting_cells_are_explained() {
    let bytes = rewrite("gru2", |t, _| {
        t.insert("weight_hh_l0_reverse".into(), ArrayD::zeros(vec![15, 5]));
    });
    refused(&bytes, &LoadOptions::default(), "bidirectional");
    let bytes = rewrite("lstm_bias", |_, m| {
        m.insert("cell".into(), "gru".into());
    });
    refused(&bytes, &LoadOptions::default(), "fits a lstm");
    let gru = LoadOptions { cell: Some(CellKind::Gru), ..Default::default() };
    refused(&rewrite("lstm_bias", |_, _| {}), &gru, "fits a lstm");
    // Cell names in any case.
    let bytes = rewrite("lstm_bias", |_, m| {
        m.insert("cell".into(), "LSTM".into());
    });
    let t = Tensors::from_bytes(&bytes, "upper").unwrap();
    assert_eq!(ModelFile::from_tensors(&t).unwrap().model.kind(), CellKind::Lstm);
}

#[test]
fn stacked_files_round_trip_and_h0_takes_every_shape() {
    for case in ["lstm_bias", "lstm_proj", "lstm3", "gru2", "relu", "module"] {
        let file = ModelFile::load(fixture(&format!("{case}.safetensors"))).unwrap();
        let back = ModelFile::from_bytes(&file.to_bytes().unwrap(), "mem").unwrap();
        assert_eq!(back, file, "{case}");
    }
    let file = ModelFile::load(fixture("lstm3.safetensors")).unwrap();
    let n = file.model.state_dim();
    let state = ndarray::Array1::from_shape_fn(n, |i| i as f64 / 100.0);
    let m: &Model = &file.model;
    assert_eq!(m.initial_state(state.view().into_dyn(), None).unwrap(), state);
    assert_eq!(m.initial_state(state.view().insert_axis(Axis(0)).into_dyn(), None).unwrap(), state);
    // (L, 1, N) h0 and c0 interleave as [h_0; c_0; h_1; c_1; ...].
    let h0 = ArrayD::from_shape_fn(vec![3, 1, 5], |i| (i[0] * 10 + i[2]) as f64);
    let c0 = ArrayD::from_shape_fn(vec![3, 1, 5], |i| -((i[0] * 10 + i[2]) as f64));
    let x = m.initial_state(h0.view(), Some(c0.view())).unwrap();
    assert_eq!(x.slice(s![10..15]).to_vec(), vec![10.0, 11.0, 12.0, 13.0, 14.0]);
    assert_eq!(x.slice(s![15..20]).to_vec(), vec![-10.0, -11.0, -12.0, -13.0, -14.0]);
    let e = m.initial_state(h0.view(), None).unwrap_err();
    assert!(e.to_string().contains("c0"), "{e}");
    let e = m.initial_state(ArrayD::zeros(vec![2, 1, 5]).view(), Some(c0.view())).unwrap_err();
    assert!(e.to_string().contains("(3, 1, 5)"), "{e}");
    // A file's h0 in torch's shape.
    let bytes = rewrite("lstm3", |t, _| {
        t.insert("h0".into(), h0.clone());
        t.insert("c0".into(), c0.clone());
    });
    let f = ModelFile::from_bytes(&bytes, "h0").unwrap();
    assert_eq!(f.h0.as_ref(), Some(&x));
}
