//! # emt-plot: figures from emt's results, as PNG or SVG
//!
//! Every figure emt draws lives here, so a library user (or the Python package) gets the same
//! pictures as `emt plot` without the binary; plotters is a dependency of this crate only.
//! A [`Figure`] says what to draw (eigenvalues, heatmaps, stacked curves, a phase portrait, a
//! bifurcation diagram, phase-response curves, bars, an automaton); [`save`] draws it to a
//! `.png` or `.svg` path (chosen by the extension) atomically ([`emt_core::fs::write_atomic`]
//! for SVG; PNGs go through a temporary sibling too).
//!
//! [`phase_portrait::fixed_point_portrait`] builds a phase portrait from a fixed-point search's
//! typed result ([`emt_dynamics::FixedPoints`]).
//!
//! Text uses a font compiled into the crate (a subset of DejaVu Sans, `assets/`, Bitstream
//! Vera licence): PNGs never touch system fonts, and SVGs carry the same font inline
//! (`@font-face` with a data URL), so both look the same on any machine.
//!
//! ```
//! use emt_plot::{Curve, Figure, RGBColor};
//!
//! let dir = std::env::temp_dir().join(format!("emt-plot-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let points: Vec<(f64, f64)> = (0..50).map(|t| (t as f64, (-0.1 * t as f64).exp())).collect();
//! let curve = Curve { label: "loss", points, color: RGBColor(33, 102, 172) };
//! let panels = [("training", "step", "loss", true, vec![curve])];
//! let out = dir.join("loss.svg");
//! emt_plot::save(&out, (800, 500), &Figure::Curves { title: "a run", panels: &panels })?;
//! assert!(std::fs::read_to_string(&out)?.contains("@font-face"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), emt_core::Error>(())
//! ```

#![warn(missing_docs)]

pub mod phase_portrait;

use std::path::Path;

use emt_core::{Error, Result};
use ndarray::ArrayView2;
use num_complex::Complex64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Colours of curves, sets and nodes (plotters' RGB triple).
pub use plotters::style::RGBColor;

/// The embedded font (DejaVu Sans subset: Latin, Greek, common math symbols).
pub const FONT: &[u8] = include_bytes!("../assets/emt-sans.ttf");
/// The family name the plots use.
pub const FAMILY: &str = "emt-sans";

/// Eight colours that stay distinct in print and for the common colour-vision deficiencies
/// (blue, green, purple, red, orange, grey, black, teal), for series drawn in order.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(33, 102, 172),
    RGBColor(27, 120, 55),
    RGBColor(118, 42, 131),
    RGBColor(178, 24, 43),
    RGBColor(230, 97, 1),
    RGBColor(110, 110, 110),
    RGBColor(0, 0, 0),
    RGBColor(53, 151, 143),
];

/// Registers the embedded font under our family and plotters' default "sans-serif" (used by
/// axis labels unless a style says otherwise), in both styles plotters asks for. [`save`] calls
/// it; it is idempotent.
pub fn register_fonts() -> Result<()> {
    for family in [FAMILY, "sans-serif"] {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            plotters::style::register_font(family, style, FONT).map_err(|_| Error::Format {
                path: "embedded font".into(),
                reason: "not a valid TrueType font".into(),
            })?;
        }
    }
    Ok(())
}

/// PNG or SVG, from the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Raster, via the bitmap backend.
    Png,
    /// Vector, with the font embedded.
    Svg,
}

/// The format a path asks for (`.png` / `.svg`, any case); anything else is an error naming it.
pub fn format_of(path: &Path) -> Result<Format> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(Error::param("--out", path.display(), "must end in .png or .svg")),
    }
}

fn draw_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Format { path: path.display().to_string(), reason: format!("cannot draw the figure: {e}") }
}

/// Inlines the font into an SVG written by plotters and points every text at it.
pub fn embed_font(svg: &str) -> String {
    let style = format!(
        "<defs><style>@font-face{{font-family:\"{FAMILY}\";src:url(data:font/ttf;base64,{}) format(\"truetype\");}}</style></defs>",
        base64(FONT)
    );
    let svg = svg.replace("font-family=\"sans-serif\"", &format!("font-family=\"{FAMILY}\""));
    match svg.find("<svg").and_then(|start| svg[start..].find('>').map(|end| start + end + 1)) {
        Some(at) => format!("{}{}{}", &svg[..at], style, &svg[at..]),
        None => svg,
    }
}

/// Standard base64 (RFC 4648) with padding.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(ABC[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// PNG bytes of an RGB8 buffer (what plotters' bitmap backend would write to a file).
fn encode_png(pixels: &[u8], size: (u32, u32)) -> std::result::Result<Vec<u8>, image::ImageError> {
    use image::ImageEncoder;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(pixels, size.0, size.1, image::ColorType::Rgb8)?;
    Ok(png)
}

/// One figure, ready to draw: what it shows and the data, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub enum Figure<'a> {
    /// Eigenvalues in the complex plane with the stability boundary ([`spectrum`]).
    Spectrum {
        /// Title above the plot.
        title: &'a str,
        /// The labelled sets.
        sets: &'a [EigenSet<'a>],
        /// A flow (boundary: the imaginary axis) rather than a map (the unit circle).
        flow: bool,
    },
    /// Side-by-side heatmaps of matrices on one diverging scale ([`heatmaps`]).
    Heatmaps {
        /// Title above the panels.
        title: &'a str,
        /// (panel title, matrix (rows, columns)) per panel.
        panels: &'a [(&'a str, ArrayView2<'a, f64>)],
        /// Label of the column axis.
        x_desc: &'a str,
        /// Label of the row axis.
        y_desc: &'a str,
        /// Draw a separator every this many rows (e.g. between tasks).
        row_groups: Option<usize>,
    },
    /// A grid of labelled cells over two parameters ([`phase_diagram`]).
    PhaseDiagram {
        /// Title above the panels.
        title: &'a str,
        /// One panel per quantity, values `(ys.len(), xs.len())`.
        panels: &'a [PhasePanel<'a>],
        /// Column parameter values.
        xs: &'a [f64],
        /// Row parameter values.
        ys: &'a [f64],
        /// Label of the column parameter.
        x_desc: &'a str,
        /// Label of the row parameter.
        y_desc: &'a str,
    },
    /// Stacked panels of curves, each with its own axes ([`curves`]).
    Curves {
        /// Title above the panels.
        title: &'a str,
        /// The panels, top to bottom.
        panels: &'a [Panel<'a>],
    },
    /// A phase portrait or a projection with fixed points by kind ([`portrait`]).
    Portrait {
        /// Title above the plot.
        title: &'a str,
        /// What to draw.
        portrait: &'a Portrait<'a>,
    },
    /// A bifurcation diagram with the cycles' periods below it ([`bifurcation`]).
    Bifurcation {
        /// Title above the plot.
        title: &'a str,
        /// What to draw.
        diagram: &'a Diagram<'a>,
    },
    /// Phase-response curves over one period ([`prc`]).
    Prc {
        /// Title above the plot.
        title: &'a str,
        /// (label, (phase in [0, 2 pi), response)) per curve.
        curves: &'a [(String, Vec<(f64, f64)>)],
    },
    /// Grouped bars with missing values marked ([`bars`]).
    Bars {
        /// Title above the plot.
        title: &'a str,
        /// Label of the value axis.
        y_desc: &'a str,
        /// Group names along the x axis.
        groups: &'a [String],
        /// (label, one value per group) per series.
        series: &'a [(String, Vec<Option<f64>>)],
        /// The value axis range.
        y_range: (f64, f64),
    },
    /// A state diagram of an automaton ([`automaton`]).
    Automaton {
        /// Title above the plot.
        title: &'a str,
        /// States and transitions.
        graph: &'a Graph<'a>,
    },
}

