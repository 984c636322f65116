//! A [`Classifier`]: one network of the zoo on one device, with what it takes to use it —
//! preparing images, checking datasets, holding data out for validation, the training options,
//! evaluation, weights in and out. The one API under the wasm facade (`src/web/`), the CLI
//! (`src/bin/convlens.rs`) and the tests: they convert, this decides.

use burn::module::Module;
use burn::prelude::{Device, Tensor};
use serde::Deserialize;

use crate::data::{Dataset, check_labels, images_tensor};
use crate::error::{Error, Result};
use crate::infer::{self, FeatureMap};
use crate::model::{
    AnyModel, Architecture, ImageClassifier, MapModel, Preprocess, Pretrained, WithModel,
    trainable_parameters,
};
use crate::train::{Evaluation, evaluate};
use crate::weights;

/// The seed of a freshly initialised network's weights (the same architecture starts from the
/// same values).
pub const FRESH_WEIGHTS_SEED: u64 = 42;

/// Where a classifier's weights come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init<'a> {
    /// Freshly initialised from this seed (the same seed, the same weights).
    Seed(u64),
    /// Burnpack bytes: what [`Classifier::export`] gives, or a shipped file.
    Weights(&'a [u8]),
    /// Transfer learning: every weight of these burnpack bytes except the classifying layer's
    /// (the head, [`ImageClassifier::head`]), which starts fresh from
    /// [`FRESH_WEIGHTS_SEED`] with one output per label — so the file may have another number
    /// of classes than the new classifier.
    Backbone(&'a [u8]),
}

impl<'a> Init<'a> {
    /// `Weights` when there are bytes, `Seed(FRESH_WEIGHTS_SEED)` otherwise.
    pub fn from_bytes(weights: Option<&'a [u8]>) -> Self {
        weights.map_or(Init::Seed(FRESH_WEIGHTS_SEED), Init::Weights)
    }
}

/// Images per forward pass when evaluating.
pub const EVALUATION_BATCH: usize = 64;

/// The fewest and most classes a classifier may have (ImageNet's 1,000 fit; js/guard.ts has
/// the same, which `tests/limits.rs` holds it to).
pub const CLASSES: std::ops::RangeInclusive<usize> = 2..=4096;

/// One `fit` of a model: its options and its completed epochs (what a model file keeps).
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct TrainingRecord {
    /// The options it was called with.
    pub options: FitOptions,
    /// One entry per completed epoch.
    pub epochs: Vec<crate::train::EpochEvent>,
    /// Whether it was stopped before its last epoch.
    pub stopped: bool,
}

/// What a model file says about its network besides the weights: enough to load it with nothing
/// else (see [`Classifier::export_model`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelDescription {
    /// The architecture's name, e.g. `"lenet5"`.
    pub architecture: String,
    /// Class labels, by output index.
    pub labels: Vec<String>,
    /// `[channels, height, width]` of one input image.
    pub input_shape: [usize; 3],
    /// How an image becomes the input.
    pub preprocess: Preprocess,
    /// Every `fit` the weights went through since they were made or last loaded, oldest first.
    pub training: Vec<TrainingRecord>,
}

/// A network of the zoo on a device, ready to classify, explain itself and train.
///
/// Cloning is cheap (the tensors are shared); a clone trained with [`Classifier::fit`] goes
/// its own way.
#[derive(Debug, Clone)]
pub struct Classifier {
    architecture: Architecture,
    labels: Vec<String>,
    parameters: usize,
    /// How an image becomes the input (the architecture's, or the shipped model's).
    preprocess: Preprocess,
    /// The training this classifier's weights had (from its model file, and each `fit`).
    training: Vec<TrainingRecord>,
    /// Where inputs are made and inference runs.
    device: Device,
    /// `device` with autodiff, where the parameters live so they can train.
    #[cfg(feature = "train")]
    model_device: Device,
    model: AnyModel,
}

impl Classifier {
    /// `architecture` with one output per label on `device`, its weights as `init` says.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a class count outside [`CLASSES`]; [`Error::BadWeights`] for
    /// weights that are not this architecture's.
    pub fn new(
        architecture: Architecture,
        labels: Vec<String>,
        device: &Device,
        init: Init<'_>,
    ) -> Result<Self> {
        check_classes(labels.len())?;
        #[cfg(feature = "train")]
        let model_device = device.clone().autodiff();
        #[cfg(not(feature = "train"))]
        let model_device = device.clone();
        match init {
            Init::Seed(seed) => model_device.seed(seed),
            Init::Backbone(_) => model_device.seed(FRESH_WEIGHTS_SEED),
            Init::Weights(_) => {}
        }
        let model = architecture.init_with_classes(labels.len(), &model_device);
        let model = match init {
            Init::Weights(bytes) => load_burnpack(model, bytes)?,
            Init::Backbone(bytes) => model.try_map(LoadBackbone(bytes))?,
            Init::Seed(_) => model,
        };
        Ok(Self {
            architecture,
            parameters: trainable_parameters(&model),
            preprocess: architecture.preprocess(),
            training: Vec::new(),
            labels,
            device: device.clone(),
            #[cfg(feature = "train")]
            model_device,
            model,
        })
    }

    /// As [`Self::new`], with `classes` outputs labelled `"0"`, `"1"`, ….
    ///
    /// # Errors
    /// As for [`Self::new`].
    pub fn with_classes(
        architecture: Architecture,
        classes: usize,
        device: &Device,
        init: Init<'_>,
    ) -> Result<Self> {
        // Checked before the labels are made (a count from JS may be huge).
        check_classes(classes)?;
        Self::new(architecture, numbered(classes), device, init)
    }

    /// A shipped model with its labels (its dataset's, or those its file carries), from the
    /// bytes of its file.
    ///
    /// # Errors
    /// As for [`Self::new`].
    pub fn pretrained(model: &Pretrained, device: &Device, weights: &[u8]) -> Result<Self> {
        let labels = match weights::labels(weights)? {
            Some(labels) => labels,
            None => model.dataset.labels.iter().map(|l| l.to_string()).collect(),
        };
        let classifier = Self::new(model.architecture, labels, device, Init::Weights(weights))?;
        Ok(classifier.with_preprocess(model.preprocess))
    }

    /// `architecture` with the weights in `bytes` and the labels the file carries (those
    /// [`Self::export`] writes), or ten numbered ones for a file without labels.
    ///
    /// # Errors
    /// As for [`Self::new`].
    pub fn from_weights(architecture: Architecture, device: &Device, bytes: &[u8]) -> Result<Self> {
        let labels = weights::labels(bytes)?.unwrap_or_else(|| numbered(10));
        Self::new(architecture, labels, device, Init::Weights(bytes))
    }

