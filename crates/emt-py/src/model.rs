//! `_emt.Model`: a model file of any cell (`emt_core::cells::ModelFile`).

use std::collections::BTreeMap;

use emt::core::cells::{CellKind, Dtype, LoadOptions, ModelFile};
use emt::core::io::Tensors;
use emt::core::{Activation, DiscreteMap, Flow};
use emt::ndarray::{Array2, ArrayD};
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArray3, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3, PyReadonlyArrayDyn,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors::{IntoPy, param};

/// A recurrent network of any cell, as a model file holds it (weights, optional `h0`,
/// metadata, storage dtype). Immutable.
#[pyclass(module = "emt._emt", frozen)]
pub struct Model {
    pub file: ModelFile,
}

fn options(
    cell: Option<&str>,
    nonlinearity: Option<&str>,
    prefix: Option<String>,
    readout: Option<String>,
) -> PyResult<LoadOptions> {
    let cell = cell.map(|c| c.parse::<CellKind>()).transpose().py()?;
    let nonlinearity = nonlinearity.map(|a| a.parse::<Activation>()).transpose().py()?;
    Ok(LoadOptions { cell, nonlinearity, prefix, readout })
}

impl Model {
    /// The model's step map (flows: their Euler map with the file's `dt`).
    pub fn map(&self) -> Box<dyn DiscreteMap + '_> {
        self.file.model.cell().map()
    }
}

#[pymethods]
impl Model {
    /// Reads a safetensors model file (emt's, or a PyTorch state dict saved with safetensors).
    #[staticmethod]
    #[pyo3(signature = (path, cell=None, nonlinearity=None, prefix=None, readout=None))]
    fn load(
        py: Python<'_>,
        path: std::path::PathBuf,
        cell: Option<&str>,
        nonlinearity: Option<&str>,
        prefix: Option<String>,
        readout: Option<String>,
    ) -> PyResult<Self> {
        let options = options(cell, nonlinearity, prefix, readout)?;
        let file = py.detach(|| ModelFile::load_with(&path, &options)).py()?;
        Ok(Model { file })
    }

    /// A model from named arrays (a state dict), each stored as `dtypes[name]` ("f32" / "f64"),
    /// with the metadata a file would carry.
    #[staticmethod]
    #[pyo3(signature = (tensors, dtypes, metadata, cell=None, nonlinearity=None, prefix=None, readout=None))]
    #[allow(clippy::too_many_arguments)]
    fn from_arrays(
        tensors: BTreeMap<String, PyReadonlyArrayDyn<'_, f64>>,
        dtypes: BTreeMap<String, String>,
        metadata: BTreeMap<String, String>,
        cell: Option<&str>,
        nonlinearity: Option<&str>,
        prefix: Option<String>,
        readout: Option<String>,
    ) -> PyResult<Self> {
        let options = options(cell, nonlinearity, prefix, readout)?;
        let owned: BTreeMap<String, ArrayD<f64>> =
            tensors.into_iter().map(|(k, v)| (k, v.as_array().to_owned())).collect();
        let t = Tensors::from_parts(owned, &dtypes, metadata, "state dict").py()?;
        Ok(Model { file: ModelFile::from_tensors_with(&t, &options).py()? })
    }

    /// A model from safetensors bytes (`Model.to_bytes`).
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<Self> {
        Ok(Model { file: ModelFile::from_bytes(bytes, "bytes").py()? })
    }

    /// The model file as safetensors bytes, in its dtype.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.file.to_bytes().py()?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Writes the model file atomically, in `dtype` ("f32" / "f64"; default: its own).
    #[pyo3(signature = (path, dtype=None))]
    fn save(&self, py: Python<'_>, path: std::path::PathBuf, dtype: Option<&str>) -> PyResult<()> {
        let file = match dtype {
            None => self.file.clone(),
            Some("f32") => self.file.clone().with_dtype(Dtype::F32),
            Some("f64") => self.file.clone().with_dtype(Dtype::F64),
            Some(other) => return Err(param("dtype", other, "must be \"f32\" or \"f64\"")),
        };
        py.detach(|| file.save(&path)).py()
    }

