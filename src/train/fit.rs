//! The one training loop, for the CLI, the browser and the tests: shuffled mini-batches (or
//! streamed ones), Adam, ReduceLROnPlateau on the validation loss once per epoch, events, and a
//! clean stop that can be resumed exactly.

use std::future::Future;
use std::pin::Pin;

use burn::config::Config;
use burn::optim::ModuleOptimizer;
use burn::prelude::{Device, Tensor};

use super::evaluate::evaluate;
use super::events::{EpochEvent, FitEvent, Schedule, StepEvent};
use super::plateau::{ReduceLrOnPlateau, ReduceLrOnPlateauConfig};
use super::step::{adam, train_step};
use crate::clock::now_ms;
use crate::data::{Augment, Dataset, MAX_BATCH, SplitMix};
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

/// Where the training images come from.
pub enum TrainData {
    /// In memory: shuffled every epoch (seeded) and cut into `batch_size` batches.
    Memory(Dataset),
    /// Batches that arrive one at a time, in the order the stream gives them, read anew every
    /// epoch (a JS async iterable in the browser).
    Stream(Box<dyn BatchStream>),
}

/// A future of the training stream, not `Send` (a browser's promises are not).
pub type StreamFuture<'a, T> = Pin<Box<dyn Future<Output = error::Result<T>> + 'a>>;

/// Batches of training images that arrive one at a time.
pub trait BatchStream {
    /// Starts a pass over the data (before every epoch).
    fn restart(&mut self) -> StreamFuture<'_, ()>;
    /// The next batch of the pass, or `None` at its end. Its shape and labels are checked by
    /// whoever made it (as any dataset's are), its size by the loop.
    fn next(&mut self) -> StreamFuture<'_, Option<Dataset>>;
}

/// How far an epoch had got when the loop last returned.
struct InEpoch {
    /// Steps done.
    step: usize,
    loss_sum: Tensor<1>,
    correct_sum: Tensor<1>,
    seen: usize,
    /// Training time spent in it so far, in seconds (time paused does not count).
    seconds: f64,
}

/// The training loop's whole state between calls to [`Run::advance`]: Adam's moments, the
/// scheduler, the shuffle and augmentation generator, the position in the epoch and what it
/// has summed so far. Stopping a run and advancing it again continues exactly where it
/// stopped: the result equals a run that was never stopped.
pub struct Run<M> {
    config: FitConfig,
    train: TrainData,
    validation: Dataset,
    optim: ModuleOptimizer,
    scheduler: ReduceLrOnPlateau,
    rng: SplitMix,
    order: Vec<usize>,
    /// Known for data in memory; for a stream, from its last complete pass.
    steps_per_epoch: Option<usize>,
    /// The epoch in progress, or the next to start (1-based).
    epoch: usize,
    in_epoch: Option<InEpoch>,
    history: Vec<EpochEvent>,
    /// The lowest validation loss so far, its epoch and (to restore it) its weights.
    best: Option<(f32, usize, Option<M>)>,
    lr: f64,
    finished: bool,
}

impl<M: ImageClassifier> Run<M> {
    /// A run of `config` on `train`, validated on `validation` after each epoch.
    ///
    /// # Errors
    /// [`Error::BadInput`] when a setting is 0 or the images do not fit `input_shape`.
    pub fn new(
        input_shape: [usize; 3],
        train: TrainData,
        validation: Dataset,
        config: FitConfig,
    ) -> error::Result<Self> {
        if config.batch_size == 0 || config.epochs == 0 || config.read_loss_every == 0 {
            return Err(error::Error::BadInput(
                "epochs, batch size and read_loss_every must be at least 1".into(),
            ));
        }
        let [c, h, w] = validation.shape();
        check_input(input_shape, [1, c, h, w])?;
        let (order, steps_per_epoch) = match &train {
            TrainData::Memory(data) => {
                let [c, h, w] = data.shape();
                check_input(input_shape, [1, c, h, w])?;
                let steps = data.len().div_ceil(config.batch_size);
                ((0..data.len()).collect(), Some(steps))
            }
            TrainData::Stream(_) => (Vec::new(), None),
        };
        Ok(Self {
            optim: adam(),
            scheduler: ReduceLrOnPlateauConfig::new(config.learning_rate)
                .with_patience(config.patience)
                .init(),
            rng: SplitMix::new(config.seed),
            order,
            steps_per_epoch,
            epoch: 1,
            in_epoch: None,
            history: Vec::new(),
            best: None,
            lr: config.learning_rate,
            finished: false,
            config,
            train,
            validation,
        })
    }