    /// A classifier as the JS API asks for one: `labels` (or those the weights carry, or ten
    /// numbered ones), the weights in `weights` (or fresh ones from [`FRESH_WEIGHTS_SEED`]);
    /// with `transfer`, `weights` is a pretrained backbone under a fresh head of `labels`
    /// ([`Init::Backbone`]).
    ///
    /// # Errors
    /// As for [`Self::new`]; [`Error::BadInput`] for `transfer` without weights or labels.
    pub fn open(
        architecture: Architecture,
        device: &Device,
        weights: Option<&[u8]>,
        labels: Option<Vec<String>>,
        transfer: bool,
    ) -> Result<Self> {
        match (labels, weights, transfer) {
            (Some(labels), Some(bytes), true) => {
                Self::new(architecture, labels, device, Init::Backbone(bytes))
            }
            (_, _, true) => Err(Error::BadInput(
                "transfer needs the pretrained weights and the new labels".into(),
            )),
            (Some(labels), bytes, false) => {
                Self::new(architecture, labels, device, Init::from_bytes(bytes))
            }
            (None, Some(bytes), false) => Self::from_weights(architecture, device, bytes),
            (None, None, false) => {
                Self::with_classes(architecture, 10, device, Init::Seed(FRESH_WEIGHTS_SEED))
            }
        }
    }

    /// The architecture.
    pub fn architecture(&self) -> Architecture {
        self.architecture
    }

    /// Every `fit` these weights went through (as far as their files say), oldest first.
    pub fn training(&self) -> &[TrainingRecord] {
        &self.training
    }

    /// What a model file of this classifier says besides the weights.
    pub fn description(&self) -> ModelDescription {
        ModelDescription {
            architecture: self.architecture.name().to_string(),
            labels: self.labels.clone(),
            input_shape: self.input_shape(),
            preprocess: self.preprocess,
            training: self.training.clone(),
        }
    }

    /// A model file: the weights with their architecture, labels, input shape, preparation and
    /// training record ([`ModelDescription`]), a format version and a checksum, in one burnpack
    /// file (which also loads as bare weights). [`Self::from_model_file`] reads it.
    ///
    /// # Errors
    /// As for [`Self::export`].
    pub async fn export_model(&self) -> Result<Vec<u8>> {
        let json = serde_json::to_string(&self.description())
            .map_err(|e| Error::Backend(format!("could not describe the model: {e}")))?;
        weights::with_description(self.export().await?, &json)
    }

    /// The classifier a model file describes ([`Self::export_model`]), on `device`.
    ///
    /// # Errors
    /// [`Error::BadWeights`] for bare weights (no description: load them with their
    /// architecture), a newer format, a damaged file (its checksum), a description that does not
    /// fit its weights, or weights that are not the architecture's.
    pub fn from_model_file(device: &Device, bytes: &[u8]) -> Result<Self> {
        let Some(json) = weights::description(bytes)? else {
            return Err(Error::BadWeights(
                "these are bare weights, not a model file: load them with their architecture \
                 ({ architecture, weights })"
                    .into(),
            ));
        };
        let description: ModelDescription = serde_json::from_str(&json).map_err(|e| {
            Error::BadWeights(format!("the model file's description is not readable: {e}"))
        })?;
        let architecture = Architecture::parse(&description.architecture)
            .map_err(|e| Error::BadWeights(format!("the model file's {e}")))?;
        let mut classifier = Self::new(
            architecture,
            description.labels,
            device,
            Init::Weights(bytes),
        )?;
        if classifier.input_shape() != description.input_shape {
            return Err(Error::BadWeights(format!(
                "the model file says its input is {:?}, but its architecture reads {:?}",
                description.input_shape,
                classifier.input_shape()
            )));
        }
        classifier.preprocess = description.preprocess;
        classifier.training = description.training;
        Ok(classifier)
    }

    /// How images become this classifier's input in [`Self::images`].
    pub fn preprocess(&self) -> Preprocess {
        self.preprocess
    }

    /// The same classifier (sharing its tensors) preparing images as `preprocess` says.
    pub fn with_preprocess(mut self, preprocess: Preprocess) -> Self {
        self.preprocess = preprocess;
        self
    }

