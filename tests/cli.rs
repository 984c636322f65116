//! The native CLI as users run it: `eval` reproduces the shipped models' accuracies (README),
//! `export` writes a PyTorch state_dict and `import` reads it back, `classify` reads image files,
//! `models` lists the registry, `bench` prints images/s, `--backend wgpu` (a build with the
//! feature) evaluates and trains as the CPU does, and a misspelt flag is an error that names it.
//! Needs the data of scripts/fetch-data.sh.

mod support;

use support::{convlens, run};

/// `convlens eval` on shipped weights, as the README runs it.
fn eval(model: &str, data: &str, weights: &str) -> String {
    let weights = format!("{}/weights/{weights}", env!("CARGO_MANIFEST_DIR"));
    convlens(&[
        "eval",
        "--model",
        model,
        "--data",
        data,
        "--weights",
        &weights,
    ])
}

/// The accuracy the registry states for a shipped model (what the page shows), as `eval` prints it.
fn stated(model: &str) -> String {
    let p = convlens::model::Pretrained::find(model).unwrap();
    format!("accuracy {:.2}%", 100.0 * p.test_accuracy.unwrap())
}

#[test]
fn eval_reproduces_the_shipped_lenet5_accuracy() {
    let out = eval("lenet5", "mnist", "lenet5-mnist.bpk");
    // The figure in the README's table: the official MNIST test set.
    assert!(
        out.contains("accuracy 99.39% loss 0.0214 on 10000 images"),
        "{out}"
    );
    assert!(out.contains(&stated("lenet5-mnist")), "{out}");
}

#[test]
fn eval_reproduces_the_shipped_vin_accuracy() {
    let out = eval("vin", "fashion", "vin-fashion.bpk");
    // The figure in the README's table: the official Fashion-MNIST test set.
    assert!(
        out.contains("accuracy 91.75% loss 0.2567 on 10000 images"),
        "{out}"
    );
    assert!(out.contains(&stated("vin-fashion")), "{out}");
}

#[test]
fn export_writes_a_state_dict_and_models_lists_the_zoo() {
    let weights = concat!(env!("CARGO_MANIFEST_DIR"), "/weights/lenet5-mnist.bpk");
    let out = std::env::temp_dir().join(format!(
        "convlens-export-{}.safetensors",
        std::process::id()
    ));
    let printed = convlens(&[
        "export",
        "--model",
        "lenet5",
        "--weights",
        weights,
        "--out",
        out.to_str().unwrap(),
    ]);
    let tensors = convlens::weights::parse_safetensors(&std::fs::read(&out).unwrap()).unwrap();
    let _ = std::fs::remove_file(&out);
    assert!(printed.contains("10 tensors"), "{printed}");
    // PyTorch's layout: Linear weights are [out, in].
    assert_eq!(tensors["fc1.weight"].shape, vec![120, 400]);
    assert_eq!(tensors["conv1.weight"].shape, vec![6, 1, 5, 5]);

    let models = convlens(&["models"]);
    for line in [
        "lenet5",
        "61706",
        "vin",
        "resnet8",
        "alexnet",
        "lenet5-mnist",
        "Ankle boot",
    ] {
        assert!(models.contains(line), "{line} missing from:\n{models}");
    }
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("convlens-cli-{}-{name}", std::process::id()))
}

#[test]
fn import_reads_back_what_export_wrote() {
    let weights = concat!(env!("CARGO_MANIFEST_DIR"), "/weights/vin-fashion.bpk");
    let (exported, imported) = (temp("vin.safetensors"), temp("vin.bpk"));
    let (exported_s, imported_s) = (exported.to_str().unwrap(), imported.to_str().unwrap());
    convlens(&[
        "export",
        "--model",
        "vin",
        "--weights",
        weights,
        "--out",
        exported_s,
    ]);
    let printed = convlens(&[
        "import", "--model", "vin", "--from", exported_s, "--out", imported_s,
    ]);
    assert!(printed.contains("parameters of vin"), "{printed}");
    let out = convlens(&[
        "eval",
        "--model",
        "vin",
        "--data",
        "fashion",
        "--weights",
        imported_s,
    ]);
    let _ = std::fs::remove_file(&exported);
    let _ = std::fs::remove_file(&imported);
    // The shipped figure again: every tensor (BatchNorm statistics included) came back.
    assert!(
        out.contains("accuracy 91.75% loss 0.2567 on 10000 images"),
        "{out}"
    );
}

/// The first held-out MNIST digit (a 7) as an 8-bit greyscale image, and its label.
fn first_test_digit() -> (Vec<u8>, u8) {
    let dir = std::env::var_os("CONVLENS_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/convlens")
        })
        .join("data");
    let images =
        std::fs::read(dir.join("mnist-test-images.idx")).expect("run scripts/fetch-data.sh");
    let labels = std::fs::read(dir.join("mnist-test-labels.idx")).unwrap();
    (images[16..16 + 784].to_vec(), labels[8])
}

