//! ReduceLROnPlateau with PyTorch's semantics (`torch.optim.lr_scheduler.ReduceLROnPlateau`):
//! Burn has no plateau scheduler, so this is written from PyTorch's documented algorithm.

use burn::config::Config;

/// Whether a smaller or a larger metric is better.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (a loss).
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// How [`ReduceLrOnPlateauConfig::threshold`] is applied to the best value so far.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum ThresholdMode {
    /// Better means beyond `best · (1 ∓ threshold)`.
    Rel,
    /// Better means beyond `best ∓ threshold`.
    Abs,
}

/// The scheduler's settings; the defaults are PyTorch's.
#[derive(Config, Debug, PartialEq)]
pub struct ReduceLrOnPlateauConfig {
    /// The learning rate to start from.
    pub initial_lr: f64,
    /// `Min` for a loss, `Max` for an accuracy.
    #[config(default = "PlateauMode::Min")]
    pub mode: PlateauMode,
    /// The lr is multiplied by this on a plateau.
    #[config(default = 0.1)]
    pub factor: f64,
    /// Epochs without improvement tolerated; the lr drops on the next one.
    #[config(default = 10)]
    pub patience: usize,
    /// Minimal change that counts as an improvement.
    #[config(default = 1e-4)]
    pub threshold: f64,
    /// Whether `threshold` is relative or absolute.
    #[config(default = "ThresholdMode::Rel")]
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a reduction before counting bad epochs again.
    #[config(default = 0)]
    pub cooldown: usize,
    /// The lr never goes below this.
    #[config(default = 0.0)]
    pub min_lr: f64,
    /// A reduction smaller than this is skipped.
    #[config(default = 1e-8)]
    pub eps: f64,
}

impl ReduceLrOnPlateauConfig {
    /// Builds the scheduler.
    pub fn init(&self) -> ReduceLrOnPlateau {
        ReduceLrOnPlateau {
            best: match self.mode {
                PlateauMode::Min => f64::INFINITY,
                PlateauMode::Max => f64::NEG_INFINITY,
            },
            lr: self.initial_lr,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            config: self.clone(),
        }
    }
}

/// Lowers the learning rate when a metric stops improving.
#[derive(Debug, Clone)]
pub struct ReduceLrOnPlateau {
    config: ReduceLrOnPlateauConfig,
    best: f64,
    lr: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
}

impl ReduceLrOnPlateau {
    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The best metric seen so far.
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Epochs since the last improvement (reset by a reduction or a cooldown).
    pub fn num_bad_epochs(&self) -> usize {
        self.num_bad_epochs
    }

    /// Feeds one epoch's metric and returns the learning rate for the next epoch. A NaN metric
    /// is never an improvement, as in PyTorch.
    pub fn step(&mut self, metric: f64) -> f64 {
        if self.is_better(metric) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.config.patience {
            let reduced = (self.lr * self.config.factor).max(self.config.min_lr);
            if self.lr - reduced > self.config.eps {
                self.lr = reduced;
            }
            self.cooldown_counter = self.config.cooldown;
            self.num_bad_epochs = 0;
        }
        self.lr
    }

    fn is_better(&self, metric: f64) -> bool {
        let (best, t) = (self.best, self.config.threshold);
        match (self.config.mode, self.config.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => metric < best * (1.0 - t),
            (PlateauMode::Min, ThresholdMode::Abs) => metric < best - t,
            (PlateauMode::Max, ThresholdMode::Rel) => metric > best * (1.0 + t),
            (PlateauMode::Max, ThresholdMode::Abs) => metric > best + t,
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each expectation is PyTorch's algorithm worked by hand, epoch by epoch: `best` and
    //! `num_bad_epochs` update, a cooldown zeroes the count, and the lr drops once the count
    //! exceeds `patience`.
    use super::*;

    fn lrs(config: ReduceLrOnPlateauConfig, metrics: &[f64]) -> Vec<f64> {
        let mut scheduler = config.init();
        metrics.iter().map(|&m| scheduler.step(m)).collect()
    }

    fn assert_lrs(got: Vec<f64>, want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "epoch {}: lr {g}, want {w}",
                i + 1
            );
        }
    }

