//! A file written by numpy's safetensors writer (tools/make_numpy_fixture.py) loads with the
//! right values, dtypes and metadata.

use emt_core::io::{Tensors, load_weights};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/numpy_weights.safetensors");

fn grid(i: usize, j: usize) -> f64 {
    (10 * i + j + 1) as f64 / 8.0
}

#[test]
fn numpy_written_weights_load_exactly() {
    let (w, meta) = load_weights(PATH).unwrap();
    assert_eq!((w.hidden_dim(), w.input_dim(), w.output_dim()), (4, 3, 2));
    for ((i, j), &v) in w.w_hh().indexed_iter() {
        assert_eq!(v, grid(i, j), "w_hh[{i}, {j}] (written from a Fortran-ordered array)");
    }
    for ((i, j), &v) in w.w_ih().indexed_iter() {
        assert_eq!(v, grid(i, j));
    }
    for ((i, j), &v) in w.w_r().indexed_iter() {
        assert_eq!(v, grid(i, j));
    }
    // b_h = bias_ih + bias_hh = (i + 1)/8 - (i + 1)/16.
    let b_h = w.b_h().unwrap();
    assert!(b_h.iter().enumerate().all(|(i, &v)| v == (i + 1) as f64 / 16.0), "{b_h}");
    assert_eq!(w.b_r().unwrap().to_vec(), vec![0.125, 0.25]);
    assert_eq!(
        (meta.task.as_deref(), meta.s, meta.d, meta.seed, meta.step),
        (Some("255,0,0"), Some(8), Some(8), Some(3), Some(7))
    );
    let t = Tensors::read(PATH).unwrap();
    assert_eq!((t.dtypes["weight_ih_l0"], t.dtypes["weight_hh_l0"]), ("f32", "f64"));
}