    /// One entry per completed epoch so far.
    pub fn epochs(&self) -> &[EpochEvent] {
        &self.history
    }

    /// Whether every epoch ran (or early stopping ended the run).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The epoch in progress or next to run (1-based).
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// The steps done in the epoch in progress.
    pub fn step(&self) -> usize {
        self.in_epoch.as_ref().map_or(0, |e| e.step)
    }

    /// The weights early stopping kept (with `restore_best`), once the run finished.
    pub fn take_best(&mut self) -> Option<M> {
        if !self.finished {
            return None;
        }
        self.best.as_mut().and_then(|(_, _, kept)| kept.take())
    }

    /// Trains `model` from where the run stands until it finishes or `should_stop` (asked before
    /// every step) says stop; returns the model as the last step left it, and whether it
    /// stopped. `on_event` gets every step and epoch with the model of the moment.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a streamed batch that is empty, too large or gives no batch in
    /// an epoch; [`Error::Backend`] when reading from the device fails.
    pub async fn advance(
        &mut self,
        mut model: M,
        device: &Device,
        mut on_event: impl FnMut(&FitEvent, &M),
        should_stop: impl Fn() -> bool,
    ) -> error::Result<(M, bool)> {
        while !self.finished {
            if self.in_epoch.is_none() {
                match &mut self.train {
                    TrainData::Memory(_) => self.rng.shuffle(&mut self.order),
                    TrainData::Stream(stream) => stream.restart().await?,
                }
                self.in_epoch = Some(InEpoch {
                    step: 0,
                    loss_sum: Tensor::zeros([1], device),
                    correct_sum: Tensor::zeros([1], device),
                    seen: 0,
                    seconds: 0.0,
                });
            }
            let resumed = now_ms();
            loop {
                // An epoch's last step done: it is evaluated before a stop is heeded (a
                // stream's end shows only when the next batch is asked for).
                let steps_done = self.in_epoch.as_ref().map(|e| e.step);
                if matches!(self.train, TrainData::Memory(_)) && steps_done >= self.steps_per_epoch
                {
                    break;
                }
                if should_stop() {
                    if let Some(e) = self.in_epoch.as_mut() {
                        e.seconds += (now_ms() - resumed) / 1000.0;
                    }
                    return Ok((model, true));
                }
                let Some(e) = self.in_epoch.as_mut() else {
                    break;
                };
                let how = Augment {
                    max_shift: self.config.max_shift,
                    elastic: self.config.elastic,
                };
                let augment = (self.config.max_shift > 0).then_some((&mut self.rng, how));
                let batch = match &mut self.train {
                    TrainData::Memory(data) => {
                        let Some(chunk) = self.order.chunks(self.config.batch_size).nth(e.step)
                        else {
                            break;
                        };
                        data.batch(chunk, device, augment)
                    }
                    TrainData::Stream(stream) => {
                        let Some(data) = stream.next().await? else {
                            if e.step == 0 {
                                return Err(error::Error::BadInput(format!(
                                    "the training stream gave no batch in epoch {}; it must \
                                     start a new pass over the data for every epoch",
                                    self.epoch
                                )));
                            }
                            self.steps_per_epoch = Some(e.step);
                            break;
                        };
                        if data.is_empty() || data.len() > MAX_BATCH {
                            return Err(error::Error::BadInput(format!(
                                "batch {} of epoch {} of the training stream has {} images; a \
                                 batch must have 1 to {MAX_BATCH}",
                                e.step + 1,
                                self.epoch,
                                data.len()
                            )));
                        }
                        let [c, h, w] = data.shape();
                        check_input(model.input_shape(), [1, c, h, w])?;
                        let all: Vec<usize> = (0..data.len()).collect();
                        data.batch(&all, device, augment)
                    }
                };
                let images = batch.labels.dims()[0];
                let (next, loss, correct) = train_step(model, &mut self.optim, &batch, self.lr);
                model = next;
                e.correct_sum = e.correct_sum.clone() + correct;
                e.loss_sum = e.loss_sum.clone() + loss.clone() * images as f32;
                e.seen += images;
                e.step += 1;
                let step = e.step;
                let last = self.steps_per_epoch == Some(step);
                let loss = if step % self.config.read_loss_every == 0 || last {
                    Some(read(loss).await?[0])
                } else {
                    None
                };
                let seconds = e.seconds + (now_ms() - resumed) / 1000.0;
                let event = FitEvent::Step(StepEvent {
                    epoch: self.epoch,
                    step,
                    steps_per_epoch: self.steps_per_epoch,
                    loss,
                    lr: self.lr,
                    images_per_second: e.seen as f64 / seconds.max(1e-9),
                });
                on_event(&event, &model);
                yield_to_event_loop().await;
            }
            let Some(e) = self.in_epoch.take() else {
                continue;
            };
            let train_seconds = e.seconds + (now_ms() - resumed) / 1000.0;
            let evaluated = now_ms();
            let sums = read_all(vec![e.loss_sum, e.correct_sum]).await?;
            let (train_loss, train_accuracy) =
                (sums[0][0] / e.seen as f32, sums[1][0] / e.seen as f32);
            let validation = evaluate(
                &model.valid(),
                &self.validation,
                self.config.batch_size,
                device,
            )
            .await?;
            let next_lr = match self.config.schedule {
                Schedule::Plateau => self.scheduler.step(f64::from(validation.loss)),
                Schedule::Cosine => {
                    let t = self.epoch as f64 / self.config.epochs as f64;
                    self.config.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
                }
                Schedule::None => self.lr,
            };
            let event = EpochEvent {
                epoch: self.epoch,
                train_loss,
                train_accuracy,
                validation,
                lr: self.lr,
                next_lr,
                seconds: train_seconds + (now_ms() - evaluated) / 1000.0,
                images_per_second: e.seen as f64 / train_seconds.max(1e-9),
            };
            on_event(&FitEvent::Epoch(event.clone()), &model);
            self.history.push(event);
            self.lr = next_lr;
            self.finished = self.epoch == self.config.epochs;
            if let Some(patience) = self.config.early_stopping {
                let (loss, epoch) = (validation.loss, self.epoch);
                if self.best.as_ref().is_none_or(|(b, _, _)| loss < *b) {
                    let kept = self.config.restore_best.then(|| model.clone());
                    self.best = Some((loss, epoch, kept));
                } else if self
                    .best
                    .as_ref()
                    .is_some_and(|(_, at, _)| epoch - at >= patience)
                {
                    self.finished = true;
                }
            }
            self.epoch += 1;
        }
        Ok((model, false))
    }
}