impl Figure<'_> {
    /// Draws the figure on any plotters drawing area.
    pub fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        match *self {
            Figure::Spectrum { title, sets, flow } => spectrum(root, title, sets, flow),
            Figure::Heatmaps { title, panels, x_desc, y_desc, row_groups } => {
                heatmaps(root, title, panels, x_desc, y_desc, row_groups)
            }
            Figure::PhaseDiagram { title, panels, xs, ys, x_desc, y_desc } => {
                phase_diagram(root, title, panels, xs, ys, x_desc, y_desc)
            }
            Figure::Curves { title, panels } => curves(root, title, panels),
            Figure::Portrait { title, portrait: p } => portrait(root, title, p),
            Figure::Bifurcation { title, diagram } => bifurcation(root, title, diagram),
            Figure::Prc { title, curves } => prc(root, title, curves),
            Figure::Bars { title, y_desc, groups, series, y_range } => {
                bars(root, title, y_desc, groups, series, y_range)
            }
            Figure::Automaton { title, graph } => automaton(root, title, graph),
        }
    }
}

/// Draws `figure` at `size` pixels (width, height) to `path`, PNG or SVG by its extension, with
/// the embedded font. The path is checked first ([`check_out`]); the file is written through a
/// temporary sibling and renamed, so it is never seen half-drawn.
pub fn save(path: &Path, size: (u32, u32), figure: &Figure<'_>) -> Result<()> {
    let format = check_out(path, &[])?;
    register_fonts()?;
    if size.0 == 0 || size.1 == 0 || size.0 > 20_000 || size.1 > 20_000 {
        return Err(Error::param("figure size", format!("{}x{}", size.0, size.1), "must be 1..=20000 pixels each way"));
    }
    match format {
        Format::Png => {
            let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
                figure.draw(&root).map_err(|e| draw_err(path, e))?;
                root.present().map_err(|e| draw_err(path, e))?;
            }
            let png = encode_png(&pixels, size).map_err(|e| draw_err(path, e))?;
            emt_core::fs::write_atomic(path, &png)
        }
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                figure.draw(&root).map_err(|e| draw_err(path, e))?;
                root.present().map_err(|e| draw_err(path, e))?;
            }
            emt_core::fs::write_atomic(path, embed_font(&svg).as_bytes())
        }
    }
}

type DrawResult<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// The legend box every figure uses: text of `size` on a translucent white box, grey border.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    size: u32,
    at: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .label_font(font(size))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .position(at)
        .draw()
}

/// One labelled set of eigenvalues.
#[derive(Debug, Clone)]
pub struct EigenSet<'a> {
    /// Legend entry.
    pub label: &'a str,
    /// The eigenvalues.
    pub values: &'a [Complex64],
    /// Marker colour.
    pub color: RGBColor,
    /// Crosses instead of filled dots (to overlay a second set).
    pub cross: bool,
}

/// Eigenvalues in the complex plane with the stability boundary: the unit circle for maps,
/// the imaginary axis for flows.
pub fn spectrum<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    sets: &[EigenSet<'_>],
    flow: bool,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let extent =
        sets.iter().flat_map(|s| s.values.iter()).fold(1.1f64, |m, z| m.max(z.re.abs()).max(z.im.abs())) * 1.08;
    let (x0, x1) = if flow {
        let lo = sets.iter().flat_map(|s| s.values.iter()).fold(-0.2f64, |m, z| m.min(z.re)) * 1.08;
        let hi = sets.iter().flat_map(|s| s.values.iter()).fold(0.2f64, |m, z| m.max(z.re)) * 1.08;
        (lo.min(-0.2), hi.max(0.2))
    } else {
        (-extent, extent)
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(22))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(x0..x1, -extent..extent)?;
    chart
        .configure_mesh()
        .x_desc("Re λ")
        .y_desc("Im λ")
        .label_style(font(16))
        .x_label_formatter(&|v| format!("{:.1}", v + 0.0))
        .y_label_formatter(&|v| format!("{:.1}", v + 0.0))
        .axis_desc_style(font(18))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    let boundary = if flow {
        vec![(0.0, -extent), (0.0, extent)]
    } else {
        (0..=360).map(|k| f64::from(k).to_radians()).map(|a| (a.cos(), a.sin())).collect()
    };
    chart
        .draw_series(LineSeries::new(boundary, BLACK.mix(0.6).stroke_width(2)))?
        .label(if flow { "Re λ = 0" } else { "|λ| = 1" })
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.6).stroke_width(2)));
    for set in sets {
        let color = set.color;
        let points = set.values.iter().map(|z| (z.re, z.im));
        if set.cross {
            chart
                .draw_series(points.map(|p| Cross::new(p, 6, color.stroke_width(2))))?
                .label(set.label)
                .legend(move |(x, y)| Cross::new((x + 10, y), 6, color.stroke_width(2)));
        } else {
            chart
                .draw_series(points.map(|p| Circle::new(p, 4, color.mix(0.75).filled())))?
                .label(set.label)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
    }
    legend(&mut chart, 16, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

/// Blue (negative) - white - red (positive), saturating at `|v| = scale`.
fn diverging(v: f64, scale: f64) -> RGBColor {
    let t = if scale > 0.0 { (v / scale).clamp(-1.0, 1.0) } else { 0.0 };
    let mix = |a: u8, b: u8, f: f64| (f64::from(a) + (f64::from(b) - f64::from(a)) * f) as u8;
    if t >= 0.0 {
        RGBColor(mix(255, 178, t), mix(255, 24, t), mix(255, 43, t))
    } else {
        RGBColor(mix(255, 33, -t), mix(255, 102, -t), mix(255, 172, -t))
    }
}

/// One heatmap panel: `m` `(rows, cols)` with row 0 at the top.
fn heatmap_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    m: ArrayView2<'_, f64>,
    scale: f64,
    x_desc: &str,
    y_desc: &str,
    row_groups: Option<usize>,
) -> DrawResult<DB> {
    let (rows, cols) = m.dim();
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..cols.max(1) as f64, rows.max(1) as f64..0f64)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(font(14))
        .axis_desc_style(font(16))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    chart.draw_series(m.indexed_iter().map(|((i, j), &v)| {
        Rectangle::new([(j as f64, i as f64), (j as f64 + 1.0, i as f64 + 1.0)], diverging(v, scale).filled())
    }))?;
    if let Some(g) = row_groups.filter(|&g| g > 0 && g < rows) {
        for k in (g..rows).step_by(g) {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(0.0, k as f64), (cols as f64, k as f64)],
                BLACK.mix(0.5).stroke_width(1),
            )))?;
        }
    }
    Ok(())
}

