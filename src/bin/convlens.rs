//! `convlens` — train, evaluate and export the zoo's networks natively on the CPU backend, with
//! the same model, data and training code the browser runs.
//!
//! ```text
//! convlens train --model lenet5 --data mnist --epochs 12 --shift 2 --out weights/lenet5-mnist.bpk
//! convlens eval  --model lenet5 --data mnist --weights weights/lenet5-mnist.bpk
//! convlens export --model vin --weights weights/vin-fashion.bpk --out vin.safetensors
//! convlens models
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::config::Config;
use burn::prelude::Device;
use convlens::data::{Dataset, parse_idx};
use convlens::model::{Architecture, ImageClassifier, Pretrained};
use convlens::train::{EpochEvent, Evaluation, FitConfig, FitEvent, evaluate, fit};
use convlens::{Error, Result, weights, with_any_model};
use futures_lite::future::block_on;

const USAGE: &str = "usage:
  convlens train --model NAME --data mnist|fashion --out FILE [--epochs N] [--batch-size N]
                 [--lr X] [--patience N] [--shift PIXELS] [--elastic PIXELS] [--seed N]
                 [--limit N] [--init FILE]
  convlens eval  --model NAME --data mnist|fashion --weights FILE
  convlens export --model NAME --weights FILE --out FILE.safetensors
                 (a PyTorch state_dict: VIN under the reference class's names, the others under
                 their Burn module paths)
  convlens models  (the architectures, their parameter counts and the shipped weights)
options:
  --validation N   how many of the training images validate (default 5000;
                   0: train on all of them and let the scheduler watch the training loss)
  --init FILE      start from these weights instead of a random initialisation (to resume a run:
                   the model is saved to --out after every epoch; Adam's moments start afresh)
  --data-dir DIR   where scripts/fetch-data.sh put the IDX files (default ~/.cache/convlens/data)
models: lenet5, vin, resnet8, alexnet";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let (command, rest) = args
        .split_first()
        .ok_or_else(|| Error::BadInput("no command".into()))?;
    let flags = parse_flags(rest)?;
    let arch = || Architecture::parse(flags.get("model").map_or("", String::as_str));
    match command.as_str() {
        "train" => train(arch()?, &DataSplits::load(&flags)?, &flags),
        "eval" => eval(arch()?, &DataSplits::load(&flags)?, &flags),
        "export" => export(arch()?, &flags),
        "models" => {
            models();
            Ok(())
        }
        other => Err(Error::BadInput(format!("unknown command {other:?}"))),
    }
}

fn models() {
    println!(
        "{:<10} {:<12} {:>10}  classes",
        "model", "input", "parameters"
    );
    for arch in Architecture::ALL {
        let [c, h, w] = arch.input_shape();
        println!(
            "{:<10} {:<12} {:>10}  10",
            arch.name(),
            format!("{c}x{h}x{w}"),
            arch.parameters()
        );
    }
    println!("\nshipped weights (weights/):");
    for p in Pretrained::ALL {
        println!(
            "  {:<14} {:<8} on {:<8} {}: {}",
            p.name,
            p.architecture.name(),
            p.dataset,
            p.file,
            p.labels.join(", ")
        );
    }
}

fn export(arch: Architecture, flags: &HashMap<String, String>) -> Result<()> {
    let path = flags
        .get("weights")
        .ok_or_else(|| Error::BadInput("export needs --weights FILE".into()))?;
    let out = flags
        .get("out")
        .ok_or_else(|| Error::BadInput("export needs --out FILE.safetensors".into()))?;
    let bytes = std::fs::read(path).map_err(|e| Error::BadInput(format!("{path}: {e}")))?;
    let device = Device::flex();
    let exported = with_any_model!(arch.init(&device), |model| {
        let model = weights::load(model, &bytes)?;
        export_model(&model)?
    });
    std::fs::write(out, &exported).map_err(|e| Error::BadInput(format!("{out}: {e}")))?;
    println!(
        "{}: {} tensors, {} bytes",
        out,
        weights::parse_safetensors(&exported)?.len(),
        exported.len()
    );
    Ok(())
}

