//! Every figure kind draws to PNG and SVG; bad targets are refused before drawing.

use emt_plot::{Curve, Diagram, EigenSet, Figure, Graph, Node, PALETTE, PhasePanel, Portrait};
use ndarray::Array2;
use num_complex::Complex64;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("emt-plot-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_figure_kind_draws_as_png_and_svg() {
    let dir = scratch("kinds");
    let eig = [Complex64::new(0.5, 0.2), Complex64::new(0.5, -0.2), Complex64::new(-1.2, 0.0)];
    let sets = [EigenSet { label: "W_hh", values: &eig, color: PALETTE[0], cross: false }];
    let m = Array2::from_shape_fn((4, 6), |(i, j)| i as f64 - j as f64);
    let heat = [("M", m.view())];
    let grid = Array2::from_shape_fn((2, 3), |(i, j)| 0.1 * (i + j) as f64 - 0.15);
    let phase = [PhasePanel { title: "lambda_max", values: grid.view(), diverging: true }];
    let curves = [(
        "panel",
        "x",
        "y",
        false,
        vec![Curve { label: "c", points: vec![(0.0, 1.0), (1.0, 2.0)], color: PALETTE[1] }],
    )];
    let portrait = Portrait {
        x_desc: "h1",
        y_desc: "h2",
        x_range: (-1.0, 1.0),
        y_range: (-1.0, 1.0),
        nullclines: vec![vec![((-1.0, 0.0), (1.0, 0.0))], vec![((0.0, -1.0), (0.0, 1.0))]],
        arrows: vec![((0.5, 0.5), (0.4, 0.4))],
        trajectories: vec![vec![(0.9, 0.9), (0.5, 0.4), (0.1, 0.05)]],
        points: vec![((0.0, 0.0), true, 0), ((0.5, 0.0), false, 1)],
        dims: 2,
        dots: false,
        cycle: vec![],
        endpoints: vec![((0.1, 0.1), Some(true))],
        reference: None,
    };
    let diagram = Diagram {
        x_desc: "g",
        y_desc: "h",
        branches: vec![vec![(0.0, 0.0, true), (1.0, 0.0, false)]],
        points: vec![],
        cycles: vec![(1.5, -0.5, 0.5)],
        periods: vec![(1.5, 6.0)],
        marks: vec![(1.0, "pitchfork".into())],
    };
    let prc = [("pulse".to_string(), (0..20).map(|k| (0.3 * k as f64, (0.3 * k as f64).sin())).collect())];
    let groups = ["a".to_string(), "b".to_string()];
    let series = [("method".to_string(), vec![Some(0.9), None])];
    let graph = Graph {
        nodes: vec![
            Node { at: (0.2, 0.5), label: "0".into(), accept: true, start: true },
            Node { at: (0.8, 0.5), label: "1".into(), accept: false, start: false },
        ],
        edges: vec![(0, 1, 0, 1.0), (1, 0, 1, 0.6), (1, 1, 0, 1.0)],
        symbols: &["x", "y"],
        columns: vec![],
        note: "two states".into(),
    };
    let figures = [
        ("spectrum", Figure::Spectrum { title: "spectrum", sets: &sets, flow: false }),
        ("heatmaps", Figure::Heatmaps { title: "M", panels: &heat, x_desc: "j", y_desc: "i", row_groups: Some(2) }),
        (
            "phase",
            Figure::PhaseDiagram {
                title: "phase",
                panels: &phase,
                xs: &[1.0, 2.0, 3.0],
                ys: &[0.0, 4.0],
                x_desc: "g_h",
                y_desc: "alpha_r",
            },
        ),
        ("curves", Figure::Curves { title: "curves", panels: &curves }),
        ("portrait", Figure::Portrait { title: "portrait", portrait: &portrait }),
        ("bifurcation", Figure::Bifurcation { title: "bifurcation", diagram: &diagram }),
        ("prc", Figure::Prc { title: "prc", curves: &prc }),
        (
            "bars",
            Figure::Bars { title: "bars", y_desc: "accuracy", groups: &groups, series: &series, y_range: (0.0, 1.0) },
        ),
        ("automaton", Figure::Automaton { title: "automaton", graph: &graph }),
    ];
    for (name, figure) in &figures {
        let png = dir.join(format!("{name}.png"));
        emt_plot::save(&png, (640, 480), figure).unwrap();
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}");
        let svg = dir.join(format!("{name}.SVG"));
        emt_plot::save(&svg, (640, 480), figure).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("<svg") && text.contains("@font-face"), "{name}");
    }
    // Nothing but the figures: no temporary file left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2 * figures.len());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_targets_are_refused_by_name_and_nothing_is_written() {
    let dir = scratch("bad");
    let curves = [("p", "x", "y", false, vec![Curve { label: "c", points: vec![(0.0, 1.0)], color: PALETTE[0] }])];
    let fig = Figure::Curves { title: "t", panels: &curves };
    let e = emt_plot::save(&dir.join("figure.jpg"), (100, 100), &fig).unwrap_err().to_string();
    assert!(e.contains("figure.jpg") && e.contains(".png or .svg"), "{e}");
    let e = emt_plot::save(&dir.join("missing/figure.png"), (100, 100), &fig).unwrap_err().to_string();
    assert!(e.contains("missing"), "{e}");
    let e = emt_plot::save(&dir.join("f.png"), (0, 100), &fig).unwrap_err().to_string();
    assert!(e.contains("0x100"), "{e}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