    /// Class labels, by output index.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.labels.len()
    }

    /// Trainable parameters (the class count included).
    pub fn parameters(&self) -> usize {
        self.parameters
    }

    /// `[channels, height, width]` of one input image.
    pub fn input_shape(&self) -> [usize; 3] {
        self.model.input_shape()
    }

    /// Every layer among the feature maps: its kind, geometry and receptive field.
    pub fn layers(&self) -> Vec<crate::model::LayerGeometry> {
        crate::model::with_receptive_fields(self.model.layers())
    }

    /// The network, for inference.
    pub fn model(&self) -> AnyModel {
        self.model.valid()
    }

    /// One image (`[1, c, h, w]`) or several of one size (`[n, c, h, w]`), pixels in `[0, 1]`,
    /// any size and 1, 3 or 4 channels, each prepared as [`Self::preprocess`] says: a
    /// `[n, …input]` tensor.
    ///
    /// # Errors
    /// [`Error::BadInput`] for pixels that do not make that shape or are out of range.
    pub fn images(&self, pixels: &[f32], shape: [usize; 4]) -> Result<Tensor<4>> {
        let input = self.input_shape();
        let fitted = self.preprocess.apply(pixels, shape, input)?;
        images_tensor(&fitted, input, &self.device)
    }

    /// One forward pass of a blank image, read back and thrown away: on WebGPU it compiles the
    /// forward pass's kernels, so that the first real call does not (README, "Where one WebGPU
    /// call's time goes").
    ///
    /// # Errors
    /// As for [`Self::classify`].
    pub async fn warm_up(&self) -> Result<()> {
        infer::warm_up(&self.model(), &self.device).await
    }

    /// Softmax probabilities, [`Self::classes`] values per image, image after image (images as
    /// for [`Self::images`]).
    ///
    /// # Errors
    /// As for [`Self::images`]; [`Error::Backend`] when reading fails; [`Error::BadWeights`]
    /// when the scores overflow.
    pub async fn classify(&self, pixels: &[f32], shape: [usize; 4]) -> Result<Vec<f32>> {
        let images = self.images(pixels, shape)?;
        infer::probabilities(&self.model(), images).await
    }

    /// The features the classifying layer reads (e.g. EfficientNet-Lite0's 1,280 pooled
    /// values), image after image: what a new head learns from, and a description of the image
    /// for search or clustering. Images as for [`Self::images`].
    ///
    /// # Errors
    /// As for [`Self::classify`].
    pub async fn embed(&self, pixels: &[f32], shape: [usize; 4]) -> Result<Vec<f32>> {
        let images = self.images(pixels, shape)?;
        let features = self
            .model()
            .features_recorded(images, &mut crate::model::Recorder::off());
        crate::readback::read(features).await
    }

    /// The `k` most likely classes of each image of `probabilities` (from [`Self::classify`]),
    /// most likely first.
    pub fn top(&self, probabilities: &[f32], k: usize) -> Vec<Vec<Prediction<'_>>> {
        probabilities
            .chunks(self.classes())
            .map(|scores| {
                let mut ranked: Vec<_> = scores.iter().copied().enumerate().collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
                ranked
                    .into_iter()
                    .take(k)
                    .map(|(index, score)| Prediction {
                        index,
                        label: &self.labels[index],
                        score,
                    })
                    .collect()
            })
            .collect()
    }

    /// Every layer's output for each image (one forward pass, one read), image after image;
    /// with `layers`, only those layers' (see [`infer::feature_maps_per_image`]).
    ///
    /// # Errors
    /// As for [`Self::classify`]; [`Error::BadInput`] naming an unknown layer.
    pub async fn feature_maps(
        &self,
        pixels: &[f32],
        shape: [usize; 4],
        layers: Option<&[String]>,
    ) -> Result<Vec<Vec<FeatureMap>>> {
        let images = self.images(pixels, shape)?;
        infer::feature_maps_per_image(&self.model(), images, layers).await
    }

    /// The first convolution's kernels: `(layer, [out, in, kh, kw], values)`.
    ///
    /// # Errors
    /// [`Error::Backend`] when reading fails.
    pub async fn filters(&self) -> Result<(&'static str, [usize; 4], Vec<f32>)> {
        infer::first_filters(&self.model()).await
    }

    /// A dataset of this model's input shape: `images` bytes image after image, `labels` one
    /// per image, each below [`Self::classes`].
    ///
    /// # Errors
    /// [`Error::BadInput`] naming what does not fit.
    pub fn dataset(&self, images: Vec<u8>, labels: Vec<u8>) -> Result<Dataset> {
        check_labels(&labels, self.classes())?;
        Dataset::new(images, labels, self.input_shape())
    }

    /// Mean cross-entropy and accuracy on `data`.
    ///
    /// # Errors
    /// [`Error::BadInput`] when the images do not fit; [`Error::Backend`] when reading fails.
    pub async fn evaluate(&self, data: &Dataset) -> Result<Evaluation> {
        evaluate(&self.model(), data, EVALUATION_BATCH, &self.device).await
    }

    /// [`Self::evaluate`] with the confusion matrix and every misclassified image.
    ///
    /// # Errors
    /// As for [`Self::evaluate`].
    pub async fn assess(&self, data: &Dataset) -> Result<crate::train::Assessment> {
        crate::train::assess(&self.model(), data, EVALUATION_BATCH, &self.device).await
    }

    /// The weights as burnpack bytes (what [`Self::new`] reads), read asynchronously.
    ///
    /// # Errors
    /// [`Error::Backend`] when reading or serialising fails.
    pub async fn export(&self) -> Result<Vec<u8>> {
        let bytes = burnpack(&weights::to_cpu(self.model()).await?)?;
        weights::with_labels(bytes, &self.labels)
    }

    #[cfg(feature = "pytorch")]
    /// The weights as a PyTorch `state_dict` in safetensors, under the architecture's PyTorch
    /// names (VIN under the reference class's).
    ///
    /// # Errors
    /// As for [`Self::export`].
    pub async fn export_pytorch(&self) -> Result<Vec<u8>> {
        let cpu = weights::to_cpu(self.model()).await?;
        weights::to_pytorch_safetensors(&cpu, AnyModel::pytorch_key)
    }

    #[cfg(feature = "pytorch")]
    /// Replaces the weights with a PyTorch `state_dict` in safetensors (the names of
    /// [`Self::export_pytorch`]).
    ///
    /// # Errors
    /// [`Error::BadWeights`] when a tensor is missing, extra or of another shape.
    pub fn import_pytorch(&mut self, bytes: &[u8]) -> Result<()> {
        self.model =
            weights::load_pytorch_safetensors(self.model.clone(), bytes, AnyModel::pytorch_key)?;
        Ok(())
    }

    /// Replaces the weights with a PyTorch checkpoint file (`.pt`/`.pth`, any `torch.save`
    /// format) holding a `state_dict` under the architecture's PyTorch names (e.g. the
    /// EfficientNet-Lite0 ImageNet weights of scripts/fetch-photos.sh).
    ///
    /// # Errors
    /// As for [`Self::import_pytorch`].
    #[cfg(all(feature = "pytorch", not(target_arch = "wasm32")))]
    pub fn import_pytorch_checkpoint(&mut self, path: &std::path::Path) -> Result<()> {
        self.model =
            weights::load_pytorch_checkpoint(self.model.clone(), path, AnyModel::pytorch_key)?;
        Ok(())
    }
}

/// The burnpack bytes of a network whose parameters are on the CPU backend (read
/// synchronously): what a checkpoint saves.
///
/// # Errors
/// [`Error::Backend`] when serialising fails.
pub fn burnpack(model: &AnyModel) -> Result<Vec<u8>> {
    struct Save;
    impl WithModel for Save {
        type Output = Result<Vec<u8>>;
        fn run<M: ImageClassifier>(self, model: &M) -> Result<Vec<u8>> {
            weights::to_bytes(model.clone())
        }
    }
    model.with(Save)
}

/// `model` with the weights in `bytes` (burnpack, checked tensor by tensor: see
/// [`weights::load`]).
///
/// # Errors
/// [`Error::BadWeights`] for weights that are not this architecture's.
pub fn load_burnpack(model: AnyModel, bytes: &[u8]) -> Result<AnyModel> {
    model.try_map(LoadBurnpack(bytes))
}

struct LoadBurnpack<'a>(&'a [u8]);

impl MapModel for LoadBurnpack<'_> {
    fn run<M: ImageClassifier>(self, model: M) -> Result<M> {
        weights::load(model, self.0)
    }
}

/// Freezes every weight but the classifying layer's ([`Train::Head`]).
#[cfg(feature = "train")]
struct FreezeBackbone;

#[cfg(feature = "train")]
impl MapModel for FreezeBackbone {
    fn run<M: ImageClassifier>(self, model: M) -> Result<M> {
        let head = model.head().1;
        let group = burn::module::ParamGroup::from_paths(vec![
            format!("{head}.weight"),
            format!("{head}.bias"),
        ]);
        Ok(model.freeze().unfreeze_group(group))
    }
}