/// A colour bar for [`diverging`] from `-scale` to `scale`.
fn colorbar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, scale: f64) -> DrawResult<DB> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(52)
        .margin_left(8)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0f64..1f64, -scale..scale)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .label_style(font(14))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .draw()?;
    let steps = 100;
    chart.draw_series((0..steps).map(|k| {
        let lo = -scale + 2.0 * scale * k as f64 / steps as f64;
        let hi = lo + 2.0 * scale / steps as f64;
        Rectangle::new([(0.0, lo), (1.0, hi)], diverging((lo + hi) / 2.0, scale).filled())
    }))?;
    Ok(())
}

/// Side-by-side heatmaps with one shared colour scale.
pub fn heatmaps<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    panels: &[(&str, ArrayView2<'_, f64>)],
    x_desc: &str,
    y_desc: &str,
    row_groups: Option<usize>,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(title, font(26))?;
    let (w, _) = root.dim_in_pixel();
    let (main, bar) = root.split_horizontally(w.saturating_sub(110));
    let scale = panels.iter().flat_map(|(_, m)| m.iter()).fold(0.0f64, |s, v| s.max(v.abs())).max(1e-12);
    let areas = main.split_evenly((1, panels.len().max(1)));
    for (area, (name, m)) in areas.iter().zip(panels) {
        heatmap_panel(area, name, *m, scale, x_desc, y_desc, row_groups)?;
    }
    colorbar(&bar, scale)
}

/// White to green, saturating at `v = scale` (non-negative quantities).
fn sequential(v: f64, scale: f64) -> RGBColor {
    let t = if scale > 0.0 { (v / scale).clamp(0.0, 1.0) } else { 0.0 };
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t) as u8;
    RGBColor(mix(255, 27), mix(255, 120), mix(255, 55))
}

/// One panel of a [`phase_diagram`]: a title, values `(ys, xs)` and whether the colours diverge
/// around 0 (blue - white - red, scale shared by every diverging panel) or run from 0 up.
#[derive(Debug, Clone)]
pub struct PhasePanel<'a> {
    /// Panel title.
    pub title: &'a str,
    /// One value per cell, `(rows = y values, columns = x values)`; NaN cells are left grey.
    pub values: ArrayView2<'a, f64>,
    /// A diverging scale around 0 (e.g. lambda_max: red chaotic, blue stable) instead of a
    /// sequential one.
    pub diverging: bool,
}

/// Phase diagrams over a grid (not necessarily even): one cell per (y, x) grid point, coloured
/// by its value and labelled with it, ticks at the grid values. NaN cells stay grey; diverging
/// panels saturate at their shared largest positive value (at least 0.02).
pub fn phase_diagram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    panels: &[PhasePanel<'_>],
    xs: &[f64],
    ys: &[f64],
    x_desc: &str,
    y_desc: &str,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(title, font(24))?;
    let finite_max = |p: &PhasePanel<'_>| p.values.iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| m.max(v.abs()));
    // Diverging panels saturate at the largest positive value (at least 0.02), so weak chaos
    // shows in red however negative the stable side goes.
    let positive = |p: &PhasePanel<'_>| p.values.iter().filter(|v| v.is_finite()).fold(0.0f64, |m, &v| m.max(v));
    let shared = panels.iter().filter(|p| p.diverging).map(positive).fold(0.02f64, f64::max);
    let areas = root.split_evenly((1, panels.len().max(1)));
    let tick = |vals: &[f64], v: f64| {
        let k = v - 0.5;
        if (k - k.round()).abs() < 1e-6 && k >= 0.0 {
            vals.get(k.round() as usize).map_or(String::new(), |x| format!("{x}"))
        } else {
            String::new()
        }
    };
    for (area, p) in areas.iter().zip(panels) {
        let (rows, cols) = p.values.dim();
        let scale = if p.diverging { shared } else { finite_max(p).max(1e-12) };
        let mut chart = ChartBuilder::on(area)
            .caption(p.title, font(18))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d(0f64..cols.max(1) as f64, 0f64..rows.max(1) as f64)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style(font(13))
            .axis_desc_style(font(15))
            .x_labels(2 * cols + 1)
            .y_labels(2 * rows + 1)
            .x_label_formatter(&|v| tick(xs, *v))
            .y_label_formatter(&|v| tick(ys, *v))
            .draw()?;
        chart.draw_series(p.values.indexed_iter().map(|((i, j), &v)| {
            let colour = if !v.is_finite() {
                RGBColor(200, 200, 200)
            } else if p.diverging {
                diverging(v, scale)
            } else {
                sequential(v, scale)
            };
            Rectangle::new([(j as f64, i as f64), (j as f64 + 1.0, i as f64 + 1.0)], colour.filled())
        }))?;
        let digits = if scale < 0.5 { 3 } else { 2 };
        chart.draw_series(
            p.values
                .indexed_iter()
                .map(|((i, j), &v)| Text::new(format!("{v:.digits$}"), (j as f64 + 0.18, i as f64 + 0.62), font(12))),
        )?;
    }
    Ok(())
}

