//! Automatic placement on a 12-column dashboard of 200 widgets packed in rows.
//!
//! `cargo bench -p prismiq-core --bench placement`

use std::hint::black_box;

use criterion::Criterion;
use prismiq_core::WidgetPosition;
use prismiq_core::placement::{Grid, place};

const COLUMNS: u32 = 12;

/// 200 widgets 2–6 wide and 2–5 high, laid left to right in rows as tall as their tallest
/// widget, which leaves holes under the shorter ones and at the ends of the rows.
fn dashboard() -> Vec<WidgetPosition> {
    let (mut x, mut y, mut row_height) = (0, 0, 0);
    (0..200u32)
        .map(|i| {
            let (w, h) = (2 + i * 7 % 5, 2 + i * 3 % 4);
            if x + w > COLUMNS {
                (x, y, row_height) = (0, y + row_height, 0);
            }
            let position = WidgetPosition::new(x, y, w, h).expect("a valid size");
            x += w;
            row_height = row_height.max(h);
            position
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let widgets = dashboard();
    c.bench_function("place 4x3 among 200 widgets", |b| {
        b.iter(|| place(black_box(COLUMNS), black_box(&widgets), 4, 3))
    });
    c.bench_function("place 12x3 among 200 widgets (below everything)", |b| {
        b.iter(|| place(black_box(COLUMNS), black_box(&widgets), 12, 3))
    });
    c.bench_function("place 20 widgets 4x3 in a grid of 200", |b| {
        b.iter(|| {
            let mut grid = Grid::new(COLUMNS, black_box(&widgets).iter().copied());
            for _ in 0..20 {
                black_box(grid.place(4, 3));
            }
        })
    });
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
