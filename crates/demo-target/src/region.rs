//! Rectangles and the bounded dirty region a connection still has to send.

/// A rectangle of the framebuffer, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
}

impl Rect {
    pub const fn new(x: u16, y: u16, width: u16, height: u16) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// One past the right edge (fits in u32 even when `x + width` overflows u16).
    pub fn right(&self) -> u32 {
        u32::from(self.x) + u32::from(self.width)
    }

    /// One past the bottom edge.
    pub fn bottom(&self) -> u32 {
        u32::from(self.y) + u32::from(self.height)
    }

    pub fn area(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    pub fn contains_point(&self, x: u16, y: u16) -> bool {
        x >= self.x && u32::from(x) < self.right() && y >= self.y && u32::from(y) < self.bottom()
    }

    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }

    /// The overlap of two rectangles; empty (zero-sized) when they do not overlap.
    pub fn intersect(&self, other: &Rect) -> Rect {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        if u32::from(x0) >= x1 || u32::from(y0) >= y1 {
            return Rect::new(x0, y0, 0, 0);
        }
        // Both extents are below the smaller rectangle's u16 width and height.
        Rect::new(
            x0,
            y0,
            (x1 - u32::from(x0)) as u16,
            (y1 - u32::from(y0)) as u16,
        )
    }

    /// The smallest rectangle holding both. Callers only pass rectangles clipped to one screen,
    /// so the extents fit in u16.
    pub fn union(&self, other: &Rect) -> Rect {
        let x0 = self.x.min(other.x);
        let y0 = self.y.min(other.y);
        let x1 = self.right().max(other.right());
        let y1 = self.bottom().max(other.bottom());
        Rect::new(
            x0,
            y0,
            u16::try_from(x1 - u32::from(x0)).unwrap_or(u16::MAX),
            u16::try_from(y1 - u32::from(y0)).unwrap_or(u16::MAX),
        )
    }

    fn touches(&self, other: &Rect) -> bool {
        u32::from(self.x) <= other.right()
            && u32::from(other.x) <= self.right()
            && u32::from(self.y) <= other.bottom()
            && u32::from(other.y) <= self.bottom()
    }
}

/// Most rectangles a dirty region keeps before collapsing into their bounding box.
pub const MAX_DIRTY_RECTS: usize = 64;

/// Rectangles still to be sent to one client, with bounded memory: at most [`MAX_DIRTY_RECTS`];
/// beyond that everything merges into one bounding box. Neighbours whose bounding box wastes no
/// area (a line of typed characters, a slow drag) merge as they arrive, so the common cases stay
/// a handful of rectangles.
#[derive(Debug, Default, Clone)]
pub struct DirtyRegion {
    rects: Vec<Rect>,
}

impl DirtyRegion {
    pub fn is_empty(&self) -> bool {
        self.rects.is_empty()
    }

    pub fn rects(&self) -> &[Rect] {
        &self.rects
    }

    pub fn clear(&mut self) {
        self.rects.clear();
    }

    pub fn add(&mut self, rect: Rect) {
        if rect.is_empty() || self.rects.iter().any(|r| r.contains(&rect)) {
            return;
        }
        let mut rect = rect;
        // Absorb every rectangle the new one covers or merges with at no cost; repeat, since a
        // grown rectangle may now merge with one it did not touch before.
        loop {
            let before = self.rects.len();
            self.rects.retain(|r| {
                let merged = rect.union(r);
                if rect.contains(r) || (rect.touches(r) && merged.area() <= rect.area() + r.area())
                {
                    rect = merged;
                    false
                } else {
                    true
                }
            });
            if self.rects.len() == before {
                break;
            }
        }
        self.rects.push(rect);
        if self.rects.len() > MAX_DIRTY_RECTS {
            let bounds = self.rects.iter().fold(rect, |acc, r| acc.union(r));
            self.rects.clear();
            self.rects.push(bounds);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_cells_merge_into_one_strip() {
        let mut region = DirtyRegion::default();
        for i in 0..10 {
            region.add(Rect::new(100 + i * 12, 50, 12, 20));
        }
        assert_eq!(region.rects(), &[Rect::new(100, 50, 120, 20)]);
    }

    #[test]
    fn region_is_capped_by_merging_into_the_bounding_box() {
        let mut region = DirtyRegion::default();
        // Scattered dots that never merge on their own.
        for i in 0..(MAX_DIRTY_RECTS as u16 + 1) {
            region.add(Rect::new(i * 10, (i % 2) * 100, 2, 2));
        }
        assert!(region.rects().len() <= MAX_DIRTY_RECTS);
        let covered = region.rects().iter().fold(Rect::new(0, 0, 0, 0), |a, r| {
            if a.is_empty() { *r } else { a.union(r) }
        });
        assert_eq!(
            covered,
            Rect::new(0, 0, 10 * MAX_DIRTY_RECTS as u16 + 2, 102)
        );
    }

    #[test]
    fn contained_rectangles_are_dropped() {
        let mut region = DirtyRegion::default();
        region.add(Rect::new(0, 0, 100, 100));
        region.add(Rect::new(10, 10, 5, 5));
        region.add(Rect::new(300, 300, 5, 5));
        region.add(Rect::new(0, 0, 400, 400));
        assert_eq!(region.rects(), &[Rect::new(0, 0, 400, 400)]);
    }

    #[test]
    fn intersection_of_disjoint_rectangles_is_empty() {
        assert!(
            Rect::new(0, 0, 10, 10)
                .intersect(&Rect::new(20, 0, 5, 5))
                .is_empty()
        );
        assert_eq!(
            Rect::new(0, 0, 10, 10).intersect(&Rect::new(5, 5, 50, 50)),
            Rect::new(5, 5, 5, 5)
        );
    }
}
