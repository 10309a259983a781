//! The mouse from the browser to the RDP server. guacamole-common-js sends `mouse,x,y,mask`
//! with the whole button state each time (1 left, 2 middle, 4 right, 8 wheel up, 16 wheel
//! down; a wheel notch is a press of bit 8 or 16 followed by its release). RDP wants a
//! position, button transitions, and wheel rotations (MS-RDPBCGR 2.2.8.1.1.3.1.1.3,
//! TS_POINTER_EVENT), so this module turns state into edges.

use ironrdp_input::{MouseButton, MousePosition, Operation, WheelRotations};

const LEFT: u8 = 1;
const MIDDLE: u8 = 2;
const RIGHT: u8 = 4;
const WHEEL_UP: u8 = 8;
const WHEEL_DOWN: u8 = 16;
/// The bits guacamole-common-js defines; others are ignored.
const KNOWN: u8 = LEFT | MIDDLE | RIGHT | WHEEL_UP | WHEEL_DOWN;

const BUTTONS: [(u8, MouseButton); 3] = [
    (LEFT, MouseButton::Left),
    (MIDDLE, MouseButton::Middle),
    (RIGHT, MouseButton::Right),
];

/// One wheel notch. MS-RDPBCGR 2.2.8.1.1.3.1.1.3: PTRFLAGS_WHEEL with a 9-bit two's-complement
/// rotation; Windows counts WHEEL_DELTA = 120 per notch, positive when the wheel turns away
/// from the user (scrolls up).
const NOTCH: i16 = 120;

/// Mouse state of one session: the buttons the browser last reported held.
#[derive(Debug, Clone, Default)]
pub struct Pointer {
    buttons: u8,
}

impl Pointer {
    pub fn new() -> Self {
        Self::default()
    }

    /// One `mouse` event from the browser on a `width` × `height` desktop, as the operations
    /// to apply to the server's input state: the move first (RDP sends button transitions at
    /// the current position), then each button that changed, then one wheel step for each
    /// wheel bit that went from released to pressed.
    pub fn event(&mut self, x: i32, y: i32, mask: u8, width: u16, height: u16) -> Vec<Operation> {
        let mask = mask & KNOWN;
        let pressed = mask & !self.buttons;
        let released = self.buttons & !mask;
        self.buttons = mask;

        let mut operations = vec![Operation::MouseMove(MousePosition {
            x: clamp_axis(x, width),
            y: clamp_axis(y, height),
        })];
        for (bit, button) in BUTTONS {
            if pressed & bit != 0 {
                operations.push(Operation::MouseButtonPressed(button));
            }
            if released & bit != 0 {
                operations.push(Operation::MouseButtonReleased(button));
            }
        }
        for (bit, rotation_units) in [(WHEEL_UP, NOTCH), (WHEEL_DOWN, -NOTCH)] {
            if pressed & bit != 0 {
                operations.push(Operation::WheelRotations(WheelRotations {
                    is_vertical: true,
                    rotation_units,
                }));
            }
        }
        operations
    }

    /// Releases every button held, for when the session ends or the browser loses focus.
    pub fn release_all(&mut self) -> Vec<Operation> {
        let held = std::mem::take(&mut self.buttons);
        BUTTONS
            .into_iter()
            .filter(|(bit, _)| held & bit != 0)
            .map(|(_, button)| Operation::MouseButtonReleased(button))
            .collect()
    }
}