struct LoadBackbone<'a>(&'a [u8]);

impl MapModel for LoadBackbone<'_> {
    fn run<M: ImageClassifier>(self, model: M) -> Result<M> {
        let head = model.head().1;
        weights::load_backbone(model, self.0, head)
    }
}

/// Checks a class count against [`CLASSES`].
///
/// # Errors
/// [`Error::BadInput`] naming the count and the range.
pub fn check_classes(classes: usize) -> Result<()> {
    if CLASSES.contains(&classes) {
        return Ok(());
    }
    Err(Error::BadInput(format!(
        "a classifier needs between {} and {} classes, got {classes}",
        CLASSES.start(),
        CLASSES.end()
    )))
}

fn numbered(classes: usize) -> Vec<String> {
    (0..classes).map(|i| i.to_string()).collect()
}

/// One class of [`Classifier::top`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction<'a> {
    /// Output index.
    pub index: usize,
    /// Its label.
    pub label: &'a str,
    /// Its probability.
    pub score: f32,
}

/// Where the validation images come from.
#[derive(Debug, Clone)]
pub enum Validation {
    /// The last fraction of the training images (in `[0, 1)`; rounded, at least one image
    /// stays for training). 0 (or a set too small to give one) validates on the training
    /// images themselves, so the scheduler watches the training loss.
    Split(f64),
    /// The last this many training images (0 as for `Split(0.0)`).
    Count(usize),
    /// A separate set.
    Data(Dataset),
}

impl Validation {
    /// The training and the validation images.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a split outside `[0, 1)` or a count not below the training
    /// images.
    pub fn split(self, all: Dataset) -> Result<(Dataset, Dataset)> {
        let held = match self {
            Validation::Data(validation) => return Ok((all, validation)),
            Validation::Split(fraction) => {
                if !(0.0..1.0).contains(&fraction) {
                    return Err(Error::BadInput(format!(
                        "validationSplit must be in [0, 1), got {fraction}"
                    )));
                }
                ((all.len() as f64 * fraction).round() as usize).min(all.len() - 1)
            }
            Validation::Count(count) => {
                if count >= all.len() {
                    return Err(Error::BadInput(format!(
                        "the validation images ({count}) must be fewer than the training images ({})",
                        all.len()
                    )));
                }
                count
            }
        };
        Ok(if held == 0 {
            (all.clone(), all)
        } else {
            all.split_at(all.len() - held)
        })
    }
}

/// An option that must be a whole number in `[min, max]` (JS numbers are `f64`): `None` when
/// not given.
///
/// # Errors
/// [`Error::BadInput`] naming `key`, the range and the value.
pub(crate) fn whole_number<T: TryFrom<u64>>(
    key: &str,
    value: Option<f64>,
    [min, max]: [f64; 2],
) -> Result<Option<T>> {
    let Some(v) = value else { return Ok(None) };
    if v.is_finite()
        && v.fract() == 0.0
        && (min..=max).contains(&v)
        && let Ok(v) = T::try_from(v as u64)
    {
        return Ok(Some(v));
    }
    Err(Error::BadInput(format!(
        "{key} must be a whole number from {min} to {max}, got {v}"
    )))
}

/// `fit`'s options, as JS passes them (camelCase) and the CLI's flags set them; absent ones
/// keep the defaults of [`crate::train::FitConfig`]. Unknown keys are errors. (The JS API's
/// `FitOptions` extends this with its callbacks, signal and validation data.)
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct FitOptions {
    /// Passes over the training images (1 to 1,000,000; default 5).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub epochs: Option<f64>,
    /// Images per step (1 to 1,024; default 64).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub batch_size: Option<f64>,
    /// Adam's first learning rate, in (0, 10) (default 1e-3).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub learning_rate: Option<f64>,
    /// ReduceLROnPlateau's patience in epochs (default 3).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub patience: Option<f64>,
    /// Augmentation: the largest shift in pixels, 0 to 8, with rotation and scaling (0: none).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub augment: Option<f64>,
    /// Augmentation: elastic distortion of up to this many pixels, 0 to 8 (with `augment`).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub elastic: Option<f64>,
    /// Seed of the shuffle and the augmentation (0 to 2^53).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub seed: Option<f64>,
    /// Read the training loss every this many steps (default 10).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub read_loss_every: Option<f64>,
    /// The fraction of the training images held out to validate when no validation set is
    /// given, in [0, 1) (default 0.1).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub validation_split: Option<f64>,
    /// What trains: `"all"` the weights (default), or `"head"` only the classifying layer, the
    /// rest frozen with its BatchNorm statistics (transfer learning on a pretrained backbone).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub train: Option<Train>,
    /// How the learning rate changes: `"plateau"` (default, ReduceLROnPlateau with `patience`),
    /// `"cosine"` (annealed to 0 over the epochs) or `"none"`.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub schedule: Option<crate::train::Schedule>,
    /// Stop once the validation loss has not improved for `patience` epochs; with
    /// `restoreBest`, end with the best epoch's weights.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub early_stopping: Option<EarlyStopping>,
}

/// `fit`'s `earlyStopping`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EarlyStopping {
    /// Epochs without a lower validation loss before training stops (1 to 1,000,000).
    pub patience: f64,
    /// End with the weights of the epoch with the lowest validation loss (default false).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    #[serde(default)]
    pub restore_best: Option<bool>,
}

/// Which weights [`Classifier::fit`] trains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Train {
    /// Every weight.
    #[default]
    All,
    /// Only the classifying layer ([`ImageClassifier::head`]).
    Head,
}

