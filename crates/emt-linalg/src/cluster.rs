//! Single-linkage clustering with the largest-gap cut: groups of points at their natural scale,
//! without a distance threshold (used to read automaton states off network states).

use emt_core::{Error, Result, check};
use ndarray::{ArrayView1, ArrayView2};

/// What [`single_linkage`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Clusters {
    /// Each point's cluster `(K)`, numbered by first appearance.
    pub labels: Vec<usize>,
    /// The cut's ratio between the shortest edge cut and the longest edge kept (NaN below 3
    /// points, where there is no pair of edges to compare).
    pub gap_ratio: f64,
    /// The longest minimum-spanning-tree edge kept inside a cluster.
    pub longest_kept: f64,
}

impl Clusters {
    /// Number of clusters.
    pub fn count(&self) -> usize {
        self.labels.iter().max().map_or(0, |x| x + 1)
    }
}

fn distance(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
    (&a - &b).mapv(|v| v * v).sum().sqrt()
}

/// Single-linkage clusters of the rows of `points` `(K, n)`, cut at the largest ratio between
/// consecutive edges of the minimum spanning tree (sorted by length; at most `max_clusters`
/// clusters; never cutting below the median edge, since ratios between the short edges inside
/// a cluster say nothing about its scale). O(K^2 n) time, O(K) memory.
///
/// ```
/// // Two pairs far apart: two clusters; the edge cut (9.9) is 99 times the longest kept (0.1).
/// let p = ndarray::array![[0.0, 0.0], [0.1, 0.0], [10.0, 0.0], [10.1, 0.0]];
/// let c = emt_linalg::single_linkage(p.view(), 5)?;
/// assert_eq!((c.labels.clone(), c.count()), (vec![0, 0, 1, 1], 2));
/// assert!((c.gap_ratio - 99.0).abs() < 1e-9);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn single_linkage(points: ArrayView2<'_, f64>, max_clusters: usize) -> Result<Clusters> {
    check::finite("points", &points)?;
    if max_clusters == 0 {
        return Err(Error::param("max_clusters", 0, "must be >= 1"));
    }
    let n = points.nrows();
    let dist = |i: usize, j: usize| distance(points.row(i), points.row(j));
    // Below 3 points there is no pair of edges to compare: one cluster.
    if n < 3 {
        let d = if n == 2 { dist(0, 1) } else { 0.0 };
        return Ok(Clusters { labels: vec![0; n], gap_ratio: f64::NAN, longest_kept: d });
    }
    // Prim on the complete graph.
    let mut in_tree = vec![false; n];
    let mut best = vec![(f64::INFINITY, 0usize); n];
    let mut edges: Vec<(f64, usize, usize)> = Vec::with_capacity(n - 1);
    let mut current = 0;
    in_tree[0] = true;
    for _ in 1..n {
        for j in 0..n {
            if !in_tree[j] {
                let d = dist(current, j);
                if d < best[j].0 {
                    best[j] = (d, current);
                }
            }
        }
        let next = (0..n).filter(|&j| !in_tree[j]).min_by(|&a, &b| best[a].0.total_cmp(&best[b].0)).unwrap_or(0);
        in_tree[next] = true;
        edges.push((best[next].0, best[next].1, next));
        current = next;
    }
    edges.sort_by(|a, b| b.0.total_cmp(&a.0));
    // Cutting the j longest edges gives j + 1 clusters; pick j with the largest e_j / e_{j+1}.
    let median = edges[(n - 1) / 2].0;
    let top = max_clusters.saturating_sub(1).min(n - 2).max(1);
    let (cut, ratio) = (1..=top)
        .filter(|&j| j == 1 || edges[j].0 >= median)
        .map(|j| (j, edges[j - 1].0 / edges[j].0.max(f64::MIN_POSITIVE)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((1, f64::NAN));
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(_, a, b) in &edges[cut..] {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra] = rb;
    }
    let mut ids = std::collections::HashMap::new();
    let labels = (0..n)
        .map(|i| {
            let r = root(&mut parent, i);
            let next = ids.len();
            *ids.entry(r).or_insert(next)
        })
        .collect();
    Ok(Clusters { labels, gap_ratio: ratio, longest_kept: edges[cut].0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn cluster(points: &[[f64; 3]], max: usize) -> Vec<usize> {
        let a = Array2::from_shape_fn((points.len(), 3), |(i, j)| points[i][j]);
        single_linkage(a.view(), max).unwrap().labels
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Blobs whose spacing is at least 8 times their diameter come back exactly, whatever
        /// their number (2-8), place and the order of the points.
        #[test]
        fn single_linkage_recovers_separated_blobs(seed in 0u64..10_000, blobs in 2usize..9, per in 3usize..12) {
            use rand::Rng;
            let mut r = emt_core::rng::seeded(seed);
            // Centres on a coarse lattice (spacing 8), points within radius 0.5 of them.
            let mut centres: Vec<[f64; 3]> = Vec::new();
            while centres.len() < blobs {
                let c = [0, 1, 2].map(|_| 8.0 * f64::from(r.random_range(0..6)));
                if !centres.contains(&c) {
                    centres.push(c);
                }
            }
            let mut points = Vec::new();
            let mut truth = Vec::new();
            for i in 0..blobs * per {
                let b = r.random_range(0..blobs);
                let b = if i < blobs { i } else { b };
                points.push(centres[b].map(|c| c + r.random_range(-0.28..0.28)));
                truth.push(b);
            }
            let labels = cluster(&points, 20);
            for i in 0..points.len() {
                for j in 0..points.len() {
                    proptest::prop_assert_eq!(labels[i] == labels[j], truth[i] == truth[j]);
                }
            }
        }
    }

    #[test]
    fn four_blobs_and_degenerate_inputs() {
        use rand::Rng;
        let mut r = emt_core::rng::stream(3, 0);
        let centres = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]];
        let points = Array2::from_shape_fn((80, 2), |(i, j)| centres[i % 4][j] + r.random_range(-1.0..1.0));
        let c = single_linkage(points.view(), 20).unwrap();
        assert!(c.gap_ratio > 2.0, "{}", c.gap_ratio);
        for (i, &l) in c.labels.iter().enumerate() {
            assert_eq!(l, c.labels[i % 4], "point {i}");
        }
        assert_eq!((c.labels[..4].to_vec(), c.count()), (vec![0, 1, 2, 3], 4));
        // Degenerate inputs: no panic, one cluster; bad input is a typed error.
        for k in 0..3 {
            assert_eq!(single_linkage(points.slice(ndarray::s![..k, ..]), 20).unwrap().labels, vec![0; k]);
        }
        assert!(matches!(single_linkage(points.view(), 0), Err(Error::InvalidParameter { .. })));
        let mut bad = points.clone();
        bad[[5, 1]] = f64::NAN;
        assert!(matches!(single_linkage(bad.view(), 3), Err(Error::NonFinite { .. })));
    }
}
