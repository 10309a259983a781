use super::*;
use crate::{Cell, Matrix};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn eight_cells() {
    let s = strength(8, false);
    assert_eq!(s.cells, 8);
    // 64·63·…·57
    let space: f64 = (57..=64).map(f64::from).product();
    assert!(close(s.pattern_space, space, 1e-9), "{}", s.pattern_space);
    assert!(close(s.pattern_space_log10, space.log10(), 1e-12));
    assert!(close(s.online_guess_probability, 1e-8, 1e-12));

    // (1 - 10^-4)^504 ≈ 0.9508; DESIGN §4 quotes 94 % from a simulation.
    let after: Vec<u32> = s.unique_probability_after.iter().map(|&(n, _)| n).collect();
    assert_eq!(after, [1, 2, 3, 4, 5, 6]);
    let p4 = s.unique_probability_after[3].1;
    assert!(close(p4, 0.9999f64.powi(504), 1e-9), "{p4}");
    assert!((p4 - 0.9508).abs() < 5e-4);
    assert!(s.unique_probability_after[0].1 < 1e-20);

    // 1 + 1 + 0.9937 + 0.3960 + 0.0491 + 0.0050 + 0.0005 + … ≈ 3.444
    assert!(
        (s.expected_observations_to_recover - 3.4444).abs() < 1e-3,
        "{}",
        s.expected_observations_to_recover
    );
    assert_eq!(s.median_candidates_after_two, 24.0);
}

#[test]
fn repeats_enlarge_the_space_only() {
    let with = strength(8, true);
    let without = strength(8, false);
    assert!(close(with.pattern_space, 64f64.powi(8), 1e-9));
    assert!(close(with.pattern_space_log10, 8.0 * 64f64.log10(), 1e-12));
    assert_eq!(
        with.unique_probability_after,
        without.unique_probability_after
    );
    assert_eq!(
        with.median_candidates_after_two,
        without.median_candidates_after_two
    );
}

#[test]
fn figures_move_the_right_way() {
    let mut previous: Option<Strength> = None;
    for k in [1, 4, 8, 12, 16] {
        let s = strength(k, false);
        let unique: Vec<f64> = s.unique_probability_after.iter().map(|&(_, p)| p).collect();
        assert!(unique.windows(2).all(|w| w[0] <= w[1]), "k={k}: {unique:?}");
        assert!(unique.iter().all(|p| (0.0..=1.0).contains(p)));
        if let Some(prev) = previous {
            assert!(s.pattern_space > prev.pattern_space);
            assert!(s.online_guess_probability < prev.online_guess_probability);
            assert!(s.expected_observations_to_recover > prev.expected_observations_to_recover);
            assert!(s.median_candidates_after_two >= prev.median_candidates_after_two);
            assert!(s.unique_probability_after[3].1 < prev.unique_probability_after[3].1);
        }
        previous = Some(s);
    }
    assert_eq!(strength(1, false).median_candidates_after_two, 1.0);
    assert_eq!(strength(16, false).median_candidates_after_two, 432.0);
}

#[test]
fn edge_lengths() {
    let zero = strength(0, false);
    assert_eq!(zero.pattern_space, 1.0);
    assert_eq!(zero.expected_observations_to_recover, 0.0);
    assert_eq!(zero.median_candidates_after_two, 1.0);

    // 64! ≈ 1.27e89 without repeats; nothing beyond.
    let all = strength(64, false);
    assert!(
        (all.pattern_space_log10 - 89.1).abs() < 0.05,
        "{}",
        all.pattern_space_log10
    );
    assert!(all.median_candidates_after_two.is_finite());
    let over = strength(65, false);
    assert_eq!(over.pattern_space, 0.0);
    assert!(strength(65, true).pattern_space.is_finite());
}

/// The attack itself, on real matrices: for random 8-cell patterns, observe
/// (matrix, typed digits) pairs and keep the consistent cells per position.
/// The model's figures must match what actually happens.
#[test]
fn simulated_attack_agrees_with_the_model() {
    const K: usize = 8;
    const TRIALS: usize = 4000;
    let model = strength(K, false);
    let mut rng = ChaCha20Rng::seed_from_u64(0xa77a_c4e5);
    let all: Vec<u8> = (0..64).collect();

    let mut unique_after_4 = 0usize;
    let mut candidates_after_2 = Vec::with_capacity(TRIALS);
    for _ in 0..TRIALS {
        let pattern: Vec<Cell> = all
            .choose_multiple(&mut rng, K)
            .filter_map(|&i| Cell::new(i))
            .collect();
        // Candidate cells per position as a 64-bit set; all cells at first.
        let mut candidates = [u64::MAX; K];
        for n in 1..=4 {
            let matrix = Matrix::generate(&mut rng);
            let mut by_digit = [0u64; 10];
            for i in 0..64u8 {
                let cell = Cell::new(i).expect("in range");
                by_digit[usize::from(matrix.digit(cell))] |= 1 << i;
            }
            for (set, &cell) in candidates.iter_mut().zip(&pattern) {
                *set &= by_digit[usize::from(matrix.digit(cell))];
            }
            if n == 2 {
                let product: f64 = candidates
                    .iter()
                    .map(|s| f64::from(s.count_ones()))
                    .product();
                candidates_after_2.push(product);
            }
        }
        if candidates.iter().all(|s| s.count_ones() == 1) {
            unique_after_4 += 1;
        }
    }

    // Binomial standard error at p ≈ 0.95 and 4000 trials is 0.0034.
    let simulated = unique_after_4 as f64 / TRIALS as f64;
    let predicted = model.unique_probability_after[3].1;
    assert!(
        (simulated - predicted).abs() < 0.015,
        "simulated {simulated}, model {predicted}"
    );

    // The model's median is a median of the simulated counts too: at most
    // half fall strictly below it and at least half at or below it.
    let m = model.median_candidates_after_two;
    let below = candidates_after_2.iter().filter(|&&c| c < m).count() as f64 / TRIALS as f64;
    let at_or_below = candidates_after_2.iter().filter(|&&c| c <= m).count() as f64 / TRIALS as f64;
    assert!(below < 0.5 + 0.03, "{below} below {m}");
    assert!(at_or_below > 0.5 - 0.03, "{at_or_below} at or below {m}");
}