#[cfg(feature = "train")]
impl FitOptions {
    /// The training loop's settings, every value checked.
    ///
    /// # Errors
    /// [`Error::BadInput`] naming the option that is out of range or not whole.
    pub fn config(&self) -> Result<crate::train::FitConfig> {
        let mut config = crate::train::FitConfig::new();
        /// `value` (when given) into `target`, if it is a whole number in the range.
        fn whole<T: TryFrom<u64>>(
            key: &str,
            value: Option<f64>,
            range: [f64; 2],
            target: &mut T,
        ) -> Result<()> {
            if let Some(v) = whole_number(key, value, range)? {
                *target = v;
            }
            Ok(())
        }
        whole("epochs", self.epochs, [1.0, 1e6], &mut config.epochs)?;
        let batch = [1.0, crate::data::MAX_BATCH as f64];
        whole("batchSize", self.batch_size, batch, &mut config.batch_size)?;
        whole("patience", self.patience, [1.0, 1e6], &mut config.patience)?;
        whole(
            "readLossEvery",
            self.read_loss_every,
            [1.0, 1e6],
            &mut config.read_loss_every,
        )?;
        whole("augment", self.augment, [0.0, 8.0], &mut config.max_shift)?;
        whole("seed", self.seed, [0.0, 2f64.powi(53)], &mut config.seed)?;
        if let Some(schedule) = self.schedule {
            config.schedule = schedule;
        }
        if let Some(early) = self.early_stopping {
            let mut patience = 0usize;
            whole(
                "earlyStopping.patience",
                Some(early.patience),
                [1.0, 1e6],
                &mut patience,
            )?;
            config.early_stopping = Some(patience);
            config.restore_best = early.restore_best.unwrap_or(false);
        }
        if let Some(lr) = self.learning_rate {
            if !(lr > 0.0 && lr < 10.0) {
                return Err(Error::BadInput(format!(
                    "learningRate must be in (0, 10), got {lr}"
                )));
            }
            config.learning_rate = lr;
        }
        if let Some(e) = self.elastic {
            if !(0.0..=8.0).contains(&e) {
                return Err(Error::BadInput(format!(
                    "elastic must be from 0 to 8 pixels, got {e}"
                )));
            }
            config.elastic = e as f32;
        }
        Ok(config)
    }

    /// Where validation images come from when no set is given.
    pub fn validation(&self) -> Validation {
        Validation::Split(self.validation_split.unwrap_or(0.1))
    }
}

#[cfg(feature = "train")]
impl Classifier {
    /// Why this classifier gives one image (`[1, c, h, w]`, pixels as for [`Self::images`],
    /// prepared as the classifier prepares them) its class: a heat map at the network's input
    /// (see [`crate::explain`]), computed with autodiff on the classifier's device. The weights
    /// are not changed (BatchNorm keeps its running statistics).
    ///
    /// # Errors
    /// [`Error::BadInput`] for a batch, an image that does not fit, or options out of range;
    /// [`Error::Backend`] when the device fails.
    pub async fn explain(
        &self,
        pixels: &[f32],
        shape: [usize; 4],
        options: &crate::explain::ExplainOptions,
    ) -> Result<crate::explain::Explanation> {
        if shape[0] != 1 {
            return Err(Error::BadInput(format!(
                "explain takes one image, got a batch of {}",
                shape[0]
            )));
        }
        let input = self.input_shape();
        let fitted = self.preprocess.apply(pixels, shape, input)?;
        let image = images_tensor(&fitted, input, &self.model_device)?;
        let model = burn::module::Module::freeze(self.model.clone());
        let mut e = crate::explain::explain(&model, image, options).await?;
        // The heat carried back onto the image as given, through the preparation.
        let [_, _, h, w] = shape;
        let placement = self.preprocess.placement(pixels, shape, input)?;
        e.original = match placement {
            Some(p) => crate::explain::scaled(&p.map_back(&e.heat, e.shape, [h, w])),
            None => vec![0.0; h * w],
        };
        e.original_shape = [h, w];
        Ok(e)
    }
}

/// A training run between calls: Adam's moments, the learning-rate schedule, the data, the
/// shuffle and the position in the epoch. [`Classifier::advance`] continues it exactly where it
/// stopped, so a run stopped and continued ends with the weights of one never stopped.
#[cfg(feature = "train")]
pub struct Fitting {
    run: crate::train::Run<AnyModel>,
    options: FitOptions,
    head_only: bool,
}

#[cfg(feature = "train")]
impl Fitting {
    /// The epochs completed so far.
    pub fn epochs(&self) -> &[crate::train::EpochEvent] {
        self.run.epochs()
    }

    /// The epoch in progress or next (1-based) and the steps done in it.
    pub fn position(&self) -> (usize, usize) {
        (self.run.epoch(), self.run.step())
    }
}

#[cfg(feature = "train")]
impl Classifier {
    /// Trains on `train`, validating as `validation` says, with Adam and ReduceLROnPlateau.
    /// `on_event` gets every step and epoch with the network of the moment (an epoch is where
    /// the CLI saves a checkpoint: see [`burnpack`] after `to_cpu`); `should_stop` is asked
    /// before every step. Returns the epochs; the classifier keeps the trained weights.
    ///
    /// # Errors
    /// [`Error::BadInput`] for options out of range or data that does not fit;
    /// [`Error::Aborted`] when `should_stop` said so (the classifier keeps the weights of the
    /// last completed step); [`Error::Backend`] when the device fails (the weights stay as they
    /// were).
    pub async fn fit(
        &mut self,
        train: impl Into<crate::train::TrainData>,
        validation: Validation,
        options: &FitOptions,
        on_event: impl FnMut(&crate::train::FitEvent, &AnyModel),
        should_stop: impl Fn() -> bool,
    ) -> Result<Vec<crate::train::EpochEvent>> {
        let mut fitting = self.start_fit(train, validation, options)?;
        match self.advance(&mut fitting, on_event, should_stop).await? {
            Some(epochs) => Ok(epochs),
            None => Err(self.abandon(fitting)),
        }
    }

    /// A training run of these options on `train`, not yet started: [`Self::advance`] runs it.
    ///
    /// # Errors
    /// [`Error::BadInput`] for options out of range, data that does not fit, or a streamed
    /// `train` without a validation set.
    pub fn start_fit(
        &self,
        train: impl Into<crate::train::TrainData>,
        validation: Validation,
        options: &FitOptions,
    ) -> Result<Fitting> {
        use crate::train::TrainData;
        let config = options.config()?;
        let (train, validation) = match (train.into(), validation) {
            (TrainData::Memory(all), validation) => {
                let (train, validation) = validation.split(all)?;
                check_labels(train.labels(), self.classes())?;
                (TrainData::Memory(train), validation)
            }
            (stream @ TrainData::Stream(_), Validation::Data(validation)) => (stream, validation),
            (TrainData::Stream(_), _) => {
                return Err(Error::BadInput(
                    "validationData is needed when the dataset is streamed (an iterable of \
                     batches cannot be split)"
                        .into(),
                ));
            }
        };
        check_labels(validation.labels(), self.classes())?;
        Ok(Fitting {
            run: crate::train::Run::new(self.input_shape(), train, validation, config)?,
            options: options.clone(),
            head_only: options.train.unwrap_or_default() == Train::Head,
        })
    }