    /// The tensors (the state dict) and the metadata, as the file stores them.
    fn tensors<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyDict>, BTreeMap<String, String>)> {
        let t = Tensors::from_bytes(&self.file.to_bytes().py()?, "model").py()?;
        let out = PyDict::new(py);
        for (name, array) in t.tensors {
            out.set_item(name, array.into_pyarray(py))?;
        }
        Ok((out, t.metadata))
    }

    /// The cell: "elman", "gru", "lstm", "ctrnn", "ctgru", "gated" or "oscillator".
    #[getter]
    fn cell(&self) -> &'static str {
        self.file.model.kind().name()
    }

    /// State size n (an LSTM's `[h; c]` per layer, a stack's layers together).
    #[getter]
    fn state_dim(&self) -> usize {
        self.file.model.state_dim()
    }

    /// Input size d_in.
    #[getter]
    fn input_dim(&self) -> usize {
        self.file.model.input_dim()
    }

    /// Output size d_out (0 without a readout).
    #[getter]
    fn output_dim(&self) -> usize {
        self.file.model.output_dim()
    }

    /// PyTorch layers (1 for every cell but a stack).
    #[getter]
    fn num_layers(&self) -> usize {
        self.file.model.num_layers()
    }

    /// The Elman nonlinearity ("tanh" for every other cell).
    #[getter]
    fn nonlinearity(&self) -> &'static str {
        self.file.model.activation().name()
    }

    /// True for continuous-time cells (ctgru, gated): fixed points are zeros of the field.
    #[getter]
    fn is_flow(&self) -> bool {
        self.file.model.as_flow().is_some()
    }

    /// Time one step covers (the Euler `dt` of a flow; 1 for a map).
    #[getter]
    fn step_time(&self) -> f64 {
        self.file.model.step_time()
    }

    /// Storage dtype, "f32" or "f64".
    #[getter]
    fn dtype(&self) -> &'static str {
        self.file.dtype.name()
    }

    /// The file's initial state `(n,)`, or None.
    #[getter]
    fn h0<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.file.h0.clone().map(|h| h.into_pyarray(py))
    }

    /// Where PyTorch's `output` (the top layer's h) sits in the state: `(start, stop)`.
    #[getter]
    fn hidden_range(&self) -> (usize, usize) {
        let r = self.file.model.cell().hidden_range();
        (r.start, r.end)
    }

    /// Where a zero-input analysis starts `(n,)`: the file's h0, else a seeded small state.
    fn start_state<'py>(&self, py: Python<'py>, seed: u64) -> Bound<'py, PyArray1<f64>> {
        self.file.start_state(seed).into_pyarray(py)
    }

    /// The state `(n,)` from PyTorch's `h0` `(L, 1, H)` (and `c0` for an LSTM), or `(n,)`.
    #[pyo3(signature = (h0, c0=None))]
    fn initial_state<'py>(
        &self,
        py: Python<'py>,
        h0: PyReadonlyArrayDyn<'py, f64>,
        c0: Option<PyReadonlyArrayDyn<'py, f64>>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let c0 = c0.as_ref().map(|c| c.as_array());
        Ok(self.file.model.initial_state(h0.as_array(), c0).py()?.into_pyarray(py))
    }

    /// Runs `inputs` `(T, B, d_in)` from `h0` `(B, n)` (default: the file's h0, else zeros):
    /// states `(T, B, n)` and outputs `(T, B, d_out)`.
    #[pyo3(signature = (inputs, h0=None))]
    #[allow(clippy::type_complexity)]
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        inputs: PyReadonlyArray3<'py, f64>,
        h0: Option<PyReadonlyArray2<'py, f64>>,
    ) -> PyResult<(Bound<'py, PyArray3<f64>>, Bound<'py, PyArray3<f64>>)> {
        let (inputs, h0) = (inputs.as_array(), h0.as_ref().map(|h| h.as_array()));
        let t = crate::run::detached(py, || self.file.simulate(inputs, h0))?;
        Ok((t.hidden.into_pyarray(py), t.outputs.into_pyarray(py)))
    }

    /// One step of the cell's map `(n,)` (flows: the Euler step of `dt`).
    fn step<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        u: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(self.map().step(x.as_array(), u.as_array()).py()?.into_pyarray(py))
    }

    /// The vector field `f(x, u)` `(n,)` of a flow (ctgru, gated); an error for maps.
    fn field<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        u: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let flow = self.flow()?;
        Ok(flow.field(x.as_array(), u.as_array()).py()?.into_pyarray(py))
    }

    /// The Jacobian `(n, n)` of what fixed points solve: `dF/dx` of a map, `df/dx` of a flow.
    fn jacobian<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        u: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (x, u) = (x.as_array(), u.as_array());
        let j: Array2<f64> = match self.file.model.as_flow() {
            Some(f) => f.jacobian(x, u),
            None => self.map().jacobian(x, u),
        }
        .py()?;
        Ok(j.into_pyarray(py))
    }

    /// The input Jacobian `(n, d_in)`: `dF/du` of a map, `df/du` of a flow.
    fn input_jacobian<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        u: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (x, u) = (x.as_array(), u.as_array());
        let j: Array2<f64> = match self.file.model.as_flow() {
            Some(f) => f.input_jacobian(x, u),
            None => self.map().input_jacobian(x, u),
        }
        .py()?;
        Ok(j.into_pyarray(py))
    }

    /// Readout of states `(K, n)` into `(K, d_out)`.
    fn readout<'py>(&self, py: Python<'py>, states: PyReadonlyArray2<'py, f64>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let states = states.as_array();
        let n = self.file.model.state_dim();
        emt::core::check::shape("states", &states, &[states.nrows(), n]).py()?;
        emt::core::check::finite("states", &states).py()?;
        let cell = self.file.model.cell();
        let mut out = Array2::zeros((states.nrows(), cell.output_dim()));
        for (row, mut o) in states.rows().into_iter().zip(out.rows_mut()) {
            cell.output_into(row, o.view_mut());
        }
        Ok(out.into_pyarray(py))
    }

    fn __repr__(&self) -> String {
        let m = &self.file.model;
        format!(
            "Model(cell={:?}, state_dim={}, input_dim={}, output_dim={}, num_layers={}, dtype={:?})",
            m.kind().name(),
            m.state_dim(),
            m.input_dim(),
            m.output_dim(),
            m.num_layers(),
            self.file.dtype.name()
        )
    }
}

impl Model {
    fn flow(&self) -> PyResult<&dyn Flow> {
        self.file.model.as_flow().ok_or_else(|| {
            param("cell", self.file.model.kind().name(), "is a map, not a flow: use step (fixed points solve F(x) = x)")
        })
    }
}