/// One training-log series.
#[derive(Debug, Clone)]
pub struct Curve<'a> {
    /// Legend entry.
    pub label: &'a str,
    /// (x, y) in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Line colour.
    pub color: RGBColor,
}

/// Whole numbers as integers; other tick positions stay unlabelled (steps, indices).
fn integer_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { String::new() }
}

/// Tick labels for an axis at most 2 long (e.g. inputs in [0, 0.25] or [0, 1]), where integer
/// labels would leave all but one or two ticks blank.
fn decimal_label(v: &f64) -> String {
    format!("{:.2}", v + 0.0)
}

/// The figure of `emt plot lyapunov`, saved to `path` (1100 x 1000): the spectrum (exponent
/// against index) above the running estimates of the first 8 exponents over the measured
/// steps or time (frame order), so convergence can be judged by eye.
pub fn save_lyapunov(path: &Path, spectrum: &emt_dynamics::LyapunovSpectrum, title: &str) -> Result<()> {
    let s = spectrum;
    let unit = s.time_unit.name();
    let points: Vec<(f64, f64)> = s.exponents.iter().enumerate().map(|(i, &l)| ((i + 1) as f64, l)).collect();
    let shown = s.exponents.len().min(8);
    // Blue, red, green, grey first (the CLI's order since it drew this figure).
    let colours = [
        PALETTE[0],
        PALETTE[3],
        PALETTE[1],
        PALETTE[5],
        RGBColor(118, 42, 131),
        RGBColor(230, 97, 1),
        RGBColor(1, 133, 113),
        RGBColor(0, 0, 0),
    ];
    let labels: Vec<String> = (1..=shown).map(|i| format!("lambda_{i}")).collect();
    let mut running = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let mut pts: Vec<(f64, f64)> = s.trace.iter().map(|p| (p.time, p.exponents[i])).collect();
        pts.retain(|p| p.1.is_finite());
        running.push(Curve { label, points: pts, color: colours[i % colours.len()] });
    }
    let panels = [
        ("Spectrum", "index i", "lambda_i", false, vec![Curve { label: "lambda_i", points, color: PALETTE[0] }]),
        (
            "Convergence of the running estimates (frame order)",
            if unit == "step" { "steps measured" } else { "time measured" },
            "estimate",
            false,
            running,
        ),
    ];
    save(path, (1100, 1000), &Figure::Curves { title, panels: &panels })
}

/// One panel of [`curves`]: title, x label, y label, log-scale y, the curves.
pub type Panel<'a> = (&'a str, &'a str, &'a str, bool, Vec<Curve<'a>>);

/// Stacked panels, each with its own axes.
pub fn curves<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, panels: &[Panel<'_>]) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(title, font(26))?;
    for (area, (name, x_desc, y_desc, log, series)) in root.split_evenly((panels.len().max(1), 1)).iter().zip(panels) {
        let (x_lo, x_hi) = series
            .iter()
            .flat_map(|c| c.points.iter())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
        // Steps and times start at 0; an index axis (1..k) gets half a unit either side.
        let (x_lo, x_hi) = match (x_lo.is_finite(), x_lo >= 1.0 && x_hi - x_lo < 1000.0) {
            (false, _) => (0.0, 1.0),
            (true, true) => (x_lo - 0.5, x_hi + 0.5),
            // A degenerate range gets a unit width; a short one (e.g. inputs in [0, 0.25]) keeps its own.
            (true, false) => (x_lo.min(0.0), if x_hi > x_lo { x_hi } else { x_lo + 1.0 }),
        };
        let ys =
            series.iter().flat_map(|c| c.points.iter().map(|p| p.1)).filter(|v| v.is_finite() && (!log || *v > 0.0));
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let pad = |lo: f64, hi: f64| if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
        let mut builder = ChartBuilder::on(area);
        builder.caption(*name, font(20)).margin(10).x_label_area_size(40).y_label_area_size(65);
        macro_rules! finish {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(*x_desc)
                    .y_desc(*y_desc)
                    .label_style(font(14))
                    .axis_desc_style(font(16))
                    .x_label_formatter(if x_hi - x_lo <= 2.0 { &decimal_label } else { &integer_label })
                    .light_line_style(RGBColor(235, 235, 235))
                    .draw()?;
                for c in series {
                    let color = c.color;
                    let pts: Vec<(f64, f64)> =
                        c.points.iter().copied().filter(|p| p.1.is_finite() && (!*log || p.1 > 0.0)).collect();
                    chart
                        .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?
                        .label(c.label)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
                    // Sparse series (evaluations) also get markers, so a single point shows.
                    if pts.len() <= 60 {
                        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
                    }
                }
                legend(&mut chart, 14, SeriesLabelPosition::UpperRight)?;
            }};
        }
        if *log {
            let (lo, hi) = (lo.max(1e-12), hi.max(lo.max(1e-12) * 10.0));
            finish!(builder.build_cartesian_2d(x_lo..x_hi, (lo * 0.8..hi * 1.25).log_scale())?);
        } else {
            let p = pad(lo, hi);
            finish!(builder.build_cartesian_2d(x_lo..x_hi, (lo - p)..(hi + p))?);
        }
    }
    Ok(())
}

/// Writes nothing and returns an error naming `path` when it cannot be written (or is one of
/// `inputs`).
pub fn check_out(path: &Path, inputs: &[&Path]) -> Result<Format> {
    let f = format_of(path)?;
    emt_core::fs::ensure_writable(path, inputs)?;
    Ok(f)
}

/// A line segment between two points of the plane.
pub type Segment = ((f64, f64), (f64, f64));