    /// Trains from where `fitting` stands until it finishes (the epochs, also kept in the
    /// training record) or `should_stop` (asked before every step) says stop (`None`: the
    /// classifier keeps the weights of the last completed step, and `fitting` can be advanced
    /// again, or [`Self::abandon`]ed).
    ///
    /// # Errors
    /// [`Error::BadInput`] for a streamed batch that does not fit; [`Error::Backend`] when the
    /// device fails (the weights stay as the last return left them).
    pub async fn advance(
        &mut self,
        fitting: &mut Fitting,
        on_event: impl FnMut(&crate::train::FitEvent, &AnyModel),
        should_stop: impl Fn() -> bool,
    ) -> Result<Option<Vec<crate::train::EpochEvent>>> {
        let model = if fitting.head_only {
            self.model.clone().try_map(FreezeBackbone)?
        } else {
            self.model.clone()
        };
        let (model, stopped) = fitting
            .run
            .advance(model, &self.model_device, on_event, should_stop)
            .await?;
        let model = fitting.run.take_best().unwrap_or(model);
        // Frozen or not, the classifier's weights all train again by default (and BatchNorm
        // takes batch statistics in training again).
        self.model = model.unfreeze();
        if stopped {
            return Ok(None);
        }
        let epochs = fitting.run.epochs().to_vec();
        self.training.push(TrainingRecord {
            options: fitting.options.clone(),
            epochs: epochs.clone(),
            stopped: false,
        });
        Ok(Some(epochs))
    }

