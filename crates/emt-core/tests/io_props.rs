//! safetensors round trips are exact for any shape and memory layout.

use std::collections::BTreeMap;

use emt_core::io::{Tensors, tensors_to_safetensors};
use ndarray::{Array, Array3, IxDyn, ShapeBuilder};
use proptest::prelude::*;

proptest! {
    #![proptest_config(emt_testkit::proptest_config(64))]

    #[test]
    fn round_trip_any_layout(a in 1usize..6, b in 1usize..6, c in 1usize..6, fortran: bool, perm in 0usize..6, seed in 0u32..1000) {
        let values: Vec<f64> = (0..a * b * c).map(|i| ((i as u32 ^ seed) as f64).sin() * 1e3).collect();
        let base: Array3<f64> = if fortran {
            Array::from_shape_vec((a, b, c).f(), values).unwrap()
        } else {
            Array::from_shape_vec((a, b, c), values).unwrap()
        };
        let axes = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]][perm];
        let view = base.view().permuted_axes(axes).into_dyn();
        let f32_view = view.mapv(|x| x as f32);
        let bytes = tensors_to_safetensors(&[("x", view.clone())], &BTreeMap::new()).unwrap();
        let back = Tensors::from_bytes(&bytes, "mem").unwrap();
        prop_assert_eq!(&back.tensors["x"], &view.to_owned());
        let bytes32 = tensors_to_safetensors(&[("y", f32_view.view())], &BTreeMap::new()).unwrap();
        let back32 = Tensors::from_bytes(&bytes32, "mem").unwrap();
        prop_assert_eq!(&back32.tensors["y"], &f32_view.mapv(f64::from).into_dimensionality::<IxDyn>().unwrap());
    }
}