/// A coordinate inside `0..size` (the last pixel for anything beyond, 0 for an empty desktop):
/// the browser reports positions outside the display while a button is held and dragged out.
fn clamp_axis(value: i32, size: u16) -> u16 {
    let last = size.saturating_sub(1);
    match u16::try_from(value) {
        Ok(value) => value.min(last),
        Err(_) if value < 0 => 0,
        Err(_) => last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Operation` has no `PartialEq`; pointer operations in a comparable form.
    #[derive(Debug, PartialEq, Eq)]
    enum Op {
        Move(u16, u16),
        Down(MouseButton),
        Up(MouseButton),
        Wheel(bool, i16),
    }

    fn ops(operations: Vec<Operation>) -> Vec<Op> {
        operations
            .into_iter()
            .map(|operation| match operation {
                Operation::MouseMove(position) => Op::Move(position.x, position.y),
                Operation::MouseButtonPressed(button) => Op::Down(button),
                Operation::MouseButtonReleased(button) => Op::Up(button),
                Operation::WheelRotations(wheel) => {
                    Op::Wheel(wheel.is_vertical, wheel.rotation_units)
                }
                other => panic!("not a pointer operation: {other:?}"),
            })
            .collect()
    }

    fn event(pointer: &mut Pointer, x: i32, y: i32, mask: u8) -> Vec<Op> {
        ops(pointer.event(x, y, mask, 800, 600))
    }

    #[test]
    fn positions_are_clamped_into_the_desktop() {
        let mut pointer = Pointer::new();
        assert_eq!(event(&mut pointer, 10, 20, 0), [Op::Move(10, 20)]);
        assert_eq!(event(&mut pointer, -5, 600, 0), [Op::Move(0, 599)]);
        assert_eq!(
            event(&mut pointer, 100_000, -100_000, 0),
            [Op::Move(799, 0)]
        );
        assert_eq!(
            event(&mut pointer, i32::MIN, i32::MAX, 0),
            [Op::Move(0, 599)]
        );
        assert_eq!(ops(pointer.event(5, 5, 0, 0, 0)), [Op::Move(0, 0)]);
    }

    #[test]
    fn each_button_is_pressed_and_released_on_its_edge_only() {
        for (bit, button) in [
            (1, MouseButton::Left),
            (2, MouseButton::Middle),
            (4, MouseButton::Right),
        ] {
            let mut pointer = Pointer::new();
            assert_eq!(
                event(&mut pointer, 1, 2, bit),
                [Op::Move(1, 2), Op::Down(button)]
            );
            // The browser repeats the mask with every move while the button is held.
            assert_eq!(event(&mut pointer, 3, 4, bit), [Op::Move(3, 4)]);
            assert_eq!(
                event(&mut pointer, 3, 4, 0),
                [Op::Move(3, 4), Op::Up(button)]
            );
            assert_eq!(event(&mut pointer, 3, 4, 0), [Op::Move(3, 4)]);
        }
    }

    #[test]
    fn buttons_change_together_after_the_move() {
        let mut pointer = Pointer::new();
        assert_eq!(
            event(&mut pointer, 7, 8, 1 | 4),
            [
                Op::Move(7, 8),
                Op::Down(MouseButton::Left),
                Op::Down(MouseButton::Right)
            ]
        );
        assert_eq!(
            event(&mut pointer, 7, 8, 2),
            [
                Op::Move(7, 8),
                Op::Up(MouseButton::Left),
                Op::Down(MouseButton::Middle),
                Op::Up(MouseButton::Right)
            ]
        );
    }

    #[test]
    fn a_wheel_notch_is_one_step_up_positive_down_negative() {
        let mut pointer = Pointer::new();
        assert_eq!(
            event(&mut pointer, 0, 0, 8),
            [Op::Move(0, 0), Op::Wheel(true, 120)]
        );
        assert_eq!(event(&mut pointer, 0, 0, 8), [Op::Move(0, 0)]);
        assert_eq!(event(&mut pointer, 0, 0, 0), [Op::Move(0, 0)]);
        assert_eq!(
            event(&mut pointer, 0, 0, 16),
            [Op::Move(0, 0), Op::Wheel(true, -120)]
        );
        assert_eq!(event(&mut pointer, 0, 0, 0), [Op::Move(0, 0)]);
        // Scrolling while dragging keeps the button down.
        assert_eq!(
            event(&mut pointer, 0, 0, 1 | 16),
            [
                Op::Move(0, 0),
                Op::Down(MouseButton::Left),
                Op::Wheel(true, -120)
            ]
        );
        assert_eq!(event(&mut pointer, 0, 0, 1), [Op::Move(0, 0)]);
    }

    #[test]
    fn undefined_mask_bits_are_ignored() {
        let mut pointer = Pointer::new();
        assert_eq!(event(&mut pointer, 0, 0, 0xE0), [Op::Move(0, 0)]);
        assert!(pointer.release_all().is_empty());
    }

    #[test]
    fn release_all_releases_the_buttons_held() {
        let mut pointer = Pointer::new();
        event(&mut pointer, 0, 0, 1 | 4 | 8);
        assert_eq!(
            ops(pointer.release_all()),
            [Op::Up(MouseButton::Left), Op::Up(MouseButton::Right)]
        );
        assert!(pointer.release_all().is_empty());
        // After a release-all the next press is an edge again.
        assert_eq!(
            event(&mut pointer, 0, 0, 1),
            [Op::Move(0, 0), Op::Down(MouseButton::Left)]
        );
    }
}