fn export_model<M: ImageClassifier>(model: &M) -> Result<Vec<u8>> {
    weights::to_pytorch_safetensors(model, M::pytorch_key)
}

fn parse_flags(args: &[String]) -> Result<HashMap<String, String>> {
    let mut flags = HashMap::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let name = arg
            .strip_prefix("--")
            .ok_or_else(|| Error::BadInput(format!("unexpected argument {arg:?}")))?;
        let value = it
            .next()
            .ok_or_else(|| Error::BadInput(format!("--{name} needs a value")))?;
        flags.insert(name.to_string(), value.clone());
    }
    Ok(flags)
}

fn number<T: std::str::FromStr>(
    flags: &HashMap<String, String>,
    name: &str,
    default: T,
) -> Result<T> {
    flags.get(name).map_or(Ok(default), |v| {
        v.parse()
            .map_err(|_| Error::BadInput(format!("--{name} {v:?} is not a number")))
    })
}

/// Training, validation (for the plateau scheduler) and held-out test images.
struct DataSplits {
    name: String,
    train: Dataset,
    validation: Dataset,
    test: Dataset,
}

impl DataSplits {
    /// MNIST and Fashion-MNIST alike: the official 60,000 training images (the last 5,000 of
    /// them validate, or `--validation N`) and the official 10,000 test images.
    fn load(flags: &HashMap<String, String>) -> Result<Self> {
        let dir = flags.get("data-dir").map(PathBuf::from).unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            std::env::var_os("CONVLENS_CACHE")
                .map(PathBuf::from)
                .unwrap_or(home.join(".cache/convlens"))
                .join("data")
        });
        let name = flags.get("data").cloned().unwrap_or_default();
        if !["mnist", "fashion"].contains(&name.as_str()) {
            return Err(Error::BadInput(format!(
                "unknown dataset {name:?}; use mnist or fashion"
            )));
        }
        let all = read_split(&dir, &format!("{name}-train"))?;
        let validation = number(flags, "validation", 5000)?;
        if validation >= all.len() {
            return Err(Error::BadInput(format!(
                "--validation must be below {}",
                all.len()
            )));
        }
        let limit = number(flags, "limit", all.len())?.min(all.len());
        let (train, validation) = if validation == 0 {
            // Train on everything; the scheduler then watches the loss on the training images.
            (all.clone(), all)
        } else {
            all.split_at(all.len() - validation)
        };
        let test = read_split(&dir, &format!("{name}-test"))?;
        Ok(Self {
            name,
            train: train.take(limit),
            validation,
            test,
        })
    }
}

fn read_split(dir: &Path, name: &str) -> Result<Dataset> {
    let read = |kind: &str| {
        let path = dir.join(format!("{name}-{kind}.idx"));
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::BadInput(format!(
                "cannot read {}: {e} (run scripts/fetch-data.sh)",
                path.display()
            ))
        })?;
        parse_idx(&bytes)
    };
    Dataset::from_idx(read("images")?, read("labels")?)
}

fn train(arch: Architecture, data: &DataSplits, flags: &HashMap<String, String>) -> Result<()> {
    let out = PathBuf::from(
        flags
            .get("out")
            .ok_or_else(|| Error::BadInput("train needs --out FILE".into()))?,
    );
    let config = FitConfig::new()
        .with_epochs(number(flags, "epochs", 10)?)
        .with_batch_size(number(flags, "batch-size", 64)?)
        .with_learning_rate(number(flags, "lr", 1e-3)?)
        .with_patience(number(flags, "patience", 3)?)
        .with_max_shift(number(flags, "shift", 0)?)
        .with_elastic(number(flags, "elastic", 0.0)?)
        .with_seed(number(flags, "seed", 42)?);
    let device = Device::flex().autodiff();
    device.seed(config.seed);
    eprintln!(
        "training {} on {}: {} images, {} for validation, {} held out",
        arch.name(),
        data.name,
        data.train.len(),
        data.validation.len(),
        data.test.len()
    );
    let init = match flags.get("init") {
        Some(path) => {
            Some(std::fs::read(path).map_err(|e| Error::BadInput(format!("{path}: {e}")))?)
        }
        None => None,
    };
    with_any_model!(arch.init(&device), |model| {
        let model = match &init {
            Some(bytes) => weights::load(model, bytes)?,
            None => model,
        };
        fit_and_save(model, data, &config, &device, &out)
    })
}