    /// Ends a stopped run for good: its completed epochs join the training record (as
    /// stopped). Returns the [`Error::Aborted`] that says where it stopped.
    pub fn abandon(&mut self, fitting: Fitting) -> Error {
        let epochs = fitting.run.epochs().to_vec();
        let (epoch, _) = fitting.position();
        if !epochs.is_empty() {
            self.training.push(TrainingRecord {
                options: fitting.options,
                epochs,
                stopped: true,
            });
        }
        Error::Aborted(format!(
            "training stopped during epoch {epoch}; the model keeps the weights of the last \
             completed step"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn digits(n: usize) -> Dataset {
        let images = (0..n * 784).map(|i| (i * 7 % 256) as u8).collect();
        let labels = (0..n).map(|i| (i % 10) as u8).collect();
        Dataset::new(images, labels, [1, 28, 28]).unwrap()
    }

    #[test]
    fn validation_splits_hold_out_the_last_images() {
        let (train, validation) = Validation::Split(0.1).split(digits(20)).unwrap();
        assert_eq!((train.len(), validation.len()), (18, 2));
        let (train, validation) = Validation::Split(0.0).split(digits(20)).unwrap();
        assert_eq!((train.len(), validation.len()), (20, 20));
        let (train, validation) = Validation::Count(5).split(digits(20)).unwrap();
        assert_eq!((train.len(), validation.len()), (15, 5));
        assert!(Validation::Split(1.0).split(digits(20)).is_err());
        assert!(Validation::Count(20).split(digits(20)).is_err());
        // One image: it trains and validates.
        let (train, validation) = Validation::Split(0.5).split(digits(1)).unwrap();
        assert_eq!((train.len(), validation.len()), (1, 1));
    }

    #[test]
    fn class_counts_are_checked_and_labels_numbered() {
        let device = Device::flex();
        for classes in [0, 1, 10_001, usize::MAX] {
            let err =
                Classifier::with_classes(Architecture::LeNet5, classes, &device, Init::Seed(1))
                    .unwrap_err();
            assert_eq!(err.code(), "BAD_INPUT", "{err}");
        }
        let c = Classifier::with_classes(Architecture::LeNet5, 3, &device, Init::Seed(1)).unwrap();
        assert_eq!(c.labels(), ["0", "1", "2"]);
        assert_eq!(c.input_shape(), [1, 28, 28]);
    }

    #[cfg(feature = "train")]
    #[test]
    fn fit_options_name_the_key_that_is_wrong() {
        for (options, key) in [
            (r#"{"epochs": 0}"#, "epochs"),
            (r#"{"batchSize": 2.5}"#, "batchSize"),
            (r#"{"batchSize": 5000}"#, "batchSize"),
            (r#"{"learningRate": 0}"#, "learningRate"),
            (r#"{"augment": 9}"#, "augment"),
        ] {
            let parsed: FitOptions = serde_json::from_str(options).unwrap();
            let err = parsed.config().unwrap_err().to_string();
            assert!(err.contains(key), "{options}: {err}");
        }
        let err = serde_json::from_str::<FitOptions>(r#"{"epoch": 5}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `epoch`"), "{err}");
        let ok: FitOptions = serde_json::from_str(r#"{"epochs": 2, "batchSize": 16}"#).unwrap();
        let config = ok.config().unwrap();
        assert_eq!((config.epochs, config.batch_size), (2, 16));
    }
}

/// Transfer learning, embeddings and preprocessing, natively (the futures are run to completion
/// here; in a browser they wait for the GPU).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod transfer_tests {
    use super::tests::digits;
    use super::*;
    use futures_lite::future::block_on;

    /// Every weight of `classifier` by name (read on the CPU backend).
    fn tensors(classifier: &Classifier) -> std::collections::BTreeMap<String, Vec<f32>> {
        let bytes = burnpack(&classifier.model()).unwrap();
        burn_pack::Reader::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
            .unwrap()
            .into_tensors()
            .unwrap()
            .into_iter()
            .map(|t| {
                let (name, _, _, _, data) = t.into_parts().unwrap();
                let values = data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                (name, values)
            })
            .collect()
    }

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn transfer_keeps_the_backbone_and_puts_a_fresh_head_of_the_new_size_on_it() {
        let device = Device::flex();
        let pretrained =
            Classifier::with_classes(Architecture::Vin, 10, &device, Init::Seed(7)).unwrap();
        let bytes = block_on(pretrained.export()).unwrap();
        let new = Classifier::new(
            Architecture::Vin,
            labels(&["cat", "dog", "car"]),
            &device,
            Init::Backbone(&bytes),
        )
        .unwrap();
        let (before, after) = (tensors(&pretrained), tensors(&new));
        assert_eq!(after["classifier.weight"].len(), 128 * 3);
        assert_eq!(before.len(), after.len());
        for (name, values) in &before {
            if !name.starts_with("classifier.") {
                assert_eq!(values, &after[name], "{name} changed");
            }
        }
        // Another architecture's file is refused, naming what it lacks.
        let lenet =
            Classifier::with_classes(Architecture::LeNet5, 10, &device, Init::Seed(1)).unwrap();
        let err = Classifier::new(
            Architecture::Vin,
            labels(&["a", "b"]),
            &device,
            Init::Backbone(&block_on(lenet.export()).unwrap()),
        )
        .unwrap_err();
        assert_eq!(err.code(), "BAD_WEIGHTS", "{err}");
        assert!(err.to_string().contains("have no"), "{err}");
    }

    #[test]
    fn embed_gives_the_features_the_head_reads() {
        let device = Device::flex();
        let c = Classifier::with_classes(Architecture::LeNet5, 10, &device, Init::Seed(3)).unwrap();
        let pixels: Vec<f32> = (0..2 * 784).map(|i| (i % 255) as f32 / 255.0).collect();
        let features = block_on(c.embed(&pixels, [2, 1, 28, 28])).unwrap();
        assert_eq!(features.len(), 2 * 84);
        let logits = c
            .model()
            .classify_features(Tensor::<2>::from_data(
                burn::prelude::TensorData::new(features, [2, 84]),
                &device,
            ))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let probs: Vec<f32> = block_on(c.classify(&pixels, [2, 1, 28, 28])).unwrap();
        for image in 0..2 {
            let row = &logits[image * 10..(image + 1) * 10];
            let max = row.iter().copied().fold(f32::MIN, f32::max);
            let sum: f32 = row.iter().map(|l| (l - max).exp()).sum();
            for (k, l) in row.iter().enumerate() {
                let p = (l - max).exp() / sum;
                assert!((p - probs[image * 10 + k]).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn preprocess_is_the_shipped_models_and_can_be_replaced() {
        let device = Device::flex();
        let c =
            Classifier::with_classes(Architecture::EfficientNetLite0, 2, &device, Init::Seed(1))
                .unwrap();
        assert_eq!(
            c.preprocess(),
            Preprocess::CentreCrop {
                fraction: 224.0 / 256.0
            }
        );
        // A 256-pixel image whose centre 224 is one colour and border another: the crop sees
        // only the centre; a plain resize sees both.
        let mut pixels = vec![0.0f32; 3 * 256 * 256];
        for (i, p) in pixels.iter_mut().enumerate() {
            let (y, x) = ((i / 256) % 256, i % 256);
            *p = if (16..240).contains(&y) && (16..240).contains(&x) {
                1.0
            } else {
                0.0
            };
        }
        let cropped = c.images(&pixels, [1, 3, 256, 256]).unwrap();
        let resized = c
            .clone()
            .with_preprocess(Preprocess::Resize)
            .images(&pixels, [1, 3, 256, 256])
            .unwrap();
        let mean = |t: Tensor<4>| t.mean().into_scalar::<f32>();
        assert!((mean(cropped) - 1.0).abs() < 1e-6);
        assert!(mean(resized) < 0.9);
        let bad = c
            .with_preprocess(Preprocess::CentreCrop { fraction: 0.0 })
            .images(&pixels, [1, 3, 256, 256])
            .unwrap_err();
        assert_eq!(bad.code(), "BAD_INPUT");
    }

    #[cfg(feature = "train")]
    #[test]
    fn a_model_file_carries_everything_to_load_it_and_refuses_damage() {
        let device = Device::flex();
        let mut c = Classifier::new(
            Architecture::LeNet5,
            labels(&["a", "b", "c"]),
            &device,
            Init::Seed(5),
        )
        .unwrap()
        .with_preprocess(Preprocess::CentreDigit);
        let options = FitOptions {
            epochs: Some(2.0),
            batch_size: Some(8.0),
            ..FitOptions::default()
        };
        let data = Dataset::new(
            (0..24 * 784).map(|i| (i * 7 % 256) as u8).collect(),
            (0..24).map(|i| (i % 3) as u8).collect(),
            [1, 28, 28],
        )
        .unwrap();
        block_on(c.fit(data, Validation::Split(0.0), &options, |_, _| {}, || false)).unwrap();
        let file = block_on(c.export_model()).unwrap();
        let back = Classifier::from_model_file(&device, &file).unwrap();
        // serde_json reads some f64s back one unit in the last place off (its exact parser is a
        // feature that would rebuild Burn): the training record's timings are compared within
        // 1e-12, everything else exactly.
        fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
            use serde_json::Value;
            match (a, b) {
                (Value::Number(x), Value::Number(y)) => {
                    let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                    (x - y).abs() <= 1e-12 * x.abs().max(1.0)
                }
                (Value::Array(x), Value::Array(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b))
                }
                (Value::Object(x), Value::Object(y)) => {
                    x.len() == y.len()
                        && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
                }
                _ => a == b,
            }
        }
        let json = |c: &Classifier| serde_json::to_value(c.description()).unwrap();
        assert!(
            close(&json(&back), &json(&c)),
            "{:?}\n{:?}",
            back.description(),
            c.description()
        );
        assert_eq!(back.labels(), ["a", "b", "c"]);
        assert_eq!(back.preprocess(), Preprocess::CentreDigit);
        let record = &back.training()[0];
        assert_eq!((record.epochs.len(), record.stopped), (2, false));
        assert_eq!(record.options.batch_size, Some(8.0));
        assert_eq!(tensors(&back), tensors(&c));
        // It still loads as bare weights, with its labels; bare weights are not a model file.
        let bare = Classifier::from_weights(Architecture::LeNet5, &device, &file).unwrap();
        assert_eq!(bare.labels(), ["a", "b", "c"]);
        let weights_only = block_on(c.export()).unwrap();
        let err = Classifier::from_model_file(&device, &weights_only).unwrap_err();
        assert!(err.to_string().contains("bare weights"), "{err}");
        // A changed byte in the weights is caught by the checksum.
        let mut damaged = file.clone();
        let at = damaged.len() - 100;
        damaged[at] ^= 0x40;
        let err = Classifier::from_model_file(&device, &damaged).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        // Stored as f16, it is sealed again and still loads.
        let half = weights::to_half(file).unwrap();
        let halved = Classifier::from_model_file(&device, &half).unwrap();
        assert_eq!(halved.labels(), ["a", "b", "c"]);
    }

    #[cfg(feature = "train")]
    #[test]
    fn schedules_and_early_stopping() {
        let device = Device::flex();
        let images: Vec<u8> = (0..32 * 784).map(|i| (i * 13 % 256) as u8).collect();
        let train = Dataset::new(
            images.clone(),
            (0..32).map(|i| (i % 4) as u8).collect(),
            [1, 28, 28],
        )
        .unwrap();
        // The same images with other labels: fitting the training labels makes this worse.
        let contrary = Dataset::new(
            images,
            (0..32).map(|i| ((i + 1) % 4) as u8).collect(),
            [1, 28, 28],
        )
        .unwrap();
        let run = |options: FitOptions| {
            let mut c =
                Classifier::with_classes(Architecture::LeNet5, 4, &device, Init::Seed(9)).unwrap();
            let epochs = block_on(c.fit(
                train.clone(),
                Validation::Data(contrary.clone()),
                &options,
                |_, _| {},
                || false,
            ))
            .unwrap();
            (c, epochs)
        };
        let base = FitOptions {
            epochs: Some(6.0),
            batch_size: Some(8.0),
            learning_rate: Some(0.01),
            ..FitOptions::default()
        };
        // Cosine: lr₀·½(1 + cos(π(e − 1)/E)) for epoch e of E; none: lr₀ throughout.
        let (_, cosine) = run(FitOptions {
            schedule: Some(crate::train::Schedule::Cosine),
            ..base.clone()
        });
        for e in &cosine {
            let t = (e.epoch - 1) as f64 / 6.0;
            assert!(
                (e.lr - 0.01 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())).abs() < 1e-12,
                "{e:?}"
            );
        }
        let (_, flat) = run(FitOptions {
            schedule: Some(crate::train::Schedule::None),
            ..base.clone()
        });
        assert!(flat.iter().all(|e| e.lr == 0.01 && e.next_lr == 0.01));
        // Early stopping: it ends once the validation loss has not improved for 2 epochs, and
        // restoreBest leaves the best epoch's weights.
        let (c, stopped) = run(FitOptions {
            epochs: Some(30.0),
            early_stopping: Some(EarlyStopping {
                patience: 2.0,
                restore_best: Some(true),
            }),
            ..base.clone()
        });
        assert!(stopped.len() < 30, "{} epochs", stopped.len());
        let best = stopped
            .iter()
            .map(|e| e.validation.loss)
            .fold(f32::INFINITY, f32::min);
        let last = stopped.last().unwrap();
        assert!(last.validation.loss > best, "stopped on a worse epoch");
        let now = block_on(c.evaluate(&contrary)).unwrap().loss;
        assert!((now - best).abs() < 1e-4, "restored: {now} vs best {best}");
        let err = FitOptions {
            early_stopping: Some(EarlyStopping {
                patience: 0.0,
                restore_best: None,
            }),
            ..base
        }
        .config()
        .unwrap_err();
        assert!(err.to_string().contains("earlyStopping.patience"), "{err}");
    }

    #[cfg(feature = "train")]
    #[test]
    fn training_the_head_changes_only_the_head() {
        let device = Device::flex();
        let mut c =
            Classifier::with_classes(Architecture::Vin, 10, &device, Init::Seed(5)).unwrap();
        let before = tensors(&c);
        let options = FitOptions {
            epochs: Some(1.0),
            batch_size: Some(8.0),
            train: Some(Train::Head),
            ..FitOptions::default()
        };
        block_on(c.fit(
            digits(16),
            Validation::Split(0.0),
            &options,
            |_, _| {},
            || false,
        ))
        .unwrap();
        let after = tensors(&c);
        for (name, values) in &before {
            let same = values == &after[name];
            // BatchNorm's running statistics stay: the frozen backbone normalises with them.
            assert_eq!(same, !name.starts_with("classifier."), "{name}");
        }
        // Training everything afterwards changes the backbone too (nothing stays frozen).
        let options = FitOptions {
            train: Some(Train::All),
            ..options
        };
        block_on(c.fit(
            digits(16),
            Validation::Split(0.0),
            &options,
            |_, _| {},
            || false,
        ))
        .unwrap();
        let last = tensors(&c);
        assert_ne!(
            last["feature_extractor.weight"],
            after["feature_extractor.weight"]
        );
        assert_ne!(
            last["complexity_layers.0.norm.running_mean"],
            after["complexity_layers.0.norm.running_mean"]
        );
    }

    #[cfg(feature = "train")]
    #[test]
    fn a_fit_stopped_and_advanced_ends_as_one_never_stopped_also_head_only() {
        use std::cell::Cell;
        let device = Device::flex();
        // A new classifier from the same bytes for each run: Burn's clones of a module share its
        // BatchNorm running statistics (a clone of a classifier that trained would not start
        // where it did), and seeding is process-wide (tests running meanwhile draw from it).
        let weights = burnpack(
            &Classifier::with_classes(Architecture::Vin, 10, &device, Init::Seed(5))
                .unwrap()
                .model(),
        )
        .unwrap();
        let fresh = || {
            Classifier::with_classes(Architecture::Vin, 10, &device, Init::Weights(&weights))
                .unwrap()
        };
        for train in [Train::Head, Train::All] {
            let options = FitOptions {
                epochs: Some(2.0),
                batch_size: Some(4.0),
                train: Some(train),
                ..FitOptions::default()
            };
            let mut straight = fresh();
            let epochs = block_on(straight.fit(
                digits(16),
                Validation::Split(0.25),
                &options,
                |_, _| {},
                || false,
            ))
            .unwrap();
            let mut paused = fresh();
            let mut fitting = paused
                .start_fit(digits(16), Validation::Split(0.25), &options)
                .unwrap();
            let steps = Cell::new(0);
            let count = |event: &crate::train::FitEvent, _: &AnyModel| {
                if let crate::train::FitEvent::Step(_) = event {
                    steps.set(steps.get() + 1);
                }
            };
            // 3 steps per epoch: stopped within epoch 1 and at the start of epoch 2.
            for stop in [2, 3] {
                let done = block_on(paused.advance(&mut fitting, count, || steps.get() == stop));
                assert!(done.unwrap().is_none());
                assert_eq!(fitting.position(), (stop / 3 + 1, stop % 3));
                // While stopped, the classifier answers with the weights of the last step.
                assert!(block_on(paused.evaluate(&digits(4))).is_ok());
            }
            let resumed = block_on(paused.advance(&mut fitting, count, || false))
                .unwrap()
                .unwrap();
            let (a, b) = (tensors(&paused), tensors(&straight));
            let differ: Vec<_> = a.keys().filter(|k| a[*k] != b[*k]).collect();
            assert!(differ.is_empty(), "{train:?}: {differ:?}");
            assert_eq!(resumed.len(), epochs.len());
            assert_eq!(paused.training.len(), 1, "one record for the whole run");
            for (a, b) in resumed.iter().zip(&epochs) {
                assert_eq!((a.train_loss, a.validation), (b.train_loss, b.validation));
            }
        }
        // A streamed dataset needs a validation set.
        let stream = crate::train::TrainData::Stream(Box::new(NoBatches));
        let err = fresh()
            .start_fit(stream, Validation::Split(0.1), &FitOptions::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("validationData"), "{err}");
    }

    #[cfg(feature = "train")]
    struct NoBatches;

    #[cfg(feature = "train")]
    impl crate::train::BatchStream for NoBatches {
        fn restart(&mut self) -> crate::train::StreamFuture<'_, ()> {
            Box::pin(async { Ok(()) })
        }
        fn next(&mut self) -> crate::train::StreamFuture<'_, Option<Dataset>> {
            Box::pin(async { Ok(None) })
        }
    }
}
