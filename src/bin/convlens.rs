//! `convlens` — classify images, train, evaluate, benchmark, import and export the zoo's networks
//! natively, through the same [`Classifier`] and training loop the browser uses: on the CPU
//! backend, or with `--backend wgpu|cuda` on a GPU (a build with the `wgpu` or `cuda` feature).
//! The flags are parsed by clap (an unknown or misspelt flag is an error that names it);
//! training shows indicatif progress bars.
//!
//! ```text
//! convlens classify --model lenet5-mnist digit.png
//! convlens train --model lenet5 --data mnist --epochs 12 --shift 2 --out weights/lenet5-mnist.bpk
//! convlens eval  --model lenet5 --data mnist --weights weights/lenet5-mnist.bpk
//! convlens export --model vin --weights weights/vin-fashion.bpk --out vin.safetensors
//! convlens import --model vin --from vin.safetensors --out vin.bpk
//! convlens bench --backend wgpu
//! convlens models
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use std::time::Instant;

use burn::config::Config;
use burn::prelude::Device;
use clap::{Args, Parser, Subcommand, ValueEnum};
use convlens::data::{Dataset, parse_idx};
use convlens::device::{self, BackendKind, SelectedBackend};
use convlens::model::graph::Normalise;
use convlens::model::{Architecture, DatasetInfo, Preprocess, Pretrained};
use convlens::session::{Classifier, FitOptions, Init, OnnxOptions, Validation, burnpack};
use convlens::train::{EpochEvent, FitEvent};
use convlens::{Error, Result, weights};
use futures_lite::future::block_on;
use indicatif::{ProgressBar, ProgressStyle};

/// Convolutional networks in Rust (Burn): the same models, data and training loop as the
/// browser, natively on the CPU or a GPU.
#[derive(Parser)]
#[command(name = "convlens", version, about)]
struct Cli {
    /// Where the networks run: Burn's CPU backend, its wgpu backend (Vulkan, Metal or DX12: the
    /// kernels the browser's WebGPU runs) or CUDA. wgpu and cuda need a build with that feature
    /// (`cargo build --release --features cli,wgpu`).
    #[arg(long, value_enum, default_value_t = Backend::Cpu, global = true)]
    backend: Backend,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    Cpu,
    Wgpu,
    Cuda,
}

