//! The one training loop, for the CLI, the browser and the tests: shuffled mini-batches, Adam,
//! ReduceLROnPlateau on the validation loss once per epoch, events, and a clean stop.

use burn::config::Config;
use burn::prelude::{Device, Tensor};

use super::evaluate::evaluate;
use super::events::{EpochEvent, FitEvent, Schedule, StepEvent};
use super::plateau::ReduceLrOnPlateauConfig;
use super::step::{adam, train_step};
use crate::clock::now_ms;
use crate::data::{Augment, Dataset, SplitMix};
use crate::error;
use crate::model::{ImageClassifier, check_input};
use crate::pause::yield_to_event_loop;
use crate::readback::{read, read_all};

/// How to train. The defaults are the strategy we were asked for: Adam at 1e-3, the lr cut ×0.1
/// when the validation loss has not improved for 3 epochs.
#[derive(Config, Debug)]
pub struct FitConfig {
    /// Passes over the training set.
    #[config(default = 5)]
    pub epochs: usize,
    /// Images per optimisation step.
    #[config(default = 64)]
    pub batch_size: usize,
    /// Adam's initial learning rate.
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// ReduceLROnPlateau's patience (mode min on the validation loss, factor 0.1).
    #[config(default = 3)]
    pub patience: usize,
    /// Augmentation: shift each training image by up to this many pixels, and rotate (±12°)
    /// and scale (±10 %) it (0: no augmentation).
    #[config(default = 0)]
    pub max_shift: usize,
    /// Augmentation: elastic distortion of up to this many pixels (0: none). Applies only
    /// when `max_shift` > 0.
    #[config(default = 0.0)]
    pub elastic: f32,
    /// Seed of the shuffle and the augmentation.
    #[config(default = 42)]
    pub seed: u64,
    /// Read the training loss back every this many steps (a read waits for the device).
    #[config(default = 10)]
    pub read_loss_every: usize,
    /// How the learning rate changes from epoch to epoch.
    #[config(default = "Schedule::Plateau")]
    pub schedule: Schedule,
    /// Stop once the validation loss has not improved for this many epochs (None: never).
    #[config(default = "None")]
    pub early_stopping: Option<usize>,
    /// With `early_stopping`: end with the weights of the epoch with the lowest validation loss.
    #[config(default = false)]
    pub restore_best: bool,
}

/// The trained model and what happened.
#[derive(Debug)]
pub struct FitOutcome<M> {
    /// The model after the last completed step (still on the autodiff device).
    pub model: M,
    /// One entry per completed epoch.
    pub epochs: Vec<EpochEvent>,
    /// Whether `should_stop` ended training early.
    pub stopped: bool,
}

/// Trains `model` (its parameters on `device`, an autodiff device) on `train`, evaluating on
/// `validation` after each epoch. Calls `on_event` with the event and the model after every step
/// and epoch (an epoch event is where a caller saves a checkpoint) and checks `should_stop`
/// before every step; stopping returns the model as the last step left it.
///
/// # Errors
/// [`Error::BadInput`] when the data does not fit the model or a setting is 0;
/// [`Error::Backend`] when reading from the device fails.
pub async fn fit<M: ImageClassifier>(
    mut model: M,
    train: &Dataset,
    validation: &Dataset,
    config: &FitConfig,
    device: &Device,
    mut on_event: impl FnMut(&FitEvent, &M),
    should_stop: impl Fn() -> bool,
) -> error::Result<FitOutcome<M>> {
    if config.batch_size == 0 || config.epochs == 0 || config.read_loss_every == 0 {
        return Err(error::Error::BadInput(
            "epochs, batch size and read_loss_every must be at least 1".into(),
        ));
    }
    for data in [train, validation] {
        let [c, h, w] = data.shape();
        check_input(model.input_shape(), [1, c, h, w])?;
    }
    let mut optim = adam();
    let mut scheduler = ReduceLrOnPlateauConfig::new(config.learning_rate)
        .with_patience(config.patience)
        .init();
    let mut rng = SplitMix::new(config.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let steps_per_epoch = train.len().div_ceil(config.batch_size);
    let mut history = Vec::new();
    // The lowest validation loss so far, its epoch and (to restore it) its weights.
    let mut best: Option<(f32, usize, Option<M>)> = None;
    let cosine = |epoch: usize| {
        let t = (epoch - 1) as f64 / config.epochs as f64;
        config.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
    };
    let mut lr = config.learning_rate;

    for epoch in 1..=config.epochs {
        let started = now_ms();
        rng.shuffle(&mut order);
        let mut loss_sum: Tensor<1> = Tensor::zeros([1], device);
        let mut correct_sum: Tensor<1> = Tensor::zeros([1], device);
        let mut seen = 0usize;
        for (i, chunk) in order.chunks(config.batch_size).enumerate() {
            if should_stop() {
                return Ok(FitOutcome {
                    model,
                    epochs: history,
                    stopped: true,
                });
            }
            let how = Augment {
                max_shift: config.max_shift,
                elastic: config.elastic,
            };
            let augment = (config.max_shift > 0).then_some((&mut rng, how));
            let batch = train.batch(chunk, device, augment);
            let (next, loss, correct) = train_step(model, &mut optim, &batch, lr);
            model = next;
            correct_sum = correct_sum + correct;
            loss_sum = loss_sum + loss.clone() * chunk.len() as f32;
            seen += chunk.len();
            let step = i + 1;
            let loss = if step % config.read_loss_every == 0 || step == steps_per_epoch {
                Some(read(loss).await?[0])
            } else {
                None
            };
            let elapsed_s = (now_ms() - started) / 1000.0;
            let event = FitEvent::Step(StepEvent {
                epoch,
                step,
                steps_per_epoch,
                loss,
                lr,
                images_per_second: seen as f64 / elapsed_s.max(1e-9),
            });
            on_event(&event, &model);
            yield_to_event_loop().await;
        }
        let train_seconds = (now_ms() - started) / 1000.0;
        let sums = read_all(vec![loss_sum, correct_sum]).await?;
        let (train_loss, train_accuracy) = (sums[0][0] / seen as f32, sums[1][0] / seen as f32);
        let validation = evaluate(&model.valid(), validation, config.batch_size, device).await?;
        let next_lr = match config.schedule {
            Schedule::Plateau => scheduler.step(f64::from(validation.loss)),
            Schedule::Cosine => cosine(epoch + 1),
            Schedule::None => lr,
        };
        let event = EpochEvent {
            epoch,
            train_loss,
            train_accuracy,
            validation,
            lr,
            next_lr,
            seconds: (now_ms() - started) / 1000.0,
            images_per_second: seen as f64 / train_seconds.max(1e-9),
        };
        on_event(&FitEvent::Epoch(event.clone()), &model);
        history.push(event);
        lr = next_lr;
        if let Some(patience) = config.early_stopping {
            let loss = validation.loss;
            if best.as_ref().is_none_or(|(b, _, _)| loss < *b) {
                best = Some((loss, epoch, config.restore_best.then(|| model.clone())));
            } else if best
                .as_ref()
                .is_some_and(|(_, at, _)| epoch - at >= patience)
            {
                break;
            }
        }
    }
    if let Some((_, _, Some(kept))) = best {
        model = kept;
    }
    Ok(FitOutcome {
        model,
        epochs: history,
        stopped: false,
    })
}
