//! Automatic placement: where a widget lands when it comes without a position.
//!
//! A widget without a position keeps its size and takes the first free rectangle of the grid,
//! scanning rows top-down and, within a row, columns left to right, inside the layout's columns;
//! only when no hole fits does it go below everything.
//!
//! Stored positions are not guaranteed clean: they may overlap each other or stick out past the
//! columns. Every cell they cover counts as taken; cells outside the columns never matter, since
//! a placed widget never goes there.
//!
//! The first free rectangle always starts at row 0 or on the bottom edge of a widget (otherwise
//! it could move up a row), so only those rows are candidates, whatever the coordinates: the work
//! and memory depend on the number of widgets, never on how far down the grid they sit.

use std::iter;

use crate::model::WidgetPosition;

/// Widest grid whose rows are tracked as `u128` bitmasks; wider grids sweep column intervals.
const MASK_COLUMNS: u32 = u128::BITS;

/// The first free `w`×`h` rectangle of a grid of `columns` columns around the `occupied` ones.
///
/// Precisely, with `bottom` the lowest edge (`y + h`) of the occupied positions: the first
/// `(y, x)`, `y` in `0..bottom` then `x` in `0..=columns - w`, whose rectangle covers no occupied
/// cell (rows below `bottom` are free, so a rectangle may reach past it); if there is none,
/// `(0, bottom)`, below everything.
///
/// `w` wider than `columns` is clamped to `columns`; `columns`, `w` and `h` below 1 are raised
/// to 1. The result always lies inside the columns and overlaps no occupied cell — unless stored
/// positions reach past row `u32::MAX` and leave no free rectangle above it, where the widget
/// lands at `(0, u32::MAX)`, the lowest row a position can name.
///
/// Placing several widgets one after another is cheaper with a [`Grid`].
pub fn place(columns: u32, occupied: &[WidgetPosition], w: u32, h: u32) -> WidgetPosition {
    Grid::new(columns, occupied.iter().copied()).place(w, h)
}

/// A grid being filled: placed widgets are added to it, so the next lands after them.
///
/// [`Grid::place`] follows the rule of [`place`] with every position occupied so far.
#[derive(Debug, Clone)]
pub struct Grid {
    columns: u32,
    cells: Cells,
}

impl Grid {
    /// A grid of `columns` columns (at least 1) with the `occupied` positions taken.
    pub fn new(columns: u32, occupied: impl IntoIterator<Item = WidgetPosition>) -> Self {
        let columns = columns.max(1);
        Self::build(columns, occupied, columns <= MASK_COLUMNS)
    }

    fn build(
        columns: u32,
        occupied: impl IntoIterator<Item = WidgetPosition>,
        masks: bool,
    ) -> Self {
        let rects = occupied
            .into_iter()
            .filter_map(|position| Rect::clipped(position, columns));
        let cells = if masks {
            Cells::Bands(Bands::new(rects.collect()))
        } else {
            Cells::Rects(rects.collect())
        };
        Self { columns, cells }
    }

    /// Places a `w`×`h` widget at the first free rectangle and marks it occupied.
    ///
    /// `w` is clamped to the columns, as in [`place`].
    pub fn place(&mut self, w: u32, h: u32) -> WidgetPosition {
        let w = w.clamp(1, self.columns);
        let h = h.max(1);
        let (x, y) = match &self.cells {
            Cells::Bands(bands) => bands.first_fit(self.columns, w, h),
            Cells::Rects(rects) => first_fit_sweep(rects, self.columns, w, h),
        }
        .unwrap_or((0, u32::MAX));
        let position = WidgetPosition { x, y, w, h };
        self.occupy(position);
        position
    }

    /// Marks a position as occupied (a widget that came with its own position).
    pub fn occupy(&mut self, position: WidgetPosition) {
        let Some(rect) = Rect::clipped(position, self.columns) else {
            return;
        };
        match &mut self.cells {
            Cells::Bands(bands) => bands.occupy(rect),
            Cells::Rects(rects) => rects.push(rect),
        }
    }
}

/// The occupied cells of a grid, in the representation that suits its width.
#[derive(Debug, Clone)]
enum Cells {
    /// Up to [`MASK_COLUMNS`] columns.
    Bands(Bands),
    /// Any width.
    Rects(Vec<Rect>),
}

/// The part of an occupied position inside the columns, as half-open ranges in `u64`, where
/// `y + h` and `x + w` cannot overflow.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x: (u64, u64),
    y: (u64, u64),
}