#[test]
fn classify_reads_png_and_jpeg_files_of_any_size_and_colour() {
    let (digit, label) = first_test_digit();
    let grey = image::GrayImage::from_raw(28, 28, digit).unwrap();
    let png = temp("digit.png");
    grey.save(&png).unwrap();
    // The same digit three times larger, in colour, as a JPEG: fitted to 1×28×28 as the
    // browser fits it.
    let big = image::imageops::resize(&grey, 84, 84, image::imageops::FilterType::Triangle);
    let rgb = image::DynamicImage::ImageLuma8(big).into_rgb8();
    let jpeg = temp("digit.jpg");
    rgb.save(&jpeg).unwrap();
    let printed = convlens(&[
        "classify",
        "--model",
        "lenet5-mnist",
        "--top",
        "2",
        png.to_str().unwrap(),
        jpeg.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&png);
    let _ = std::fs::remove_file(&jpeg);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 6, "{printed}");
    for top in [lines[1], lines[4]] {
        let mut fields = top.split_whitespace();
        assert_eq!(fields.next(), Some(label.to_string().as_str()), "{printed}");
        let score: f32 = fields
            .next()
            .unwrap()
            .trim_end_matches('%')
            .parse()
            .unwrap();
        assert!(score > 90.0, "{printed}");
    }

    let out = run(&["classify", "--model", "lenet5-mnist", "/nonexistent.png"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.png"));
}

#[test]
fn explain_writes_a_heat_map_over_the_prepared_digit() {
    let (digit, label) = first_test_digit();
    let png = temp("explain-digit.png");
    image::GrayImage::from_raw(28, 28, digit)
        .unwrap()
        .save(&png)
        .unwrap();
    for (method, says) in [
        ("gradcam", "Grad-CAM at relu2 (10×10)"),
        ("saliency", "saliency"),
        ("integrated-gradients", "attributions add up to"),
    ] {
        let out = temp(&format!("heat-{method}.png"));
        let printed = convlens(&[
            "explain",
            "--model",
            "lenet5-mnist",
            "--method",
            method,
            "--out",
            out.to_str().unwrap(),
            png.to_str().unwrap(),
        ]);
        assert!(printed.contains(&format!(": {label} (")), "{printed}");
        assert!(printed.contains(says), "{printed}");
        let heat = image::open(&out).unwrap().into_rgb8();
        assert_eq!(heat.dimensions(), (224, 224), "28 pixels, 8 times larger");
        // Coloured where the evidence is, grey elsewhere.
        let coloured = heat
            .pixels()
            .filter(|p| i32::from(p[0]) > i32::from(p[2]) + 40)
            .count();
        assert!(
            coloured > 224 * 4 && coloured < 224 * 224 / 2,
            "{coloured} coloured pixels"
        );
        let _ = std::fs::remove_file(&out);
    }
    for (args, named) in [
        (vec!["--method", "lime"], "--method"),
        (vec!["--layer", "fc1"], "fc1"),
        (vec!["--class", "10"], "classIndex"),
    ] {
        let mut all = vec!["explain", "--model", "lenet5-mnist", "--out", "/tmp/x.png"];
        all.extend(args.iter().copied());
        all.push(png.to_str().unwrap());
        let out = run(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{all:?} succeeded");
        assert!(err.contains(named), "{all:?}: {err}");
    }
    let _ = std::fs::remove_file(&png);
}

#[test]
fn unknown_and_bad_flags_are_errors_that_name_them() {
    for (args, named) in [
        (
            vec![
                "eval",
                "--model",
                "lenet5",
                "--data",
                "mnist",
                "--weights",
                "w",
                "--epoch",
                "5",
            ],
            "--epoch",
        ),
        (
            vec![
                "train", "--model", "lenet5", "--data", "mnist", "--out", "o", "--epochs", "two",
            ],
            "--epochs",
        ),
        (
            vec![
                "eval",
                "--model",
                "lenet5",
                "--data",
                "cifar",
                "--weights",
                "w",
            ],
            "--data",
        ),
        (
            vec![
                "train", "--model", "lenet5", "--data", "mnist", "--out", "o", "--epochs", "0",
            ],
            "epochs",
        ),
        (
            vec!["classify", "--model", "vgg", "--weights", "w", "x.png"],
            "vgg",
        ),
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(named), "{args:?}: {err}");
    }
}

#[test]
fn bench_prints_images_per_second_for_each_shipped_model() {
    let out = convlens(&["bench", "--backend", "cpu", "--train-images", "64"]);
    assert!(out.starts_with("backend: cpu\n"), "{out}");
    for model in ["lenet5-mnist", "vin-fashion"] {
        let row = out
            .lines()
            .find(|l| l.starts_with(model))
            .unwrap_or_else(|| panic!("no row for {model}:\n{out}"));
        let figures: Vec<f64> = row
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().expect("a number"))
            .collect();
        assert_eq!(figures.len(), 3, "{row}");
        assert!(figures.iter().all(|&f| f > 0.0), "{row}");
    }
}

/// Without its feature, asking for a GPU backend is an error that says how to get one.
#[cfg(any(not(feature = "wgpu"), not(feature = "cuda")))]
fn assert_missing_backend_names_its_feature(backend: &str) {
    let out = run(&["models", "--backend", backend]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("--features {backend}")), "{err}");
}