/// Trains `model` (its parameters on `device`, an autodiff device) on `train`, evaluating on
/// `validation` after each epoch: a [`Run`] advanced once. Calls `on_event` with the event and
/// the model after every step and epoch (an epoch event is where a caller saves a checkpoint)
/// and checks `should_stop` before every step; stopping returns the model as the last step left
/// it.
///
/// # Errors
/// [`Error::BadInput`] when the data does not fit the model or a setting is 0;
/// [`Error::Backend`] when reading from the device fails.
pub async fn fit<M: ImageClassifier>(
    model: M,
    train: &Dataset,
    validation: &Dataset,
    config: &FitConfig,
    device: &Device,
    on_event: impl FnMut(&FitEvent, &M),
    should_stop: impl Fn() -> bool,
) -> error::Result<FitOutcome<M>> {
    let mut run = Run::new(
        model.input_shape(),
        TrainData::Memory(train.clone()),
        validation.clone(),
        config.clone(),
    )?;
    let (model, stopped) = run.advance(model, device, on_event, should_stop).await?;
    let model = run.take_best().unwrap_or(model);
    Ok(FitOutcome {
        model,
        epochs: run.history,
        stopped,
    })
}

impl From<Dataset> for TrainData {
    fn from(data: Dataset) -> Self {
        TrainData::Memory(data)
    }
}