impl Rect {
    /// `None` when no cell of `position` lies inside the columns.
    fn clipped(position: WidgetPosition, columns: u32) -> Option<Self> {
        let x0 = u64::from(position.x);
        let x1 = (x0 + u64::from(position.w)).min(u64::from(columns));
        let y0 = u64::from(position.y);
        let y1 = y0 + u64::from(position.h);
        (x0 < x1 && y0 < y1).then_some(Self {
            x: (x0, x1),
            y: (y0, y1),
        })
    }

    /// The columns as a bitmask; only for grids of at most [`MASK_COLUMNS`] columns.
    fn mask(&self) -> u128 {
        let width = self.x.1 - self.x.0;
        let ones = if width >= u64::from(u128::BITS) {
            u128::MAX
        } else {
            (1 << width) - 1
        };
        ones << self.x.0
    }
}

/// Rows cut into bands of identical occupancy: band `i` covers rows `starts[i]..starts[i + 1]`
/// with taken columns `masks[i]`; the last band, from the lowest edge down, is empty.
#[derive(Debug, Clone)]
struct Bands {
    starts: Vec<u64>,
    masks: Vec<u128>,
}

impl Bands {
    fn new(rects: Vec<Rect>) -> Self {
        let mut starts: Vec<u64> = iter::once(0)
            .chain(rects.iter().flat_map(|rect| [rect.y.0, rect.y.1]))
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let mut bands = Self {
            masks: vec![0; starts.len()],
            starts,
        };
        for rect in &rects {
            bands.mark(rect);
        }
        bands
    }

    fn occupy(&mut self, rect: Rect) {
        self.split(rect.y.0);
        self.split(rect.y.1);
        self.mark(&rect);
    }

    /// Makes `row` the start of a band.
    fn split(&mut self, row: u64) {
        let i = self.starts.partition_point(|&start| start < row);
        if self.starts.get(i) != Some(&row) {
            // `i > 0`: the first band starts at row 0.
            self.starts.insert(i, row);
            self.masks.insert(i, self.masks[i - 1]);
        }
    }

    /// Takes the cells of `rect`, whose edges must be band starts.
    fn mark(&mut self, rect: &Rect) {
        let first = self.starts.partition_point(|&start| start < rect.y.0);
        let mask = rect.mask();
        let bands = self.starts[first..].iter().zip(&mut self.masks[first..]);
        for (_, taken) in bands.take_while(|(start, _)| **start < rect.y.1) {
            *taken |= mask;
        }
    }

    /// The top-left corner of the first free `w`×`h` rectangle, trying each band start from the
    /// top; the last band is empty, so only a start past `u32::MAX` can leave none.
    fn first_fit(&self, columns: u32, w: u32, h: u32) -> Option<(u32, u32)> {
        let wall = u128::MAX.checked_shl(columns).unwrap_or(0);
        let starts = self.starts.iter().map_while(|&y| u32::try_from(y).ok());
        starts.enumerate().find_map(|(i, y)| {
            let end = u64::from(y) + u64::from(h);
            let mut taken = wall;
            let mut fits = corners(taken, w);
            let bands = self.starts[i..].iter().zip(&self.masks[i..]);
            for (_, &mask) in bands.take_while(|(start, _)| **start < end) {
                if taken | mask != taken {
                    taken |= mask;
                    fits = corners(taken, w);
                    if fits == 0 {
                        break;
                    }
                }
            }
            (fits != 0).then(|| (fits.trailing_zeros(), y))
        })
    }
}

/// The columns where a run of `w` free cells starts, given the `taken` ones (`w <= 128`).
fn corners(taken: u128, w: u32) -> u128 {
    // Doubling: after each step, bit `x` says columns `x..x + run` are all free.
    let mut corners = !taken;
    let mut run = 1;
    while run < w {
        let step = run.min(w - run);
        corners &= corners >> step;
        run += step;
    }
    corners
}