fn fit_and_save<M: ImageClassifier>(
    model: M,
    data: &DataSplits,
    config: &FitConfig,
    device: &Device,
    out: &Path,
) -> Result<()> {
    let started = std::time::Instant::now();
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::BadInput(format!("{}: {e}", dir.display())))?;
    }
    config
        .save(out.with_extension("json"))
        .map_err(|e| Error::BadInput(format!("cannot write the config: {e}")))?;
    let mut checkpoint_error = None;
    let outcome = block_on(fit(
        model,
        &data.train,
        &data.validation,
        config,
        device,
        |event, model: &M| {
            print_progress(event);
            if let FitEvent::Epoch(_) = event
                && let Err(e) = save(model.valid(), out)
            {
                eprintln!("warning: no checkpoint after this epoch: {e}");
                checkpoint_error = Some(e);
            }
        },
        || false,
    ))?;
    if let Some(e) = checkpoint_error {
        return Err(e);
    }
    let model = outcome.model.valid();
    let test = block_on(evaluate(&model, &data.test, 256, &Device::flex()))?;
    println!(
        "held-out test: accuracy {:.2}% loss {:.4} on {} images; {} epochs in {:.0} s; weights: {}",
        test.accuracy * 100.0,
        test.loss,
        test.images,
        outcome.epochs.len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Writes `model`'s weights to `out`, via a temporary file so that an interrupted write never
/// leaves a truncated checkpoint.
fn save<M: ImageClassifier>(model: M, out: &Path) -> Result<()> {
    let partial = out.with_extension("partial");
    std::fs::write(&partial, weights::to_bytes(model)?)
        .and_then(|()| std::fs::rename(&partial, out))
        .map_err(|e| Error::BadInput(format!("cannot write {}: {e}", out.display())))
}

fn eval(arch: Architecture, data: &DataSplits, flags: &HashMap<String, String>) -> Result<()> {
    let path = flags
        .get("weights")
        .ok_or_else(|| Error::BadInput("eval needs --weights FILE".into()))?;
    let bytes = std::fs::read(path).map_err(|e| Error::BadInput(format!("{path}: {e}")))?;
    let device = Device::flex();
    let test = with_any_model!(arch.init(&device), |model| load_and_evaluate(
        model, &bytes, data
    )?);
    println!(
        "{} on {} held-out test: accuracy {:.2}% loss {:.4} on {} images",
        arch.name(),
        data.name,
        test.accuracy * 100.0,
        test.loss,
        test.images
    );
    Ok(())
}

fn load_and_evaluate<M: ImageClassifier>(
    model: M,
    bytes: &[u8],
    data: &DataSplits,
) -> Result<Evaluation> {
    let model = weights::load(model, bytes)?;
    block_on(evaluate(&model, &data.test, 256, &Device::flex()))
}

fn print_progress(event: &FitEvent) {
    let mut err = std::io::stderr();
    match event {
        FitEvent::Step(s) => {
            let width = 30;
            let done = s.step * width / s.steps_per_epoch;
            let _ = write!(
                err,
                "\r  epoch {:>2} [{}{}] {:>4}/{} lr {:.0e} {:>6.0} img/s",
                s.epoch,
                "#".repeat(done),
                ".".repeat(width - done),
                s.step,
                s.steps_per_epoch,
                s.lr,
                s.images_per_second
            );
        }
        FitEvent::Epoch(EpochEvent {
            epoch,
            train_loss,
            train_accuracy,
            validation,
            lr,
            next_lr,
            seconds,
            ..
        }) => {
            let _ = writeln!(
                err,
                "\repoch {epoch:>2}: train loss {train_loss:.4} accuracy {:.2}% | validation loss {:.4} accuracy {:.2}% | lr {lr:.0e} -> {next_lr:.0e} | {seconds:.0} s{}",
                train_accuracy * 100.0,
                validation.loss,
                validation.accuracy * 100.0,
                " ".repeat(20)
            );
        }
    }
}
