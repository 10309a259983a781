//! `cargo bench -p hoshu-otp`: how many challenges and verifications one core
//! does per second. Plain `main`, no harness: each figure runs for about two
//! seconds and prints one line.

use std::hint::black_box;
use std::time::{Duration, Instant};

use hoshu_otp::{Matrix, Policy, answer, enrol, hash_fixed, verify, verify_digits};
use rand::SeedableRng;
use rand::rngs::OsRng;
use rand_chacha::ChaCha20Rng;

const RUN: Duration = Duration::from_secs(2);

/// Calls `f` in batches of `batch` until `RUN` has passed; returns calls per second.
fn per_second(batch: u32, mut f: impl FnMut()) -> f64 {
    f(); // warm caches and allocators before timing
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < RUN {
        for _ in 0..batch {
            f();
        }
        calls += u64::from(batch);
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // The gateway may draw matrices from a seeded CSPRNG or straight from the
    // OS; both are shown, as the OS call is the slower peer.
    let mut chacha = ChaCha20Rng::from_rng(OsRng).expect("the OS random source works");
    let chacha_rate = per_second(256, || {
        black_box(Matrix::generate(&mut chacha).digits());
    });
    let mut os = OsRng;
    let os_rate = per_second(256, || {
        black_box(Matrix::generate(&mut os).digits());
    });
    println!("challenges generated per second: {chacha_rate:.0} (ChaCha20Rng)");
    println!("challenges generated per second: {os_rate:.0} (OsRng)");

    // The seed example's shape: 8 cells, fixed password first.
    let secret = enrol(
        &Policy::default(),
        &[0, 9, 18, 27, 36, 45, 54, 63],
        Some("abcd"),
        0,
    )
    .expect("the benchmark pattern follows the default policy");
    let hash = hash_fixed("abcd", &mut chacha).expect("hashing works");
    let matrix = Matrix::generate(&mut chacha);
    let typed = answer(&matrix, &secret, "abcd");
    assert!(verify(&matrix, Some(&secret), Some(&hash), &typed));

    let digits_rate = per_second(1024, || {
        black_box(verify_digits(
            black_box(&matrix),
            black_box(&secret),
            black_box(&typed),
        ));
    });
    println!("answers verified per second (digits only, no fixed part check): {digits_rate:.0}");

    let full_rate = per_second(1, || {
        black_box(verify(
            black_box(&matrix),
            Some(black_box(&secret)),
            Some(black_box(&hash)),
            black_box(&typed),
        ));
    });
    println!(
        "answers verified per second (with Argon2id): {full_rate:.1} ({:.1} ms each)",
        1000.0 / full_rate
    );
}