/// [`Bands::first_fit`] for any width: on each candidate row, sweeps the column ranges of the
/// rectangles the widget would cross for the first gap of `w` columns.
fn first_fit_sweep(rects: &[Rect], columns: u32, w: u32, h: u32) -> Option<(u32, u32)> {
    let mut rows: Vec<u64> = iter::once(0)
        .chain(rects.iter().map(|rect| rect.y.1))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let (w, columns) = (u64::from(w), u64::from(columns));
    let mut crossed = Vec::new();
    rows.into_iter()
        .map_while(|y| u32::try_from(y).ok())
        .find_map(|y| {
            let span = (u64::from(y), u64::from(y) + u64::from(h));
            crossed.clear();
            crossed.extend(
                rects
                    .iter()
                    .filter(|rect| rect.y.0 < span.1 && span.0 < rect.y.1)
                    .map(|rect| rect.x),
            );
            crossed.sort_unstable();
            let mut x = 0;
            for &(x0, x1) in &crossed {
                if x0 >= x + w {
                    break;
                }
                x = x.max(x1);
            }
            if x + w > columns {
                return None;
            }
            u32::try_from(x).ok().map(|x| (x, y))
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn pos(x: u32, y: u32, w: u32, h: u32) -> WidgetPosition {
        WidgetPosition::new(x, y, w, h).unwrap()
    }

    /// Both representations, which must agree.
    fn place_both(columns: u32, occupied: &[WidgetPosition], w: u32, h: u32) -> WidgetPosition {
        let swept = Grid::build(columns, occupied.iter().copied(), false).place(w, h);
        let placed = place(columns, occupied, w, h);
        assert_eq!(placed, swept, "bitmask and sweep disagree");
        placed
    }

    /// The rule, cell by cell.
    fn brute_force(columns: u32, occupied: &[WidgetPosition], w: u32, h: u32) -> WidgetPosition {
        let w = w.clamp(1, columns);
        let bottom = occupied.iter().map(|p| p.y + p.h).max().unwrap_or(0);
        let (width, rows) = (columns as usize, (bottom + h) as usize);
        let mut taken = vec![vec![false; width]; rows];
        for p in occupied {
            for row in &mut taken[p.y as usize..(p.y + p.h) as usize] {
                for cell in row
                    .iter_mut()
                    .take(width)
                    .skip(p.x as usize)
                    .take(p.w as usize)
                {
                    *cell = true;
                }
            }
        }
        for y in 0..bottom {
            for x in 0..=columns - w {
                let free = taken[y as usize..(y + h) as usize]
                    .iter()
                    .all(|row| row[x as usize..(x + w) as usize].iter().all(|c| !c));
                if free {
                    return pos(x, y, w, h);
                }
            }
        }
        pos(0, bottom, w, h)
    }

    fn overlaps(a: &WidgetPosition, b: &WidgetPosition) -> bool {
        let span = |start: u32, len: u32| (u64::from(start), u64::from(start) + u64::from(len));
        let (ax, bx) = (span(a.x, a.w), span(b.x, b.w));
        let (ay, by) = (span(a.y, a.h), span(b.y, b.h));
        ax.0 < bx.1 && bx.0 < ax.1 && ay.0 < by.1 && by.0 < ay.1
    }

    #[test]
    fn an_empty_grid_starts_at_the_top_left() {
        assert_eq!(place_both(12, &[], 4, 3), pos(0, 0, 4, 3));
    }

    #[test]
    fn a_hole_in_the_middle_is_found() {
        // Rows 0-1 full; rows 2-3 have columns 4..8 free; row 4 full.
        let occupied = [
            pos(0, 0, 12, 2),
            pos(0, 2, 4, 2),
            pos(8, 2, 4, 2),
            pos(0, 4, 12, 1),
        ];
        assert_eq!(place_both(12, &occupied, 4, 2), pos(4, 2, 4, 2));
        // Too tall for the hole: below everything.
        assert_eq!(place_both(12, &occupied, 4, 3), pos(0, 5, 4, 3));
    }

    #[test]
    fn a_rectangle_may_reach_below_the_lowest_widget() {
        let occupied = [pos(0, 0, 6, 4), pos(6, 0, 6, 1)];
        assert_eq!(place_both(12, &occupied, 6, 10), pos(6, 1, 6, 10));
    }

    #[test]
    fn a_wide_widget_is_clamped_to_the_columns() {
        assert_eq!(place_both(12, &[], 30, 2), pos(0, 0, 12, 2));
        assert_eq!(place_both(12, &[pos(3, 1, 2, 2)], 30, 2), pos(0, 3, 12, 2));
    }

    #[test]
    fn goes_below_everything_when_nothing_fits() {
        let occupied = [pos(0, 0, 5, 3), pos(6, 0, 6, 2), pos(4, 3, 3, 4)];
        assert_eq!(place_both(12, &occupied, 7, 2), pos(0, 7, 7, 2));
    }

    #[test]
    fn overlapping_and_out_of_bounds_positions_take_their_cells() {
        let occupied = [pos(0, 0, 8, 2), pos(4, 1, 20, 2), pos(30, 0, 5, 9)];
        assert_eq!(place_both(12, &occupied, 4, 1), pos(8, 0, 4, 1));
        assert_eq!(place_both(12, &occupied, 4, 2), pos(0, 2, 4, 2));
        assert_eq!(place_both(12, &occupied, 5, 1), pos(0, 3, 5, 1));
        // Entirely outside the columns: no cell taken.
        assert_eq!(place_both(12, &[pos(12, 0, 4, 4)], 12, 1), pos(0, 0, 12, 1));
    }

    #[test]
    fn degenerate_sizes_are_raised_to_one() {
        let placed = Grid::new(0, []).place(0, 0);
        assert_eq!(placed, pos(0, 0, 1, 1));
        let zero = WidgetPosition {
            x: 0,
            y: 0,
            w: 0,
            h: 5,
        };
        assert_eq!(place_both(3, &[zero], 0, 0), pos(0, 0, 1, 1));
    }

    #[test]
    fn huge_coordinates_allocate_by_widget_not_by_row() {
        let tall = pos(0, 0, 12, 3_000_000_000);
        assert_eq!(place_both(12, &[tall], 4, 3), pos(0, 3_000_000_000, 4, 3));
        let far = [pos(0, 0, 4, 1), pos(0, u32::MAX - 1, 12, u32::MAX)];
        assert_eq!(place_both(12, &far, 12, 2), pos(0, 1, 12, 2));
        let wide = [pos(0, 0, u32::MAX, 1), pos(u32::MAX - 1, 1, u32::MAX, 1)];
        assert_eq!(
            place_both(u32::MAX, &wide, 5, 1),
            pos(0, 1, 5, 1),
            "a hole left of a far widget"
        );
        assert_eq!(
            place_both(u32::MAX, &wide, u32::MAX, 1),
            pos(0, 2, u32::MAX, 1)
        );
    }

    #[test]
    fn no_free_row_left_saturates_at_the_last_row() {
        let full = [pos(0, 0, 12, u32::MAX), pos(0, u32::MAX, 12, 1)];
        assert_eq!(place_both(12, &full, 1, 1), pos(0, u32::MAX, 1, 1));
        // One free row left at u32::MAX.
        let almost = [pos(0, 0, 12, u32::MAX), pos(0, u32::MAX, 11, 2)];
        assert_eq!(place_both(12, &almost, 1, 1), pos(11, u32::MAX, 1, 1));
    }

    #[test]
    fn a_grid_places_widgets_after_each_other() {
        let mut grid = Grid::new(12, [pos(0, 0, 6, 2)]);
        assert_eq!(grid.place(6, 2), pos(6, 0, 6, 2));
        assert_eq!(grid.place(4, 1), pos(0, 2, 4, 1));
        grid.occupy(pos(4, 2, 8, 3));
        assert_eq!(grid.place(4, 3), pos(0, 3, 4, 3));
        assert_eq!(grid.place(12, 1), pos(0, 6, 12, 1));
    }

    fn positions(max_x: u32) -> impl Strategy<Value = Vec<WidgetPosition>> {
        let position =
            (0..max_x, 0u32..40, 1u32..8, 1u32..6).prop_map(|(x, y, w, h)| pos(x, y, w, h));
        proptest::collection::vec(position, 0..=40)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        #[test]
        fn placement_follows_the_rule(
            columns in 1u32..=24,
            occupied in positions(30),
            w in 1u32..30,
            h in 1u32..8,
        ) {
            let placed = place_both(columns, &occupied, w, h);
            prop_assert_eq!(placed, brute_force(columns, &occupied, w, h));
            prop_assert_eq!(placed, place(columns, &occupied, w, h), "deterministic");
            prop_assert!(placed.fits(columns));
            prop_assert_eq!((placed.w, placed.h), (w.min(columns), h));
            for taken in &occupied {
                prop_assert!(!overlaps(&placed, taken), "{placed:?} overlaps {taken:?}");
            }
        }

        #[test]
        fn placement_follows_the_rule_around_the_bitmask_width(
            columns in 120u32..=136,
            occupied in positions(140),
            w in 1u32..140,
            h in 1u32..8,
        ) {
            prop_assert_eq!(
                place_both(columns, &occupied, w, h),
                brute_force(columns, &occupied, w, h)
            );
        }

        #[test]
        fn a_grid_never_overlaps_what_it_placed(
            columns in 1u32..=24,
            occupied in positions(30),
            sizes in proptest::collection::vec((1u32..30, 1u32..8), 1..12),
        ) {
            let mut grid = Grid::new(columns, occupied.iter().copied());
            let mut swept = Grid::build(columns, occupied.iter().copied(), false);
            let mut taken = occupied;
            for (w, h) in sizes {
                let placed = grid.place(w, h);
                prop_assert_eq!(placed, swept.place(w, h));
                prop_assert_eq!(placed, brute_force(columns, &taken, w, h));
                prop_assert!(placed.fits(columns));
                for other in &taken {
                    prop_assert!(!overlaps(&placed, other), "{placed:?} overlaps {other:?}");
                }
                taken.push(placed);
            }
        }
    }
}