/// What a phase portrait shows: nullcline segments (one list per state coordinate), vector-field
/// arrows, trajectories, and fixed points by kind.
#[derive(Debug, Clone)]
pub struct Portrait<'a> {
    /// Label of the horizontal axis.
    pub x_desc: &'a str,
    /// Label of the vertical axis.
    pub y_desc: &'a str,
    /// Horizontal extent.
    pub x_range: (f64, f64),
    /// Vertical extent.
    pub y_range: (f64, f64),
    /// Nullcline segments, one list per state coordinate ([`zero_contour`]).
    pub nullclines: Vec<Vec<Segment>>,
    /// Vector-field arrows (tail, head).
    pub arrows: Vec<Segment>,
    /// Trajectories as polylines.
    pub trajectories: Vec<Vec<(f64, f64)>>,
    /// (point, stable, unstable dimensions).
    pub points: Vec<((f64, f64), bool, usize)>,
    /// State dimension (a point unstable in every direction is a source, else a saddle).
    pub dims: usize,
    /// Draw trajectories as dots (maps jump between states) instead of lines (flows).
    pub dots: bool,
    /// The zero-input attractor when it is a cycle (one period), drawn bold.
    pub cycle: Vec<(f64, f64)>,
    /// Trial end states, with their label (accepted / rejected) if known.
    pub endpoints: Vec<((f64, f64), Option<bool>)>,
    /// The zero-input run's state at the trials' final time.
    pub reference: Option<(f64, f64)>,
}

/// A phase portrait (2-D states) or a projection (higher-D), with fixed points by type:
/// stable filled, saddles (some unstable dimensions) as triangles, fully unstable as rings.
pub fn portrait<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, p: &Portrait<'_>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(22))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(p.x_range.0..p.x_range.1, p.y_range.0..p.y_range.1)?;
    chart
        .configure_mesh()
        .x_desc(p.x_desc)
        .y_desc(p.y_desc)
        .label_style(font(16))
        .axis_desc_style(font(18))
        .x_label_formatter(&|v| format!("{:.2}", v + 0.0))
        .y_label_formatter(&|v| format!("{:.2}", v + 0.0))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    let grey = RGBColor(150, 150, 150);
    chart.draw_series(p.arrows.iter().map(|&(a, b)| PathElement::new(vec![a, b], grey.stroke_width(1))))?;
    chart.draw_series(p.arrows.iter().map(|&(_, b)| Circle::new(b, 2, grey.filled())))?;
    let traj = RGBColor(110, 110, 110);
    for (k, t) in p.trajectories.iter().enumerate() {
        let s = if p.dots {
            chart.draw_series(t.iter().map(|&q| Circle::new(q, 1, traj.mix(0.6).filled())))?
        } else {
            chart.draw_series(LineSeries::new(t.iter().copied(), traj.mix(0.5).stroke_width(1)))?
        };
        if k == 0 {
            s.label("trajectories")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], traj.stroke_width(1)));
        }
    }
    if !p.cycle.is_empty() {
        let green = RGBColor(27, 120, 55);
        chart
            .draw_series(LineSeries::new(p.cycle.iter().copied(), green.stroke_width(4)))?
            .label("limit cycle (zero input)")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], green.stroke_width(4)));
    }
    let colours = [RGBColor(33, 102, 172), RGBColor(178, 24, 43), RGBColor(118, 42, 131)];
    for (i, segs) in p.nullclines.iter().enumerate() {
        let c = colours[i % colours.len()];
        let s = chart.draw_series(segs.iter().map(|&(a, b)| PathElement::new(vec![a, b], c.stroke_width(2))))?;
        s.label(format!("nullcline of x{}", i + 1))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    for (label, want, colour) in [
        ("trial ends: accepted", Some(true), RGBColor(33, 102, 172)),
        ("trial ends: rejected", Some(false), RGBColor(178, 24, 43)),
        ("trial ends", None, RGBColor(80, 80, 80)),
    ] {
        let pts: Vec<(f64, f64)> = p.endpoints.iter().filter(|e| e.1 == want).map(|e| e.0).collect();
        if !pts.is_empty() {
            chart
                .draw_series(pts.iter().map(|&q| Cross::new(q, 6, colour.stroke_width(2))))?
                .label(format!("{label} ({})", pts.len()))
                .legend(move |(x, y)| Cross::new((x + 10, y), 6, colour.stroke_width(2)));
        }
    }
    if let Some(r) = p.reference {
        let green = RGBColor(27, 120, 55);
        chart
            .draw_series(std::iter::once(Circle::new(r, 9, green.stroke_width(3))))?
            .label("zero-input run, same time")
            .legend(move |(x, y)| Circle::new((x + 10, y), 7, green.stroke_width(3)));
    }
    let stable: Vec<(f64, f64)> = p.points.iter().filter(|q| q.1).map(|q| q.0).collect();
    let saddle: Vec<(f64, f64)> = p.points.iter().filter(|q| !q.1 && q.2 > 0 && q.2 < p.dims).map(|q| q.0).collect();
    // Unstable with no unstable dimension: marginal points, drawn with the sources.
    let source: Vec<(f64, f64)> =
        p.points.iter().filter(|q| !q.1 && (q.2 >= p.dims || q.2 == 0)).map(|q| q.0).collect();
    let black = BLACK;
    chart
        .draw_series(stable.iter().map(|&q| Circle::new(q, 7, black.filled())))?
        .label(format!("stable ({})", stable.len()))
        .legend(move |(x, y)| Circle::new((x + 10, y), 6, black.filled()));
    chart
        .draw_series(saddle.iter().map(|&q| TriangleMarker::new(q, 8, RGBColor(230, 97, 1).filled())))?
        .label(format!("saddle ({})", saddle.len()))
        .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 7, RGBColor(230, 97, 1).filled()));
    chart
        .draw_series(source.iter().map(|&q| Circle::new(q, 7, black.stroke_width(2))))?
        .label(format!("unstable ({})", source.len()))
        .legend(move |(x, y)| Circle::new((x + 10, y), 6, black.stroke_width(2)));
    legend(&mut chart, 15, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

/// Zero-level segments of a field sampled on a grid (marching squares): `values[i][j]` at
/// `(xs[i], ys[j])`.
pub fn zero_contour(xs: &[f64], ys: &[f64], values: &[Vec<f64>]) -> Vec<Segment> {
    let mut segs = Vec::new();
    for i in 0..xs.len().saturating_sub(1) {
        for j in 0..ys.len().saturating_sub(1) {
            let corners = [
                (xs[i], ys[j], values[i][j]),
                (xs[i + 1], ys[j], values[i + 1][j]),
                (xs[i + 1], ys[j + 1], values[i + 1][j + 1]),
                (xs[i], ys[j + 1], values[i][j + 1]),
            ];
            let mut hits = Vec::new();
            for k in 0..4 {
                let (a, b) = (corners[k], corners[(k + 1) % 4]);
                if (a.2 < 0.0) != (b.2 < 0.0) {
                    let t = a.2 / (a.2 - b.2);
                    hits.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
                }
            }
            for pair in hits.chunks_exact(2) {
                segs.push((pair[0], pair[1]));
            }
        }
    }
    segs
}

/// What a bifurcation diagram shows (from `emt sweep-param`'s output).
#[derive(Debug, Clone)]
pub struct Diagram<'a> {
    /// Label of the parameter axis.
    pub x_desc: &'a str,
    /// Label of the state-coordinate axis.
    pub y_desc: &'a str,
    /// Continued branches: polylines of (parameter, coordinate, stable).
    pub branches: Vec<Vec<(f64, f64, bool)>>,
    /// Fixed points per swept value (parameter, coordinate, stable), drawn when no branches.
    pub points: Vec<(f64, f64, bool)>,
    /// Attractor range per value where it is a cycle: (parameter, min, max).
    pub cycles: Vec<(f64, f64, f64)>,
    /// Period per value where the attractor is a cycle.
    pub periods: Vec<(f64, f64)>,
    /// Located bifurcations: (parameter, kind).
    pub marks: Vec<(f64, String)>,
}

