//! Figures as PNG or SVG (chosen by the file extension), drawn with plotters. Text uses a
//! font compiled into the binary (a subset of DejaVu Sans): PNGs never touch system fonts,
//! and SVGs carry the same font inline (`@font-face` with a data URL), so both look the same
//! on any machine.

use std::path::Path;

use emt_core::{Error, Result};
use ndarray::ArrayView2;
use num_complex::Complex64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// The embedded font (DejaVu Sans subset: Latin, Greek, common math symbols).
pub const FONT: &[u8] = include_bytes!("../assets/emt-sans.ttf");
/// The family name the plots use.
pub const FAMILY: &str = "emt-sans";

/// Registers the embedded font under our family and plotters' default "sans-serif" (used by
/// axis labels unless a style says otherwise), in both styles plotters asks for.
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

pub fn format_of(path: &Path) -> Result<Format> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(Error::param("--out", path.display(), "must end in .png or .svg")),
    }
}

pub fn draw_err(path: &Path, e: impl std::fmt::Display) -> Error {
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

/// Renders `$draw(&root, args..)` to `$path` (PNG or SVG by extension) at `$size` pixels.
macro_rules! render {
    ($path:expr, $size:expr, $draw:path $(, $arg:expr)* $(,)?) => {{
        let path: &std::path::Path = $path;
        match $crate::plots::format_of(path)? {
            $crate::plots::Format::Png => {
                let root = plotters::prelude::IntoDrawingArea::into_drawing_area(plotters::prelude::BitMapBackend::new(path, $size));
                $draw(&root $(, $arg)*).map_err(|e| $crate::plots::draw_err(path, e))?;
                root.present().map_err(|e| $crate::plots::draw_err(path, e))?;
            }
            $crate::plots::Format::Svg => {
                let mut svg = String::new();
                {
                    let root = plotters::prelude::IntoDrawingArea::into_drawing_area(plotters::prelude::SVGBackend::with_string(&mut svg, $size));
                    $draw(&root $(, $arg)*).map_err(|e| $crate::plots::draw_err(path, e))?;
                    root.present().map_err(|e| $crate::plots::draw_err(path, e))?;
                }
                $crate::common::write_atomic(path, $crate::plots::embed_font(&svg).as_bytes())?;
            }
        }
    }};
}
pub(crate) use render;

type DrawResult<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// One labelled set of eigenvalues.
pub struct EigenSet<'a> {
    pub label: &'a str,
    pub values: &'a [Complex64],
    pub color: RGBColor,
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
    chart
        .configure_series_labels()
        .label_font(font(16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
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

/// One training-log series.
pub struct Curve<'a> {
    pub label: &'a str,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
}

/// Whole numbers as integers; other tick positions stay unlabelled (steps, indices).
fn integer_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { String::new() }
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
            (true, false) => (x_lo.min(0.0), x_hi.max(x_lo + 1.0)),
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
                    .x_label_formatter(&integer_label)
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
                chart
                    .configure_series_labels()
                    .label_font(font(14))
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK.mix(0.4))
                    .position(SeriesLabelPosition::UpperRight)
                    .draw()?;
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

/// Writes nothing and returns an error naming `path` when it cannot be written.
pub fn check_out(path: &Path) -> Result<Format> {
    let f = format_of(path)?;
    crate::common::ensure_writable(path)?;
    Ok(f)
}

/// A line segment between two points of the plane.
pub type Segment = ((f64, f64), (f64, f64));

/// What a phase portrait shows: nullcline segments (one list per state coordinate), vector-field
/// arrows, trajectories, and fixed points by kind.
pub struct Portrait<'a> {
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub nullclines: Vec<Vec<Segment>>,
    pub arrows: Vec<Segment>,
    pub trajectories: Vec<Vec<(f64, f64)>>,
    /// (point, stable, unstable dimensions).
    pub points: Vec<((f64, f64), bool, usize)>,
    /// State dimension (a point unstable in every direction is a source, else a saddle).
    pub dims: usize,
    /// Draw trajectories as dots (maps jump between states) instead of lines (flows).
    pub dots: bool,
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
    let colours = [RGBColor(33, 102, 172), RGBColor(178, 24, 43), RGBColor(27, 120, 55)];
    for (i, segs) in p.nullclines.iter().enumerate() {
        let c = colours[i % colours.len()];
        let s = chart.draw_series(segs.iter().map(|&(a, b)| PathElement::new(vec![a, b], c.stroke_width(2))))?;
        s.label(format!("nullcline of x{}", i + 1))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
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
    chart
        .configure_series_labels()
        .label_font(font(15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
