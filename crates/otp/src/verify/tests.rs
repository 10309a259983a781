use super::*;
use crate::{Policy, enrol};
use proptest::prelude::{ProptestConfig, prop, prop_assert, prop_assume, proptest};
use proptest::strategy::Strategy;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

thread_local! {
    /// Argon2 verifications run on this thread (each test has its own thread).
    pub(super) static ARGON2_RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs `f` and returns its result with the number of Argon2 runs it made.
fn counting<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ARGON2_RUNS.with(|n| n.get());
    let out = f();
    (out, ARGON2_RUNS.with(|n| n.get()) - before)
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn secret(cells: &[u8], insert: usize) -> Secret {
    Secret {
        pattern: cells.iter().map(|&i| Cell(i)).collect(),
        insert,
    }
}

/// The seed document's example (DESIGN §4): eight cells reading 85425679,
/// fixed password `abcd` typed first.
#[test]
fn seed_example() {
    let cells = [0, 9, 18, 27, 36, 45, 54, 63];
    let mut digits = *b"0123456789012345678901234567890123456789012345678901234567890123";
    for (&c, &d) in cells.iter().zip(b"85425679") {
        digits[usize::from(c)] = d;
    }
    let matrix =
        Matrix::from_digits(std::str::from_utf8(&digits).expect("ascii")).expect("64 digits");
    let secret = enrol(&Policy::default(), &cells, Some("abcd"), 0).expect("valid registration");
    assert_eq!(answer(&matrix, &secret, "abcd"), "abcd85425679");

    let hash = hash_fixed("abcd", &mut rng(1)).expect("hash");
    assert!(verify(&matrix, Some(&secret), Some(&hash), "abcd85425679"));
    assert!(!verify(&matrix, Some(&secret), Some(&hash), "abcd85425678"));
    assert!(!verify(&matrix, Some(&secret), Some(&hash), "abce85425679"));
    // The same characters with the fixed part elsewhere are a different answer.
    assert!(!verify(&matrix, Some(&secret), Some(&hash), "8542abcd5679"));
}

#[test]
fn answer_places_fixed_password_at_insert() {
    let matrix = Matrix::from_values(std::array::from_fn(|i| (i % 10) as u8));
    let s = secret(&[1, 2, 3, 14], 2);
    assert_eq!(answer(&matrix, &s, "xy"), "12xy34");
    assert_eq!(answer(&matrix, &secret(&[1, 2, 3, 14], 4), "xy"), "1234xy");
    assert_eq!(answer(&matrix, &secret(&[1, 2, 3, 14], 0), ""), "1234");
}

#[test]
fn dummy_hash_has_current_parameters() {
    // If the parameters change, regenerate DUMMY_HASH with hash_fixed.
    assert!(FixedHash::from_phc(DUMMY_HASH.to_owned()).is_ok());
}

#[test]
fn hash_fixed_and_from_phc() {
    let h = hash_fixed("abcd", &mut rng(2)).expect("hash");
    assert!(h.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(format!("{h:?}"), "FixedHash(***)");
    assert_eq!(FixedHash::from_phc(h.as_str().to_owned()), Ok(h.clone()));
    // A fresh salt each time.
    let again = hash_fixed("abcd", &mut rng(3)).expect("hash");
    assert_ne!(h, again);

    assert_eq!(
        FixedHash::from_phc("not a hash".into()),
        Err(OtpError::HashNotPhc)
    );
    assert_eq!(
        FixedHash::from_phc(h.as_str().replace("argon2id", "argon2i")),
        Err(OtpError::HashAlgorithm)
    );
    assert_eq!(
        FixedHash::from_phc(h.as_str().replace("v=19", "v=16")),
        Err(OtpError::HashAlgorithm)
    );
    assert_eq!(
        FixedHash::from_phc(h.as_str().replace("m=19456", "m=8")),
        Err(OtpError::HashParams)
    );
    assert_eq!(
        FixedHash::from_phc(h.as_str().replace("p=1", "p=1,keyid=AAAA")),
        Err(OtpError::HashParams)
    );
    // A hash output of another length.
    let short_output = format!(
        "{}AAAA",
        &h.as_str()[..h.as_str().rfind('$').expect("phc") + 1]
    );
    assert!(FixedHash::from_phc(short_output).is_err());
}

/// Every path — right, wrong digits, wrong fixed part, unknown user, no hash,
/// malformed answer — runs Argon2 exactly once, so timing cannot separate them.
#[test]
fn every_path_runs_argon2_once() {
    let matrix = Matrix::generate(&mut rng(4));
    let s = secret(&[5, 17, 40, 62], 1);
    let hash = hash_fixed("pass", &mut rng(5)).expect("hash");
    let good = answer(&matrix, &s, "pass");
    let mut wrong_digit = good.clone().into_bytes();
    wrong_digit[0] = if wrong_digit[0] == b'9' {
        b'0'
    } else {
        wrong_digit[0] + 1
    };
    let wrong_digit = String::from_utf8(wrong_digit).expect("ascii");
    let wrong_fixed = answer(&matrix, &s, "pasS");
    let huge = "1".repeat(MAX_ANSWER_LEN + 1);

    let cases: [(Option<&Secret>, Option<&FixedHash>, &str, bool); 9] = [
        (Some(&s), Some(&hash), &good, true),
        (Some(&s), Some(&hash), &wrong_digit, false),
        (Some(&s), Some(&hash), &wrong_fixed, false),
        (None, Some(&hash), &good, false),
        (Some(&s), None, &good, false),
        (None, None, &good, false),
        (Some(&s), Some(&hash), "12", false),
        (Some(&s), Some(&hash), &huge, false),
        (Some(&s), Some(&hash), "1pass23\u{e9}", false),
    ];
    for (i, (secret, hash, typed, expected)) in cases.into_iter().enumerate() {
        let (ok, runs) = counting(|| verify(&matrix, secret, hash, typed));
        assert_eq!(ok, expected, "case {i}");
        assert_eq!(runs, 1, "case {i}");
    }
}

#[test]
fn user_without_fixed_password() {
    let matrix = Matrix::generate(&mut rng(6));
    let s = enrol(&Policy::default(), &[3, 22, 41, 60, 7], None, 2).expect("valid");
    let hash = hash_fixed("", &mut rng(7)).expect("hash");
    let digits = answer(&matrix, &s, "");
    assert_eq!(digits.len(), 5);
    assert!(verify(&matrix, Some(&s), Some(&hash), &digits));
    // Anything extra is taken as a fixed part, which is wrong.
    assert!(!verify(
        &matrix,
        Some(&s),
        Some(&hash),
        &format!("x{digits}")
    ));
    assert!(!verify(
        &matrix,
        Some(&s),
        Some(&hash),
        &format!("{digits}0")
    ));
}

#[test]
fn longest_registrable_answer_verifies() {
    // 64 cells and a fixed password of MAX_FIXED_LEN: exactly MAX_ANSWER_LEN.
    let matrix = Matrix::generate(&mut rng(8));
    let cells: Vec<u8> = (0..64u16).map(|i| ((i * 5 + 3) % 64) as u8).collect();
    let s = secret(&cells, 10);
    let fixed = "f".repeat(crate::MAX_FIXED_LEN);
    let hash = hash_fixed(&fixed, &mut rng(9)).expect("hash");
    let typed = answer(&matrix, &s, &fixed);
    assert_eq!(typed.len(), MAX_ANSWER_LEN);
    assert!(verify(&matrix, Some(&s), Some(&hash), &typed));
    let too_long = answer(&matrix, &s, &format!("{fixed}f"));
    assert!(!verify(&matrix, Some(&s), Some(&hash), &too_long));
}

#[test]
fn verify_digits_ignores_the_fixed_part() {
    let matrix = Matrix::generate(&mut rng(10));
    let s = secret(&[8, 9, 30, 31, 50], 3);
    assert!(verify_digits(&matrix, &s, &answer(&matrix, &s, "anything")));
    assert!(verify_digits(&matrix, &s, &answer(&matrix, &s, "")));
    let digits = answer(&matrix, &s, "");
    let shifted: String = digits.chars().rev().collect();
    if shifted != digits {
        assert!(!verify_digits(&matrix, &s, &shifted));
    }
    assert!(!verify_digits(&matrix, &s, "1234"));
    assert!(!verify_digits(&matrix, &s, "\u{1f600}\u{1f600}"));
}

#[test]
fn verify_survives_hostile_answers() {
    let matrix = Matrix::generate(&mut rng(11));
    let s = secret(&[0, 1, 2, 4], 2);
    let hash = hash_fixed("abcd", &mut rng(12)).expect("hash");
    let huge = "9".repeat(1 << 20);
    // A multibyte character straddling the insert position, NUL, control bytes.
    for typed in [
        "",
        "é",
        "12é34",
        "12\u{0}\u{0}34",
        "\u{1f600}",
        huge.as_str(),
    ] {
        assert!(!verify(&matrix, Some(&s), Some(&hash), typed));
        assert!(!verify(&matrix, None, None, typed));
    }
}

/// A registration within the default policy: 4..=16 distinct cells in random
/// order, an optional printable fixed password, an insert position.
fn registration() -> impl Strategy<Value = (Vec<u8>, Option<String>, usize)> {
    (4usize..=16).prop_flat_map(|k| {
        (
            prop::sample::subsequence((0u8..64).collect::<Vec<_>>(), k).prop_shuffle(),
            prop::option::of("[ -~]{4,32}"),
            0..=k,
        )
    })
}

proptest! {
    // Each case costs five Argon2 runs (~30 ms each), so keep cases few.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn answers_verify_and_any_change_fails(
        (cells, fixed, insert) in registration(),
        seed in proptest::num::u64::ANY,
        digit in proptest::num::usize::ANY,
        delta in 1u8..10,
        position in proptest::num::usize::ANY,
    ) {
        let registered = enrol(&Policy::default(), &cells, fixed.as_deref(), insert);
        // Random cells rarely form a banned shape; such cases are skipped.
        prop_assume!(registered.is_ok());
        let Ok(s) = registered else { unreachable!("assumed above") };
        let fixed = fixed.unwrap_or_default();
        let mut r = rng(seed);
        let matrix = Matrix::generate(&mut r);
        let hash = hash_fixed(&fixed, &mut r).expect("hashing works");

        let good = answer(&matrix, &s, &fixed);
        prop_assert!(verify(&matrix, Some(&s), Some(&hash), &good));

        // One digit changed to another digit.
        let k = s.cells().len();
        let j = digit % k;
        let at = if j < s.insert() { j } else { j + fixed.len() };
        let mut changed = good.clone().into_bytes();
        changed[at] = b'0' + (changed[at] - b'0' + delta) % 10;
        let changed = String::from_utf8(changed).expect("ascii");
        prop_assert!(!verify(&matrix, Some(&s), Some(&hash), &changed));

        // The fixed part changed: one character altered, or one added when
        // there is none.
        let other_fixed = if fixed.is_empty() {
            "x".to_owned()
        } else {
            let i = position % fixed.len();
            let mut b = fixed.clone().into_bytes();
            b[i] = if b[i] == b'~' { b' ' } else { b[i] + 1 };
            String::from_utf8(b).expect("ascii")
        };
        let wrong_fixed = answer(&matrix, &s, &other_fixed);
        prop_assert!(!verify(&matrix, Some(&s), Some(&hash), &wrong_fixed));

        prop_assert!(!verify(&matrix, None, Some(&hash), &good));
    }

    #[test]
    fn verify_never_panics(typed in "\\PC{0,300}|[0-9a-z]{0,300}", seed in proptest::num::u64::ANY) {
        let mut r = rng(seed);
        let matrix = Matrix::generate(&mut r);
        let s = secret(&[10, 20, 30, 40, 50], 3);
        let hash = hash_fixed("abcd", &mut r).expect("hashing works");
        // A random string matching the real answer is astronomically unlikely.
        prop_assert!(!verify(&matrix, Some(&s), Some(&hash), &typed));
        let _ = verify_digits(&matrix, &s, &typed);
    }
}