/// A bifurcation diagram: the state coordinate against the parameter (stable solid, unstable
/// dashed, cycles as their min and max), and the period of the cycles below it.
pub fn bifurcation<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, d: &Diagram<'_>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(title, font(24))?;
    let (top, bottom) = root.split_vertically((root.dim_in_pixel().1 as f64 * 0.66) as u32);
    let xs = d
        .branches
        .iter()
        .flatten()
        .map(|p| p.0)
        .chain(d.points.iter().map(|p| p.0))
        .chain(d.cycles.iter().map(|c| c.0));
    let (x_lo, x_hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let (x_lo, x_hi) = if x_hi > x_lo { (x_lo, x_hi) } else { (x_lo - 1.0, x_lo + 1.0) };
    let ys = d
        .branches
        .iter()
        .flatten()
        .map(|p| p.1)
        .chain(d.points.iter().map(|p| p.1))
        .chain(d.cycles.iter().flat_map(|c| [c.1, c.2]))
        .filter(|v| v.is_finite());
    let (y_lo, y_hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let (y_lo, y_hi) = if y_hi > y_lo { (y_lo, y_hi) } else { (y_lo.min(0.0) - 1.0, y_hi.max(0.0) + 1.0) };
    let pad = 0.06 * (y_hi - y_lo);
    let mut chart = ChartBuilder::on(&top)
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(65)
        .build_cartesian_2d(x_lo..x_hi, (y_lo - pad)..(y_hi + pad))?;
    chart
        .configure_mesh()
        .x_desc(d.x_desc)
        .y_desc(d.y_desc)
        .label_style(font(14))
        .axis_desc_style(font(16))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    let black = BLACK;
    // Branches split into runs of equal stability: solid if stable, dashed if not.
    let (mut shown_stable, mut shown_unstable) = (false, false);
    for b in &d.branches {
        // Runs of equal stability; where stability changes between two points, the runs meet
        // at a located bifurcation inside that interval (else at the midpoint).
        let mut start = 0;
        let mut from: Option<(f64, f64)> = None;
        while start < b.len() {
            let stable = b[start].2;
            let mut end = start;
            while end + 1 < b.len() && b[end + 1].2 == stable {
                end += 1;
            }
            let mut pts: Vec<(f64, f64)> = from.into_iter().collect();
            pts.extend(b[start..=end].iter().map(|p| (p.0, p.1)));
            from = None;
            if end + 1 < b.len() {
                let (a, c) = (b[end], b[end + 1]);
                let (lo, hi) = (a.0.min(c.0), a.0.max(c.0));
                let split = d.marks.iter().map(|m| m.0).find(|&m| m > lo && m < hi).unwrap_or(0.5 * (a.0 + c.0));
                let w = if c.0 != a.0 { (split - a.0) / (c.0 - a.0) } else { 0.5 };
                let q = (split, a.1 + w * (c.1 - a.1));
                pts.push(q);
                from = Some(q);
            }
            if stable {
                let s = chart.draw_series(LineSeries::new(pts, black.stroke_width(2)))?;
                if !shown_stable {
                    s.label("stable fixed points")
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], black.stroke_width(2)));
                    shown_stable = true;
                }
            } else {
                let s = chart.draw_series(DashedLineSeries::new(pts, 6, 4, black.stroke_width(2)))?;
                if !shown_unstable {
                    s.label("unstable fixed points (dashed)")
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 8, y)], black.stroke_width(2)));
                    shown_unstable = true;
                }
            }
            start = end + 1;
        }
    }
    if d.branches.is_empty() {
        let st: Vec<(f64, f64)> = d.points.iter().filter(|p| p.2).map(|p| (p.0, p.1)).collect();
        let un: Vec<(f64, f64)> = d.points.iter().filter(|p| !p.2).map(|p| (p.0, p.1)).collect();
        chart
            .draw_series(st.iter().map(|&q| Circle::new(q, 4, black.filled())))?
            .label("stable fixed points")
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, black.filled()));
        chart
            .draw_series(un.iter().map(|&q| Circle::new(q, 4, black.stroke_width(1))))?
            .label("unstable fixed points")
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, black.stroke_width(1)));
    }
    let green = RGBColor(27, 120, 55);
    if !d.cycles.is_empty() {
        chart
            .draw_series(
                d.cycles.iter().flat_map(|c| [(c.0, c.1), (c.0, c.2)]).map(|q| Circle::new(q, 4, green.filled())),
            )?
            .label("cycle: min and max")
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, green.filled()));
    }
    let red = RGBColor(178, 24, 43);
    for (k, (p, kind)) in d.marks.iter().enumerate() {
        let s = chart.draw_series(DashedLineSeries::new(
            vec![(*p, y_lo - pad), (*p, y_hi + pad)],
            3,
            3,
            red.stroke_width(1),
        ))?;
        if k == 0 {
            s.label("bifurcations")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], red.stroke_width(1)));
        }
        chart.draw_series(std::iter::once(Text::new(
            format!("{kind} {p:.4}"),
            (*p, y_hi + 0.5 * pad),
            font(13).color(&red),
        )))?;
    }
    legend(&mut chart, 14, SeriesLabelPosition::LowerLeft)?;
    let (t_lo, t_hi) = d.periods.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (t_lo, t_hi) = if t_hi > t_lo {
        (t_lo, t_hi)
    } else if t_lo.is_finite() {
        (t_lo - 1.0, t_lo + 1.0)
    } else {
        (0.0, 1.0)
    };
    let tp = 0.08 * (t_hi - t_lo);
    let mut lower = ChartBuilder::on(&bottom)
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(65)
        .build_cartesian_2d(x_lo..x_hi, (t_lo - tp)..(t_hi + tp))?;
    lower
        .configure_mesh()
        .x_desc(d.x_desc)
        .y_desc("period of the cycle")
        .label_style(font(14))
        .axis_desc_style(font(16))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    lower.draw_series(LineSeries::new(d.periods.iter().copied(), green.stroke_width(2)))?;
    lower.draw_series(d.periods.iter().map(|&q| Circle::new(q, 3, green.filled())))?;
    Ok(())
}