impl Backend {
    fn kind(self) -> BackendKind {
        match self {
            Backend::Cpu => BackendKind::Cpu,
            Backend::Wgpu => BackendKind::Wgpu,
            Backend::Cuda => BackendKind::Cuda,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// The probabilities of the most likely classes of each image (PNG or JPEG), prepared as
    /// the browser prepares it (fitted to the model's input).
    Classify(ClassifyArgs),
    /// Why the model gives an image its class: a heat map (Grad-CAM, saliency or integrated
    /// gradients) over the image as the model prepared it, written as a PNG.
    Explain(ExplainArgs),
    /// Train a network on MNIST or Fashion-MNIST; the weights are saved after every epoch.
    Train(TrainArgs),
    /// Accuracy and loss of weights on a dataset's official held-out test images.
    Eval(EvalArgs),
    /// Write weights as a PyTorch state_dict (safetensors): VIN under the reference class's
    /// names, the others under their Burn module paths.
    Export(ExportArgs),
    /// Read a PyTorch state_dict (safetensors, the names `export` writes, or a .pth checkpoint)
    /// into a weights file; or an ONNX network (`import model.onnx`) into a model file, listing
    /// its nodes.
    Import(ImportArgs),
    /// Images per second on --backend: inference of 1 and of 64 images (probabilities read
    /// back) and training (the training loop, batch 64) of each shipped model on its dataset.
    Bench(BenchArgs),
    /// The architectures, their parameter counts and the shipped weights.
    Models,
}

#[derive(Args)]
struct DataArgs {
    /// The dataset: mnist or fashion.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(DatasetInfo::ALL.map(|d| d.name)))]
    data: String,
    /// Where scripts/fetch-data.sh put the IDX files [default: ~/.cache/convlens/data, or
    /// $CONVLENS_CACHE/data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct ClassifyArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// How many classes to print per image.
    #[arg(long, default_value_t = 3)]
    top: usize,
    /// The images.
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

/// The model `classify` and `explain` use.
#[derive(Args)]
struct ModelArgs {
    /// A shipped model (e.g. lenet5-mnist, its weights from --weights-dir), an architecture
    /// (with --weights), or a file: an ONNX network or a model file.
    #[arg(long)]
    model: String,
    #[command(flatten)]
    onnx: OnnxArgs,
    /// Weights for an architecture, or instead of a shipped model's file.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Where the shipped weights are.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/weights"))]
    weights_dir: PathBuf,
}

/// How an ONNX network is read.
#[derive(Args, Default)]
struct OnnxArgs {
    /// The class names, by output index: a JSON list (an ONNX network's default: the file's
    /// `labels` metadata, or numbers; for a PyTorch state_dict, written into the weights file and
    /// their number sets --classes).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// An ONNX network's input normalisation: the mean per channel (comma-separated) taken
    /// from `pixel · scale`.
    #[arg(long, value_delimiter = ',')]
    mean: Vec<f32>,
    /// The standard deviation per channel (comma-separated) the difference is divided by.
    #[arg(long, value_delimiter = ',')]
    std: Vec<f32>,
    /// What a pixel of 1 becomes first (1, or 255 for networks trained on bytes).
    #[arg(long, default_value_t = 1.0)]
    scale: f32,
    /// The network reads blue, green, red.
    #[arg(long)]
    bgr: bool,
    /// Centre crop: the square's side over the image's shorter side (e.g. 0.875 for 224 of
    /// 256); default: the whole image resized.
    #[arg(long)]
    crop: Option<f32>,
}

impl OnnxArgs {
    fn options(&self) -> Result<OnnxOptions> {
        let labels = match &self.labels {
            Some(path) => Some(serde_json::from_slice(&read(path)?).map_err(|e| {
                Error::BadInput(format!("{}: not a JSON list of names: {e}", path.display()))
            })?),
            None => None,
        };
        let normalise =
            !self.mean.is_empty() || !self.std.is_empty() || self.scale != 1.0 || self.bgr;
        Ok(OnnxOptions {
            labels,
            input: normalise.then(|| Normalise {
                mean: self.mean.clone(),
                std: self.std.clone(),
                scale: self.scale,
                bgr: self.bgr,
            }),
            ..OnnxOptions::default()
        })
    }

    /// An ONNX network or a model file, with these options.
    fn open(&self, bytes: &[u8], device: &Device) -> Result<Classifier> {
        let classifier = if convlens::onnx::looks_like_onnx(bytes) {
            Classifier::from_onnx(device, bytes, self.options()?)?
        } else {
            Classifier::from_model_file(device, bytes)?
        };
        Ok(match self.crop {
            Some(fraction) => classifier.with_preprocess(Preprocess::CentreCrop { fraction }),
            None => classifier,
        })
    }
}

#[derive(Args)]
struct ExplainArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// gradcam, saliency or integrated-gradients.
    #[arg(long, default_value = "gradcam")]
    method: String,
    /// The class to explain (default: the most likely).
    #[arg(long)]
    class: Option<u32>,
    /// Grad-CAM's layer (default: the last convolution's output).
    #[arg(long)]
    layer: Option<String>,
    /// Integrated gradients' steps (default 32).
    #[arg(long)]
    steps: Option<u32>,
    /// The heat map over the prepared image, as a PNG (at least 224 pixels a side).
    #[arg(long)]
    out: PathBuf,
    /// The image (PNG or JPEG).
    image: PathBuf,
}

#[derive(Args)]
struct TrainArgs {
    /// The architecture: lenet5, vin, resnet8, alexnet.
    #[arg(long)]
    model: String,
    #[command(flatten)]
    data: DataArgs,
    /// Where the weights go (and the training config beside them, as .json).
    #[arg(long)]
    out: PathBuf,
    /// Passes over the training images.
    #[arg(long, default_value_t = 10)]
    epochs: u32,
    /// Images per step.
    #[arg(long, default_value_t = 64)]
    batch_size: u32,
    /// Adam's first learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// ReduceLROnPlateau's patience, in epochs.
    #[arg(long, default_value_t = 3)]
    patience: u32,
    /// Augmentation: the largest shift in pixels, with rotation and scaling (0: none).
    #[arg(long, default_value_t = 0)]
    shift: u32,
    /// Augmentation: elastic distortion of up to this many pixels (with --shift).
    #[arg(long, default_value_t = 0.0)]
    elastic: f64,
    /// Seed of the initial weights, the shuffle and the augmentation.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Train on the first N training images only.
    #[arg(long)]
    limit: Option<usize>,
    /// How many of the training images validate (0: train on all of them and let the
    /// scheduler watch the training loss).
    #[arg(long, default_value_t = 5000)]
    validation: usize,
    /// Start from these weights instead of a random initialisation (to resume a run: the
    /// model is saved to --out after every epoch; Adam's moments start afresh).
    #[arg(long)]
    init: Option<PathBuf>,
}

#[derive(Args)]
struct EvalArgs {
    /// The architecture.
    #[arg(long)]
    model: String,
    #[command(flatten)]
    data: DataArgs,
    /// The weights file.
    #[arg(long)]
    weights: PathBuf,
}

#[derive(Args)]
struct ExportArgs {
    /// The architecture.
    #[arg(long)]
    model: String,
    /// The weights file.
    #[arg(long)]
    weights: PathBuf,
    /// The safetensors file to write.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct ImportArgs {
    /// An ONNX network to read into a model file (--out; default: beside it, .bpk).
    onnx: Option<PathBuf>,
    #[command(flatten)]
    read: OnnxArgs,
    /// The architecture (a PyTorch state_dict's).
    #[arg(long, required_unless_present = "onnx")]
    model: Option<String>,
    /// The PyTorch state_dict: safetensors, or a checkpoint file `torch.save` wrote (.pt/.pth).
    #[arg(long, required_unless_present = "onnx")]
    from: Option<PathBuf>,
    /// How many classes its classifier has (1000 for ImageNet weights).
    #[arg(long, default_value_t = 10)]
    classes: usize,
    /// Store the weights as f16 (half the size; read back as f32).
    #[arg(long)]
    half: bool,
    /// The weights file (or model file) to write.
    #[arg(long, required_unless_present = "onnx")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct BenchArgs {
    /// Where scripts/fetch-data.sh put the IDX files (as for train).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where the shipped weights are.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/weights"))]
    weights_dir: PathBuf,
    /// Training images timed per model (one epoch of them, after a warm-up).
    #[arg(long, default_value_t = 2048)]
    train_images: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = device::native(cli.backend.kind()).and_then(|backend| {
        let device = &backend.device;
        match cli.command {
            Command::Classify(args) => classify(&args, device),
            Command::Explain(args) => explain(&args, device),
            Command::Train(args) => train(&args, &backend),
            Command::Eval(args) => eval(&args, device),
            Command::Export(args) => export(&args, device),
            Command::Import(args) => import(&args, device),
            Command::Bench(args) => bench(&args, &backend),
            Command::Models => {
                models();
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::BadInput(format!("{}: {e}", path.display())))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)
        .map_err(|e| Error::BadInput(format!("cannot write {}: {e}", path.display())))
}

/// A classifier of `architecture` with the weights in `path` and the labels they carry (10
/// numbered classes for a file without labels).
fn load(architecture: &str, path: &Path, device: &Device) -> Result<Classifier> {
    Classifier::from_weights(Architecture::parse(architecture)?, device, &read(path)?)
}

/// `backend` in words, e.g. `wgpu (Vulkan, llvmpipe (LLVM 15.0.6, 256 bits), a CPU adapter)`.
fn describe(backend: &SelectedBackend) -> String {
    match &backend.adapter {
        Some(a) => format!(
            "{} ({}, {}{})",
            backend.kind.name(),
            a.architecture,
            a.device,
            if a.is_fallback_adapter {
                ", a CPU adapter"
            } else {
                ""
            }
        ),
        None => backend.kind.name().to_string(),
    }
}

fn classify(args: &ClassifyArgs, device: &Device) -> Result<()> {
    let classifier = open_classifier(&args.model, device)?;
    for path in &args.images {
        let (pixels, shape) = decode(path)?;
        let probabilities = block_on(classifier.classify(&pixels, shape))?;
        println!("{}", path.display());
        for p in &classifier.top(&probabilities, args.top)[0] {
            println!("  {:<12} {:>6.2}%", p.label, p.score * 100.0);
        }
    }
    Ok(())
}

/// The model `args` name: a shipped one (its weights from `--weights` or `--weights-dir`) or
/// an architecture with `--weights`.
fn open_classifier(args: &ModelArgs, device: &Device) -> Result<Classifier> {
    let path = Path::new(&args.model);
    if Architecture::parse(&args.model).is_err()
        && Pretrained::find(&args.model).is_err()
        && path.is_file()
    {
        return args.onnx.open(&read(path)?, device);
    }
    match Pretrained::find(&args.model) {
        Ok(shipped) => {
            let path = args
                .weights
                .clone()
                .unwrap_or_else(|| args.weights_dir.join(shipped.file));
            Classifier::pretrained(&shipped, device, &read(&path)?)
        }
        Err(_) => {
            let Some(path) = &args.weights else {
                return Err(Error::BadInput(format!(
                    "{:?} is not a shipped model ({}); an architecture needs --weights",
                    args.model,
                    Pretrained::ALL.map(|p| p.name).join(", ")
                )));
            };
            load(&args.model, path, device)
        }
    }
}

fn explain(args: &ExplainArgs, device: &Device) -> Result<()> {
    use convlens::explain::{ExplainOptions, Method};
    let classifier = open_classifier(&args.model, device)?;
    let method: Method = serde_json::from_value(serde_json::Value::String(args.method.clone()))
        .map_err(|_| {
            Error::BadInput(format!(
                "--method must be gradcam, saliency or integrated-gradients, got {:?}",
                args.method
            ))
        })?;
    let options = ExplainOptions {
        method: Some(method),
        class_index: args.class.map(f64::from),
        layer: args.layer.clone(),
        steps: args.steps.map(f64::from),
    };
    let (pixels, shape) = decode(&args.image)?;
    let e = block_on(classifier.explain(&pixels, shape, &options))?;
    let input = classifier.input_shape();
    let prepared = classifier.preprocess().apply(&pixels, shape, input)?;
    let png = heat_png(&prepared, input, &e.heat)?;
    std::fs::write(&args.out, png)
        .map_err(|e| Error::BadInput(format!("cannot write {}: {e}", args.out.display())))?;
    println!(
        "{}: {} ({:.2}%), {}{}",
        args.image.display(),
        classifier.labels()[e.class_index],
        e.score * 100.0,
        match (&e.layer, e.method) {
            (Some(layer), _) => format!(
                "Grad-CAM at {layer} ({}×{})",
                e.raw_shape[0], e.raw_shape[1]
            ),
            (None, Method::Saliency) => "saliency (gradient magnitude)".into(),
            _ => "integrated gradients from black".into(),
        },
        e.completeness.map_or(String::new(), |c| format!(
            "; attributions add up to {:.4}, the score changed by {:.4}",
            c.attributions, c.score_change
        ))
    );
    println!("wrote {}", args.out.display());
    Ok(())
}

/// The prepared image (`[c, h, w]` in [0, 1]) in grey with `heat` ([0, 1], `h`×`w`) over it in
/// colour (dark red → yellow → white as it grows), scaled up by whole pixels to at least 224
/// a side, as PNG bytes.
fn heat_png(image: &[f32], [c, h, w]: [usize; 3], heat: &[f32]) -> Result<Vec<u8>> {
    let zoom = 224usize.div_ceil(h.min(w)).max(1);
    let (ow, oh) = (w * zoom, h * zoom);
    let mut out = image::RgbImage::new(ow as u32, oh as u32);
    for y in 0..oh {
        for x in 0..ow {
            let i = (y / zoom) * w + x / zoom;
            let grey = (0..c).map(|k| image[k * h * w + i]).sum::<f32>() / c as f32;
            let rgb = convlens::explain::heat_colour(heat[i]);
            let alpha = 0.75 * heat[i];
            let px = rgb.map(|v| ((1.0 - alpha) * grey * 0.8 + alpha * v) * 255.0);
            out.put_pixel(
                x as u32,
                y as u32,
                image::Rgb(px.map(|v| v.round().clamp(0.0, 255.0) as u8)),
            );
        }
    }
    let mut bytes = Vec::new();
    out.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .map_err(|e| Error::Backend(format!("could not encode the PNG: {e}")))?;
    Ok(bytes)
}

/// An image file as pixels in [0, 1], `[1, channels, height, width]` channel-major (greyscale
/// stays one channel, anything else becomes RGB).
fn decode(path: &Path) -> Result<(Vec<f32>, [usize; 4])> {
    let image = image::open(path).map_err(|e| {
        Error::BadInput(format!("{}: not a PNG or JPEG image: {e}", path.display()))
    })?;
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (channels, bytes) = if image.color().has_color() {
        (3, image.into_rgb8().into_raw())
    } else {
        (1, image.into_luma8().into_raw())
    };
    let mut pixels = vec![0.0; channels * h * w];
    for (i, &v) in bytes.iter().enumerate() {
        let (pixel, channel) = (i / channels, i % channels);
        pixels[channel * h * w + pixel] = f32::from(v) / 255.0;
    }
    Ok((pixels, [1, channels, h, w]))
}

fn models() {
    println!(
        "{:<10} {:<26} {:<12} {:>10}  classes",
        "model", "", "input", "parameters"
    );
    for &arch in Architecture::ALL {
        let [c, h, w] = arch.input_shape();
        println!(
            "{:<10} {:<26} {:<12} {:>10}  10",
            arch.name(),
            arch.title(),
            format!("{c}x{h}x{w}"),
            arch.parameters()
        );
    }
    println!("\nshipped weights (weights/):");
    for p in Pretrained::ALL {
        let labels = if p.dataset.labels.is_empty() {
            "its labels are in the file".to_string()
        } else {
            p.dataset.labels.join(", ")
        };
        println!(
            "  {:<28} {:<18} on {:<8} {}: {labels}",
            p.name,
            p.architecture.name(),
            p.dataset.name,
            p.file,
        );
    }
}

fn export(args: &ExportArgs, device: &Device) -> Result<()> {
    let classifier = load(&args.model, &args.weights, device)?;
    let exported = block_on(classifier.export_pytorch())?;
    write(&args.out, &exported)?;
    println!(
        "{}: {} tensors, {} bytes",
        args.out.display(),
        weights::parse_safetensors(&exported)?.len(),
        exported.len()
    );
    Ok(())
}

/// `import model.onnx`: the network as a model file, and its nodes.
fn import_onnx(path: &Path, args: &ImportArgs, device: &Device) -> Result<()> {
    let classifier = args.read.open(&read(path)?, device)?;
    println!(
        "{:<4} {:<32} {:<20} {:<18}",
        "#", "node", "operator", "output"
    );
    let model = classifier.model();
    if let convlens::model::AnyModel::Graph(graph) = &model {
        for (i, (node, meta)) in graph.plan().nodes().enumerate() {
            if matches!(
                node.op,
                convlens::model::graph::Op::Const { .. } | convlens::model::graph::Op::Ints { .. }
            ) {
                continue;
            }
            let mut shape = meta.shape().to_vec();
            if let Some(b) = shape.first_mut() {
                *b = 1;
            }
            println!("{i:<4} {:<32} {:<20} {shape:?}", node.name, node.op.name());
        }
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| path.with_extension("bpk"));
    let bytes = block_on(classifier.export_model())?;
    write(&out, &bytes)?;
    println!(
        "{}: input {:?}, {} classes, {} parameters, {} bytes",
        out.display(),
        classifier.input_shape(),
        classifier.classes(),
        classifier.parameters(),
        bytes.len()
    );
    Ok(())
}

fn import(args: &ImportArgs, device: &Device) -> Result<()> {
    if let Some(path) = &args.onnx {
        return import_onnx(path, args, device);
    }
    let (Some(model), Some(from), Some(out)) = (&args.model, &args.from, &args.out) else {
        return Err(Error::BadInput(
            "import needs --model, --from and --out (or an ONNX file)".into(),
        ));
    };
    let architecture = Architecture::parse(model)?;
    let mut classifier = match &args.read.labels {
        Some(path) => {
            let labels: Vec<String> = serde_json::from_slice(&read(path)?).map_err(|e| {
                Error::BadInput(format!("{}: not a JSON list of names: {e}", path.display()))
            })?;
            Classifier::new(architecture, labels, device, Init::Seed(0))?
        }
        None => Classifier::with_classes(architecture, args.classes, device, Init::Seed(0))?,
    };
    let checkpoint = matches!(
        from.extension().and_then(|e| e.to_str()),
        Some("pt" | "pth")
    );
    if checkpoint {
        classifier.import_pytorch_checkpoint(from)?;
    } else {
        classifier.import_pytorch(&read(from)?)?;
    }
    let bytes = block_on(classifier.export())?;
    let bytes = if args.half {
        weights::to_half(bytes)?
    } else {
        bytes
    };
    write(out, &bytes)?;
    println!(
        "{}: {} parameters of {}, {} bytes",
        out.display(),
        classifier.parameters(),
        architecture.name(),
        bytes.len()
    );
    Ok(())
}

/// The official training images and held-out test images of `--data` (MNIST and Fashion-MNIST
/// alike: 60,000 and 10,000).
fn read_data(args: &DataArgs) -> Result<(Dataset, Dataset)> {
    read_dataset(&args.data, args.data_dir.as_deref())
}

fn read_dataset(name: &str, dir: Option<&Path>) -> Result<(Dataset, Dataset)> {
    let dir = dir.map(Path::to_path_buf).unwrap_or_else(|| {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        std::env::var_os("CONVLENS_CACHE")
            .map(PathBuf::from)
            .unwrap_or(home.join(".cache/convlens"))
            .join("data")
    });
    let split = |split: &str| -> Result<Dataset> {
        let read = |kind: &str| {
            let path = dir.join(format!("{name}-{split}-{kind}.idx"));
            let bytes = std::fs::read(&path).map_err(|e| {
                Error::BadInput(format!(
                    "cannot read {}: {e} (run scripts/fetch-data.sh)",
                    path.display()
                ))
            })?;
            parse_idx(&bytes)
        };
        Dataset::from_idx(read("images")?, read("labels")?)
    };
    Ok((split("train")?, split("test")?))
}

fn train(args: &TrainArgs, backend: &SelectedBackend) -> Result<()> {
    let architecture = Architecture::parse(&args.model)?;
    let options = FitOptions {
        epochs: Some(f64::from(args.epochs)),
        batch_size: Some(f64::from(args.batch_size)),
        learning_rate: Some(args.lr),
        patience: Some(f64::from(args.patience)),
        augment: Some(f64::from(args.shift)),
        elastic: Some(args.elastic),
        seed: Some(args.seed as f64),
        ..FitOptions::default()
    };
    let config = options.config()?;
    let (all, test) = read_data(&args.data)?;
    let (train, validation) = Validation::Count(args.validation).split(all)?;
    let train = train.take(args.limit.unwrap_or(train.len()));
    let init = args.init.as_deref().map(read).transpose()?;
    let mut classifier = Classifier::with_classes(
        architecture,
        10,
        &backend.device,
        init.as_deref().map_or(Init::Seed(args.seed), Init::Weights),
    )?;
    eprintln!(
        "training {} on {} with {}: {} images, {} for validation, {} held out",
        architecture.name(),
        args.data.data,
        describe(backend),
        train.len(),
        validation.len(),
        test.len()
    );
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::BadInput(format!("{}: {e}", dir.display())))?;
    }
    config
        .save(args.out.with_extension("json"))
        .map_err(|e| Error::BadInput(format!("cannot write the config: {e}")))?;
    let started = std::time::Instant::now();
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "  epoch {prefix:>2} [{bar:30}] {pos:>4}/{len} {msg} ({elapsed}, {eta} left)",
        )
        .map_err(|e| Error::Backend(format!("progress bar: {e}")))?
        .progress_chars("#>."),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    let mut checkpoint_error = None;
    let epochs = block_on(classifier.fit(
        train,
        Validation::Data(validation),
        &options,
        |event, model| match event {
            FitEvent::Step(s) => {
                if let Some(steps) = s.steps_per_epoch {
                    bar.set_length(steps as u64);
                }
                bar.set_prefix(s.epoch.to_string());
                bar.set_position(s.step as u64);
                bar.set_message(format!(
                    "lr {:.0e} {:>6.0} img/s",
                    s.lr, s.images_per_second
                ));
            }
            FitEvent::Epoch(e) => {
                // Beside the bar on a terminal; also when stderr is not one (the bar is hidden
                // there, and so would its println be).
                bar.suspend(|| eprintln!("{}", epoch_line(e)));
                // Natively every backend can read synchronously.
                if let Err(err) = burnpack(&burn::module::Module::valid(model))
                    .and_then(|bytes| save(&bytes, &args.out))
                {
                    bar.suspend(|| eprintln!("warning: no checkpoint after this epoch: {err}"));
                    checkpoint_error = Some(err);
                }
                bar.reset();
            }
        },
        || false,
    ));
    bar.finish_and_clear();
    let epochs = epochs?;
    if let Some(e) = checkpoint_error {
        return Err(e);
    }
    let test = block_on(classifier.evaluate(&test))?;
    println!(
        "held-out test: accuracy {:.2}% loss {:.4} on {} images; {} epochs in {:.0} s; weights: {}",
        test.accuracy * 100.0,
        test.loss,
        test.images,
        epochs.len(),
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// Writes `bytes` to `out` via a temporary file, so that an interrupted write never leaves a
/// truncated checkpoint.
fn save(bytes: &[u8], out: &Path) -> Result<()> {
    let partial = out.with_extension("partial");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, out))
        .map_err(|e| Error::BadInput(format!("cannot write {}: {e}", out.display())))
}

fn epoch_line(e: &EpochEvent) -> String {
    format!(
        "epoch {:>2}: train loss {:.4} accuracy {:.2}% | validation loss {:.4} accuracy {:.2}% | lr {:.0e} -> {:.0e} | {:.0} s",
        e.epoch,
        e.train_loss,
        e.train_accuracy * 100.0,
        e.validation.loss,
        e.validation.accuracy * 100.0,
        e.lr,
        e.next_lr,
        e.seconds
    )
}

fn eval(args: &EvalArgs, device: &Device) -> Result<()> {
    let classifier = load(&args.model, &args.weights, device)?;
    let (_, test) = read_data(&args.data)?;
    let test = block_on(classifier.evaluate(&test))?;
    println!(
        "{} on {} held-out test: accuracy {:.2}% loss {:.4} on {} images",
        classifier.architecture_name(),
        args.data.data,
        test.accuracy * 100.0,
        test.loss,
        test.images
    );
    Ok(())
}

/// Median of `runs` timings in seconds, after one warm-up call.
fn median_seconds(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[runs / 2])
}

