//! Rectangles and the dirty region of a display: what changed since the browser last saw it.

/// A rectangle of the remote screen, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    pub fn new(x: u32, y: u32, width: u32, height: u32) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    pub fn is_empty(self) -> bool {
        self.width == 0 || self.height == 0
    }

    fn right(self) -> u32 {
        self.x.saturating_add(self.width)
    }

    fn bottom(self) -> u32 {
        self.y.saturating_add(self.height)
    }

    pub fn area(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    pub fn intersects(self, other: Rect) -> bool {
        !self.is_empty()
            && !other.is_empty()
            && self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    pub fn union(self, other: Rect) -> Rect {
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        Rect::new(
            x,
            y,
            self.right().max(other.right()) - x,
            self.bottom().max(other.bottom()) - y,
        )
    }

    /// The part of `self` inside a `width`×`height` screen.
    pub fn clip(self, width: u32, height: u32) -> Rect {
        let x = self.x.min(width);
        let y = self.y.min(height);
        Rect::new(
            x,
            y,
            self.right().min(width) - x,
            self.bottom().min(height) - y,
        )
    }

    /// Splits into tiles of at most `side`×`side`, row by row: smaller images decode in
    /// parallel in the browser and let each tile choose PNG or JPEG for itself.
    pub fn tiles(self, side: u32) -> impl Iterator<Item = Rect> {
        let side = side.max(1);
        let rows = self.height.div_ceil(side);
        let cols = self.width.div_ceil(side);
        (0..rows).flat_map(move |r| {
            (0..cols).map(move |c| {
                let x = self.x + c * side;
                let y = self.y + r * side;
                Rect::new(
                    x,
                    y,
                    side.min(self.right() - x),
                    side.min(self.bottom() - y),
                )
            })
        })
    }
}

/// Rectangles that changed and are not yet drawn in the browser. Bounded: past
/// [`MAX_RECTS`] everything collapses into one bounding box, so a flood of tiny updates costs
/// one big image, never unbounded memory.
#[derive(Debug, Default)]
pub struct DirtyRegion {
    rects: Vec<Rect>,
}

const MAX_RECTS: usize = 64;

impl DirtyRegion {
    pub fn add(&mut self, rect: Rect) {
        if rect.is_empty() {
            return;
        }
        let mut merged = rect;
        // Absorb every rectangle the new one overlaps when the union wastes little area: two
        // overlapping updates are usually one changing widget.
        loop {
            let before = self.rects.len();
            self.rects.retain(|r| {
                let union = merged.union(*r);
                let absorb =
                    r.intersects(merged) && union.area() <= (merged.area() + r.area()) * 5 / 4;
                if absorb {
                    merged = union;
                }
                !absorb
            });
            if self.rects.len() == before {
                break;
            }
        }
        self.rects.push(merged);
        if self.rects.len() > MAX_RECTS {
            let all = self.rects.iter().copied().reduce(Rect::union);
            self.rects = all.into_iter().collect();
        }
    }

    pub fn intersects(&self, rect: Rect) -> bool {
        self.rects.iter().any(|r| r.intersects(rect))
    }

    pub fn is_empty(&self) -> bool {
        self.rects.is_empty()
    }

    /// Pixels to draw, at most (rectangles may overlap a little): what drawing them costs.
    pub fn area(&self) -> u64 {
        self.rects.iter().map(|r| r.area()).sum()
    }

    pub fn take(&mut self) -> Vec<Rect> {
        std::mem::take(&mut self.rects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_geometry() {
        let a = Rect::new(0, 0, 10, 10);
        assert!(a.intersects(Rect::new(9, 9, 5, 5)));
        assert!(!a.intersects(Rect::new(10, 0, 5, 5)));
        assert_eq!(a.union(Rect::new(20, 5, 5, 5)), Rect::new(0, 0, 25, 10));
        assert_eq!(
            Rect::new(90, 90, 20, 20).clip(100, 100),
            Rect::new(90, 90, 10, 10)
        );
        assert!(Rect::new(200, 0, 5, 5).clip(100, 100).is_empty());
        let tiles: Vec<Rect> = Rect::new(0, 0, 300, 130).tiles(128).collect();
        assert_eq!(tiles.len(), 6);
        assert_eq!(tiles[2], Rect::new(256, 0, 44, 128));
        assert_eq!(tiles.iter().map(|t| t.area()).sum::<u64>(), 300 * 130);
    }

    #[test]
    fn overlapping_damage_merges_and_the_region_stays_bounded() {
        let mut region = DirtyRegion::default();
        region.add(Rect::new(0, 0, 10, 10));
        region.add(Rect::new(2, 2, 10, 10));
        assert_eq!(region.take(), vec![Rect::new(0, 0, 12, 12)]);
        for i in 0..1000 {
            region.add(Rect::new(i * 3 % 1000, i * 7 % 700, 1, 1));
        }
        let rects = region.take();
        assert!(rects.len() <= MAX_RECTS, "{}", rects.len());
        assert!(region.is_empty());
    }
}