/// Phase response curves: the shift caused by each symbol's pulse against the arrival phase.
pub fn prc<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    curves: &[(String, Vec<(f64, f64)>)],
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let pi = std::f64::consts::PI;
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(22))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(-pi..pi, -pi * 1.08..pi * 1.08)?;
    chart
        .configure_mesh()
        .x_desc("arrival phase (rad)")
        .y_desc("phase shift (rad, > 0 advance)")
        .label_style(font(15))
        .axis_desc_style(font(17))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    let palette = [RGBColor(27, 120, 55), RGBColor(118, 42, 131), RGBColor(178, 24, 43), RGBColor(33, 102, 172)];
    for (k, (name, pts)) in curves.iter().enumerate() {
        let c = palette[k % palette.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&q| Circle::new(q, 3, c.filled())))?;
    }
    legend(&mut chart, 15, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

/// Grouped bars: for each group (x), one bar per series; `None` leaves a gap.
pub fn bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    groups: &[String],
    series: &[(String, Vec<Option<f64>>)],
    y_range: (f64, f64),
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let g = groups.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(22))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(-0.5..(g as f64 - 0.5), y_range.0..y_range.1)?;
    let names: Vec<String> = groups.to_vec();
    chart
        .configure_mesh()
        .x_desc("slot (oldest first)")
        .y_desc(y_desc)
        .label_style(font(15))
        .axis_desc_style(font(17))
        .x_labels(g)
        .x_label_formatter(&|v| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 {
                names.get(k as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    let palette = [RGBColor(33, 102, 172), RGBColor(178, 24, 43), RGBColor(27, 120, 55), RGBColor(118, 42, 131)];
    let k = series.len().max(1) as f64;
    let width = 0.8 / k;
    for (j, (name, values)) in series.iter().enumerate() {
        let c = palette[j % palette.len()];
        let x0 = -0.4 + width * j as f64;
        chart
            .draw_series(values.iter().enumerate().filter_map(|(i, v)| {
                v.map(|v| Rectangle::new([(i as f64 + x0, y_range.0), (i as f64 + x0 + width * 0.9, v)], c.filled()))
            }))?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
    }
    legend(&mut chart, 15, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

/// One state of an automaton figure: where it sits (fractions of the canvas), its label, and
/// whether it accepts / starts.
#[derive(Debug, Clone)]
pub struct Node {
    /// Position as fractions (0..1) of the drawing area below the title.
    pub at: (f64, f64),
    /// Text inside the circle.
    pub label: String,
    /// An accepting state (double circle).
    pub accept: bool,
    /// The start state (an arrow into it).
    pub start: bool,
}

/// An automaton figure: states and transitions `(from, to, symbol, determinism)`, one colour
/// per symbol; a transition's opacity is its determinism.
#[derive(Debug, Clone)]
pub struct Graph<'a> {
    /// The states.
    pub nodes: Vec<Node>,
    /// Transitions `(from, to, symbol, determinism in [0, 1])`, indices into `nodes` and
    /// `symbols`.
    pub edges: Vec<(usize, usize, usize, f64)>,
    /// The symbols' names, for the legend.
    pub symbols: &'a [&'a str],
    /// Column captions (layered layouts), placed at the given fractions of the width.
    pub columns: Vec<(f64, String)>,
    /// A line under the symbol legend (what the node labels mean).
    pub note: String,
}

/// A point along the quadratic Bezier a -> b bent by `bend` pixels to the left of travel.
fn bezier(a: (f64, f64), b: (f64, f64), bend: f64, t: f64) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let c = ((a.0 + b.0) / 2.0 + bend * dy / len, (a.1 + b.1) / 2.0 - bend * dx / len);
    let u = 1.0 - t;
    (u * u * a.0 + 2.0 * u * t * c.0 + t * t * b.0, u * u * a.1 + 2.0 * u * t * c.1 + t * t * b.1)
}

/// A filled arrow head at `tip`, pointing along `from -> tip`.
fn arrow_head(from: (f64, f64), tip: (f64, f64), size: f64) -> Vec<(i32, i32)> {
    let (dx, dy) = (tip.0 - from.0, tip.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let (ux, uy) = (dx / len, dy / len);
    let base = (tip.0 - size * ux, tip.1 - size * uy);
    let w = size * 0.45;
    [tip, (base.0 - w * uy, base.1 + w * ux), (base.0 + w * uy, base.1 - w * ux)]
        .map(|(x, y)| (x.round() as i32, y.round() as i32))
        .to_vec()
}

/// A state diagram: circles (double for accept states, an arrow into the start), transitions as
/// bent arrows coloured by symbol (parallel ones fanned out), self-loops as small circles above.
pub fn automaton<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, g: &Graph<'_>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(title, font(22))?;
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (f64::from(w), f64::from(h));
    let (top, margin) = (90.0, 70.0);
    let px = |at: (f64, f64)| (margin + at.0 * (w - 2.0 * margin), top + at.1 * (h - top - margin));
    let ipx = |p: (f64, f64)| (p.0.round() as i32, p.1.round() as i32);
    let palette = [RGBColor(27, 120, 55), RGBColor(118, 42, 131), RGBColor(178, 24, 43), RGBColor(33, 102, 172)];
    let radius = 26.0;
    for (k, name) in g.symbols.iter().enumerate() {
        let c = palette[k % palette.len()];
        let y = h as i32 - 90 + 22 * k as i32;
        root.draw(&PathElement::new(vec![(20, y), (50, y)], c.stroke_width(3)))?;
        root.draw(&Text::new(name.to_string(), (56, y - 9), font(16)))?;
    }
    let note = format!("opacity = determinism; {}", g.note);
    root.draw(&Text::new(note, (20, h as i32 - 98 + 22 * g.symbols.len() as i32), font(13)))?;
    for (x, caption) in &g.columns {
        let p = px((*x, 0.0));
        root.draw(&Text::new(caption.clone(), ((p.0 - 45.0) as i32, (top - 60.0) as i32), font(15)))?;
    }
    // Parallel transitions between the same two states fan out by symbol.
    for &(a, b, sym, det) in &g.edges {
        let (Some(na), Some(nb)) = (g.nodes.get(a), g.nodes.get(b)) else { continue };
        let c = palette[sym % palette.len()];
        let style = c.mix(det.clamp(0.15, 1.0)).stroke_width(2);
        let fill = c.mix(det.clamp(0.15, 1.0)).filled();
        let (pa, pb) = (px(na.at), px(nb.at));
        if a == b {
            // A loop above the node, one per symbol, side by side.
            let centre = (pa.0 + (sym as f64 - 1.0) * 22.0, pa.1 - radius - 12.0);
            let pts: Vec<(i32, i32)> = (0..=40)
                .map(|i| {
                    let t = std::f64::consts::PI * (0.75 + 1.5 * f64::from(i) / 40.0);
                    ipx((centre.0 + 12.0 * t.cos(), centre.1 - 12.0 * t.sin()))
                })
                .collect();
            root.draw(&PathElement::new(pts.clone(), style))?;
            let n = pts.len();
            let (from, tip) = (pts[n - 3], pts[n - 1]);
            root.draw(&Polygon::new(
                arrow_head((f64::from(from.0), f64::from(from.1)), (f64::from(tip.0), f64::from(tip.1)), 9.0),
                fill,
            ))?;
            continue;
        }
        let same: Vec<usize> = g.edges.iter().filter(|e| (e.0, e.1) == (a, b)).map(|e| e.2).collect();
        let rank = same.iter().position(|&s| s == sym).unwrap_or(0) as f64;
        let reverse = g.edges.iter().any(|e| (e.0, e.1) == (b, a));
        let bend = (rank - (same.len() as f64 - 1.0) / 2.0) * 26.0 + if reverse { 18.0 } else { 0.0 };
        let pts: Vec<(f64, f64)> = (0..=30).map(|i| bezier(pa, pb, bend, f64::from(i) / 30.0)).collect();
        let outside = |p: &(f64, f64), c: (f64, f64)| ((p.0 - c.0).powi(2) + (p.1 - c.1).powi(2)).sqrt() > radius + 2.0;
        let visible: Vec<(f64, f64)> = pts.iter().copied().filter(|p| outside(p, pa) && outside(p, pb)).collect();
        if visible.len() < 2 {
            continue;
        }
        root.draw(&PathElement::new(visible.iter().map(|&p| ipx(p)).collect::<Vec<_>>(), style))?;
        let n = visible.len();
        root.draw(&Polygon::new(arrow_head(visible[n - 2], visible[n - 1], 11.0), fill))?;
    }
    for n in &g.nodes {
        let p = px(n.at);
        root.draw(&Circle::new(ipx(p), radius as i32, WHITE.filled()))?;
        root.draw(&Circle::new(ipx(p), radius as i32, BLACK.stroke_width(2)))?;
        if n.accept {
            root.draw(&Circle::new(ipx(p), radius as i32 - 5, BLACK.stroke_width(1)))?;
        }
        if n.start {
            let from = (p.0 - radius - 30.0, p.1);
            let tip = (p.0 - radius - 2.0, p.1);
            root.draw(&PathElement::new(vec![ipx(from), ipx(tip)], BLACK.stroke_width(2)))?;
            root.draw(&Polygon::new(arrow_head(from, tip, 10.0), BLACK.filled()))?;
        }
        let size = if n.label.len() > 3 { 13 } else { 16 };
        let half = 0.3 * f64::from(size) * n.label.chars().count() as f64;
        root.draw(&Text::new(
            n.label.clone(),
            ((p.0 - half) as i32, (p.1 - f64::from(size) / 2.0) as i32),
            font(size),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Lyapunov figure is written as PNG and SVG, with no temporary file left, and a bad
    /// extension is refused by name.
    #[test]
    fn the_lyapunov_figure_is_saved() {
        use emt_dynamics::{KaplanYorke, LyapunovSpectrum, TimeUnit, TracePoint};
        let s = LyapunovSpectrum {
            exponents: vec![0.1, -0.5],
            time_unit: TimeUnit::Time,
            trace: (1..=20)
                .map(|k| TracePoint { time: k as f64, exponents: vec![0.1 + 1.0 / k as f64, -0.5] })
                .collect(),
            sum_rule: None,
            kaplan_yorke: KaplanYorke::of(&[0.1, -0.5], 2),
            final_state: ndarray::Array1::zeros(2),
        };
        let dir = std::env::temp_dir().join(format!("emt-plot-lyapunov-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["l.png", "l.svg"] {
            save_lyapunov(&dir.join(name), &s, "test").unwrap();
            assert!(std::fs::metadata(dir.join(name)).unwrap().len() > 1000);
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        assert!(save_lyapunov(&dir.join("l.jpg"), &s, "test").unwrap_err().to_string().contains("jpg"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn zero_contour_of_a_circle_lies_on_it() {
        let xs: Vec<f64> = (0..41).map(|i| -1.0 + i as f64 / 20.0).collect();
        let v: Vec<Vec<f64>> = xs.iter().map(|&x| xs.iter().map(|&y| x * x + y * y - 0.5).collect()).collect();
        let segs = zero_contour(&xs, &xs, &v);
        assert!(segs.len() > 40);
        for ((a, b), (c, d)) in segs {
            for r in [(a * a + b * b).sqrt(), (c * c + d * d).sqrt()] {
                assert!((r - 0.5f64.sqrt()).abs() < 0.01, "{r}");
            }
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
    }

    #[test]
    fn the_font_is_valid_and_embedding_keeps_the_svg_well_formed() {
        register_fonts().unwrap();
        let svg = "<svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\">\n<text font-family=\"sans-serif\">x</text></svg>";
        let out = embed_font(svg);
        assert!(out.starts_with(
            "<svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\"><defs><style>@font-face"
        ));
        assert!(out.contains("font-family=\"emt-sans\">x</text>") && out.ends_with("</svg>"));
    }
}

/// The README's example, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