/// The batch the photo models' inference is timed at in `bench`.
const PHOTO_BATCH: usize = 16;

fn bench(args: &BenchArgs, backend: &SelectedBackend) -> Result<()> {
    let mut photo_notes = false;
    println!("backend: {}", describe(backend));
    println!(
        "{:<28} {:>16} {:>17} {:>18}",
        "model", "infer 1 (img/s)", "infer 64 (img/s)", "train 64 (img/s)"
    );
    for shipped in Pretrained::ALL {
        let path = args.weights_dir.join(shipped.file);
        let photos = !DatasetInfo::ALL.contains(&shipped.dataset);
        if photos && !path.exists() {
            println!(
                "{:<28} skipped: no {} (scripts/package.sh makes it)",
                shipped.name,
                path.display()
            );
            continue;
        }
        let weights = read(&path)?;
        let mut classifier = Classifier::pretrained(&shipped, &backend.device, &weights)?;
        if photos {
            // Inference on images of the input's size (the time does not depend on what they
            // show); a photo model's training is transfer learning, in the JS API.
            let [c, h, w] = classifier.input_shape();
            let image = |n: usize| -> Vec<f32> {
                (0..n * c * h * w)
                    .map(|i| (i % 251) as f32 / 250.0)
                    .collect()
            };
            let one = image(1);
            let b1 = median_seconds(10, || {
                block_on(classifier.classify(&one, [1, c, h, w])).map(drop)
            })?;
            // A batch of 16: at 224 pixels one image's largest activation is 4.8 MB, and 64 of
            // them would need a 308 MB buffer, over WebGPU's (and lavapipe's) 256 MiB limit.
            let batch = image(PHOTO_BATCH);
            let bn = median_seconds(3, || {
                block_on(classifier.classify(&batch, [PHOTO_BATCH, c, h, w])).map(drop)
            })?;
            println!(
                "{:<28} {:>16.1} {:>17} {:>18}",
                shipped.name,
                1.0 / b1,
                format!("{:.1} (16)", PHOTO_BATCH as f64 / bn),
                "-"
            );
            photo_notes = true;
            continue;
        }
        let (train, test) = read_dataset(shipped.dataset.name, args.data_dir.as_deref())?;
        let [c, h, w] = test.shape();
        let pixels = |n: usize| -> Vec<f32> {
            let images = test.take(n);
            images
                .images()
                .iter()
                .map(|&v| f32::from(v) / 255.0)
                .collect()
        };
        let (one, batch) = (pixels(1), pixels(64));
        let b1 = median_seconds(30, || {
            block_on(classifier.classify(&one, [1, c, h, w])).map(drop)
        })?;
        let b64 = median_seconds(10, || {
            block_on(classifier.classify(&batch, [64, c, h, w])).map(drop)
        })?;
        // The training loop itself, batch 64 without augmentation, on real images; one short
        // run first compiles the kernels. Validation is one batch, outside the epoch's timing.
        let mut fit = |images: usize| -> Result<f64> {
            let options = FitOptions {
                epochs: Some(1.0),
                ..FitOptions::default()
            };
            let epochs = block_on(classifier.fit(
                train.take(images),
                Validation::Data(test.take(64)),
                &options,
                |_, _| {},
                || false,
            ))?;
            Ok(epochs[0].images_per_second)
        };
        fit(128)?;
        let trained = fit(args.train_images.max(64))?;
        println!(
            "{:<28} {:>16.0} {:>17.0} {:>18.0}",
            shipped.name,
            1.0 / b1,
            64.0 / b64,
            trained
        );
    }
    if photo_notes {
        println!(
            "(16): the photo model's batch is {PHOTO_BATCH} images; its training (transfer \
             learning, `train: \"head\"`) is in the JS API"
        );
    }
    Ok(())
}
