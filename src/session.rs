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

/// The fewest and most classes a classifier may have (ImageNet's 1,000 fit).
pub use crate::limits::CLASSES;
pub use crate::train::{EarlyStopping, FitOptions, Train, Validation};

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
    /// An imported network's graph and layer shapes (its architecture is `"graph"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "unknown", optional))]
    pub graph: Option<crate::model::graph::GraphFile>,
}

/// The architecture name a model file gives an imported network.
pub const GRAPH_ARCHITECTURE: &str = "graph";

/// How [`Classifier::from_onnx`] reads an ONNX file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnnxOptions {
    /// Class labels, by output index (else the file's `labels` metadata, else numbers); with
    /// `transfer`, the new classes.
    pub labels: Option<Vec<String>>,
    /// How pixels in [0, 1] become what the network was trained on.
    pub input: Option<crate::model::graph::Normalise>,
    /// Transfer learning: a fresh head of one output per label, cut at `cut`.
    #[serde(default)]
    pub transfer: bool,
    /// The dense or convolution node the new head replaces (by default the last dense node, or
    /// the last convolution).
    pub cut: Option<String>,
}

/// A network of the zoo on a device, ready to classify, explain itself and train.
///
/// Cloning is cheap (the tensors are shared); a clone trained with [`Classifier::fit`] goes
/// its own way.
#[derive(Debug, Clone)]
pub struct Classifier {
    /// The zoo's architecture (`None`: an imported graph).
    architecture: Option<Architecture>,
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
        Ok(Self::assemble(
            Some(architecture),
            model,
            labels,
            architecture.preprocess(),
            device,
            model_device,
        ))
    }

    fn assemble(
        architecture: Option<Architecture>,
        model: AnyModel,
        labels: Vec<String>,
        preprocess: Preprocess,
        device: &Device,
        model_device: Device,
    ) -> Self {
        #[cfg(not(feature = "train"))]
        let _ = model_device;
        Self {
            architecture,
            parameters: trainable_parameters(&model),
            preprocess,
            training: Vec::new(),
            labels,
            device: device.clone(),
            #[cfg(feature = "train")]
            model_device,
            model,
        }
    }

    /// The network an ONNX file holds, on `device` (see [`crate::onnx::import`]).
    ///
    /// # Errors
    /// As for [`crate::onnx::import`]; [`Error::BadInput`] for labels that do not match the
    /// output's classes, options that do not fit (a bad cut, mean or std) or transfer without
    /// labels.
    pub fn from_onnx(device: &Device, bytes: &[u8], options: OnnxOptions) -> Result<Self> {
        #[cfg(feature = "train")]
        let model_device = device.clone().autodiff();
        #[cfg(not(feature = "train"))]
        let model_device = device.clone();
        model_device.seed(FRESH_WEIGHTS_SEED);
        let imported = crate::onnx::import(bytes, &model_device, true)?;
        let mut graph = imported.graph;
        if let Some(n) = &options.input {
            graph = graph.with_normalise(n, &model_device)?;
        }
        let labels = if options.transfer {
            let labels = options
                .labels
                .ok_or_else(|| Error::BadInput("transfer needs the new labels (classes)".into()))?;
            check_classes(labels.len())?;
            graph = graph.with_head(labels.len(), options.cut.as_deref(), &model_device)?;
            labels
        } else {
            if options.cut.is_some() {
                return Err(Error::BadInput(
                    "cut is for transfer learning (with classes)".into(),
                ));
            }
            let classes = graph.plan().classes();
            let labels = match options.labels.or(imported.info.labels) {
                Some(l) => l,
                None => {
                    check_classes(classes)?;
                    numbered(classes)
                }
            };
            if labels.len() != classes {
                return Err(Error::BadInput(format!(
                    "labels: {} labels for a network of {classes} outputs",
                    labels.len()
                )));
            }
            labels
        };
        check_classes(labels.len())?;
        graph.check_classifier()?;
        Ok(Self::assemble(
            None,
            AnyModel::Graph(graph),
            labels,
            Preprocess::Resize,
            device,
            model_device,
        ))
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

    /// The zoo's architecture (`None`: an imported graph).
    pub fn architecture(&self) -> Option<Architecture> {
        self.architecture
    }

    /// The architecture's name (`"graph"` for an imported network).
    pub fn architecture_name(&self) -> &'static str {
        self.architecture
            .map_or(GRAPH_ARCHITECTURE, Architecture::name)
    }

    /// Every `fit` these weights went through (as far as their files say), oldest first.
    pub fn training(&self) -> &[TrainingRecord] {
        &self.training
    }

    /// What a model file of this classifier says besides the weights.
    pub fn description(&self) -> ModelDescription {
        ModelDescription {
            architecture: self.architecture_name().to_string(),
            labels: self.labels.clone(),
            input_shape: self.input_shape(),
            preprocess: self.preprocess,
            training: self.training.clone(),
            graph: match &self.model {
                AnyModel::Graph(g) => Some(g.file()),
                _ => None,
            },
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
        let mut classifier = match (&description.graph, description.architecture.as_str()) {
            (Some(file), GRAPH_ARCHITECTURE) => {
                check_classes(description.labels.len())?;
                #[cfg(feature = "train")]
                let model_device = device.clone().autodiff();
                #[cfg(not(feature = "train"))]
                let model_device = device.clone();
                let graph = crate::model::graph::Graph::skeleton(file, &model_device)?;
                graph
                    .check_classifier()
                    .map_err(|e| Error::BadWeights(format!("the model file's graph: {e}")))?;
                if graph.plan().classes() != description.labels.len() {
                    return Err(Error::BadWeights(format!(
                        "the model file has {} labels for a graph of {} outputs",
                        description.labels.len(),
                        graph.plan().classes()
                    )));
                }
                let model = load_burnpack(AnyModel::Graph(graph), bytes)?;
                Self::assemble(
                    None,
                    model,
                    description.labels,
                    Preprocess::Resize,
                    device,
                    model_device,
                )
            }
            (Some(_), other) | (None, other @ GRAPH_ARCHITECTURE) => {
                return Err(Error::BadWeights(format!(
                    "the model file's architecture {other:?} does not match its graph"
                )));
            }
            (None, name) => {
                let architecture = Architecture::parse(name)
                    .map_err(|e| Error::BadWeights(format!("the model file's {e}")))?;
                Self::new(
                    architecture,
                    description.labels,
                    device,
                    Init::Weights(bytes),
                )?
            }
        };
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
    pub async fn filters(&self) -> Result<infer::Filters> {
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
    pub async fn assess(&self, data: &Dataset) -> Result<crate::train::EvaluationReport> {
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
        let head = model.head().1.to_string();
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
        let head = model.head().1.to_string();
        weights::load_backbone(model, self.0, &head)
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
        e.label = self.labels.get(e.class_index).cloned().unwrap_or_default();
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