    #[test]
    fn defaults_are_pytorchs() {
        let c = ReduceLrOnPlateauConfig::new(1e-3);
        assert_eq!(
            (
                c.mode,
                c.factor,
                c.patience,
                c.threshold,
                c.threshold_mode,
                c.cooldown,
                c.min_lr,
                c.eps
            ),
            (
                PlateauMode::Min,
                0.1,
                10,
                1e-4,
                ThresholdMode::Rel,
                0,
                0.0,
                1e-8
            )
        );
    }

    #[test]
    fn patience_three_drops_on_the_fourth_bad_epoch() {
        // best 1.0, 0.9, then four epochs that are not < 0.9·(1-1e-4): bad 1, 2, 3, 4 > 3 → drop.
        let config = ReduceLrOnPlateauConfig::new(1e-3).with_patience(3);
        let got = lrs(config, &[1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]);
        assert_lrs(got, &[1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-4, 1e-4]);
    }

    #[test]
    fn a_relative_threshold_ignores_tiny_improvements() {
        // 0.99995 is not < 1.0·(1-1e-4) = 0.9999, so it is a bad epoch; 0.9 is an improvement.
        let config = ReduceLrOnPlateauConfig::new(1.0).with_patience(1);
        let got = lrs(config, &[1.0, 0.99995, 0.9, 0.89999, 0.89999]);
        // bad: 0, 1, 0, 1, 2 > 1 → drop on epoch 5.
        assert_lrs(got, &[1.0, 1.0, 1.0, 1.0, 0.1]);
    }

    #[test]
    fn an_absolute_threshold_needs_a_fixed_margin() {
        let config = ReduceLrOnPlateauConfig::new(1.0)
            .with_patience(0)
            .with_threshold(0.5)
            .with_threshold_mode(ThresholdMode::Abs);
        // best 10; 9.6 is not < 9.5 → bad 1 > 0 → 0.1; 9.4 < 9.5 → best; 9.0 not < 8.9 → 0.01.
        let got = lrs(config, &[10.0, 9.6, 9.4, 9.0]);
        assert_lrs(got, &[1.0, 0.1, 0.1, 0.01]);
    }

    #[test]
    fn max_mode_tracks_an_accuracy() {
        let config = ReduceLrOnPlateauConfig::new(0.5)
            .with_mode(PlateauMode::Max)
            .with_patience(2)
            .with_factor(0.5);
        // best 0.5, 0.6; then 0.6, 0.55, 0.6 → bad 1, 2, 3 > 2 → 0.25; 0.7 improves.
        let got = lrs(config, &[0.5, 0.6, 0.6, 0.55, 0.6, 0.7]);
        assert_lrs(got, &[0.5, 0.5, 0.5, 0.5, 0.25, 0.25]);
    }

    #[test]
    fn cooldown_suspends_counting_after_a_reduction() {
        let config = ReduceLrOnPlateauConfig::new(1.0)
            .with_patience(1)
            .with_cooldown(2);
        // e1 best 1; e2 bad 1; e3 bad 2 > 1 → 0.1, cooldown 2; e4 cooldown→1, bad 0;
        // e5 cooldown→0, bad 0; e6 bad 1; e7 bad 2 > 1 → 0.01.
        let got = lrs(config, &[1.0; 7]);
        assert_lrs(got, &[1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.01]);
    }

    #[test]
    fn min_lr_floors_and_eps_skips_negligible_reductions() {
        let config = ReduceLrOnPlateauConfig::new(1e-3)
            .with_patience(0)
            .with_min_lr(2e-5);
        // 1e-3 → 1e-4 → 2e-5 (floor) → stays (1e-5·… < 2e-5, and 2e-5 - 2e-5 = 0 ≤ eps).
        let got = lrs(config, &[1.0, 1.0, 1.0, 1.0, 1.0]);
        assert_lrs(got, &[1e-3, 1e-4, 2e-5, 2e-5, 2e-5]);

        let config = ReduceLrOnPlateauConfig::new(1e-8)
            .with_patience(0)
            .with_eps(1e-8);
        // 1e-8 - 1e-9 = 9e-9 ≤ eps: the reduction is skipped, as in PyTorch.
        assert_lrs(lrs(config, &[1.0, 1.0, 1.0]), &[1e-8, 1e-8, 1e-8]);
    }

    #[test]
    fn nan_is_never_an_improvement() {
        let config = ReduceLrOnPlateauConfig::new(1.0).with_patience(1);
        let got = lrs(config, &[1.0, f64::NAN, f64::NAN, 0.5]);
        assert_lrs(got, &[1.0, 1.0, 0.1, 0.1]);
    }
}