#[cfg(not(feature = "wgpu"))]
#[test]
fn a_gpu_backend_missing_from_the_build_is_an_error_naming_its_feature() {
    assert_missing_backend_names_its_feature("wgpu");
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_missing_from_the_build_is_an_error_naming_its_feature() {
    assert_missing_backend_names_its_feature("cuda");
}

/// The wgpu backend natively (CI: Mesa's lavapipe, a Vulkan driver on the CPU; on a machine
/// with a GPU, the GPU): the shipped LeNet-5 scores what it scores on the CPU, on all 10,000
/// test images, through the kernels the browser's WebGPU runs.
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_evaluates_the_shipped_lenet5_as_the_cpu_does() {
    let weights = concat!(env!("CARGO_MANIFEST_DIR"), "/weights/lenet5-mnist.bpk");
    let out = convlens(&[
        "eval",
        "--backend",
        "wgpu",
        "--model",
        "lenet5",
        "--data",
        "mnist",
        "--weights",
        weights,
    ]);
    assert!(out.contains("accuracy 99.39% loss 0.021"), "{out}");
}

/// The same training loop on wgpu: one epoch on 4,096 images (128 steps) learns digits (chance is
/// 10 %; this run measured 85.6 % on wgpu and 83.9 % on the CPU, whose initial weights differ:
/// each backend has its own random generator).
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_trains_with_the_same_loop() {
    let out_path = temp("wgpu-train.bpk");
    let out = run(&[
        "train",
        "--backend",
        "wgpu",
        "--model",
        "lenet5",
        "--data",
        "mnist",
        "--epochs",
        "1",
        "--limit",
        "4096",
        "--batch-size",
        "32",
        "--validation",
        "256",
        "--out",
        out_path.to_str().unwrap(),
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("with wgpu ("), "{stderr}");
    let accuracy: f64 = stdout
        .split("accuracy ")
        .nth(1)
        .and_then(|s| s.split('%').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no accuracy in {stdout}"));
    assert!(accuracy > 70.0, "{stdout}");
    // The checkpoint it wrote loads on the CPU backend.
    let reloaded = convlens(&[
        "eval",
        "--model",
        "lenet5",
        "--data",
        "mnist",
        "--weights",
        out_path.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&out_path);
    assert!(
        reloaded.contains(&format!("accuracy {accuracy:.2}%")),
        "{stdout}\n{reloaded}"
    );
}

#[test]
fn an_onnx_network_is_imported_into_a_model_file_and_classifies_like_the_onnx_file() {
    let onnx = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-cnn.onnx");
    let file = temp("tiny-cnn.bpk");
    let printed = convlens(&["import", onnx, "--out", file.to_str().unwrap()]);
    // The nodes, named as the file names them, with their output shapes.
    for line in [
        "conv1",
        "Conv",
        "[1, 8, 28, 28]",
        "residual",
        "fc",
        "Gemm",
        "[1, 3]",
        "3 classes",
    ] {
        assert!(printed.contains(line), "{line} missing:\n{printed}");
    }
    let (digit, _) = first_test_digit();
    let png = temp("onnx-digit.png");
    image::GrayImage::from_raw(28, 28, digit)
        .unwrap()
        .save(&png)
        .unwrap();
    let from_onnx = convlens(&[
        "classify",
        "--model",
        onnx,
        "--top",
        "3",
        png.to_str().unwrap(),
    ]);
    let from_file = convlens(&[
        "classify",
        "--model",
        file.to_str().unwrap(),
        "--top",
        "3",
        png.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&png);
    let _ = std::fs::remove_file(&file);
    assert_eq!(from_onnx, from_file);
    assert!(
        from_onnx.contains("circle") && from_onnx.contains("triangle"),
        "{from_onnx}"
    );
    // An operator convlens does not read is named with the node.
    let bad = temp("selu.onnx");
    let mut bytes = std::fs::read(onnx).unwrap();
    let at = bytes.windows(4).position(|w| w == b"Relu").unwrap();
    bytes[at..at + 4].copy_from_slice(b"Selu");
    std::fs::write(&bad, bytes).unwrap();
    let out = run(&["classify", "--model", bad.to_str().unwrap(), "x.png"]);
    let _ = std::fs::remove_file(&bad);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("unsupported: Selu node \"relu1\" (index 2)"),
        "{stderr}"
    );
}
