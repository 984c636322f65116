//! The native CLI as users run it: `eval` reproduces the shipped models' accuracies (README),
//! `export` writes a PyTorch state_dict, `models` lists the registry. Needs the data of
//! scripts/fetch-data.sh.

use std::process::Command;

fn convlens(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_convlens"))
        .args(args)
        .output()
        .expect("the convlens binary runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "convlens {args:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

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

#[test]
fn eval_reproduces_the_shipped_lenet5_accuracy() {
    let out = eval("lenet5", "mnist", "lenet5-mnist.bpk");
    // The figure in the README's table: the official MNIST test set.
    assert!(
        out.contains("accuracy 99.39% loss 0.0214 on 10000 images"),
        "{out}"
    );
}

#[test]
fn eval_reproduces_the_shipped_vin_accuracy() {
    let out = eval("vin", "fashion", "vin-fashion.bpk");
    // The figure in the README's table: the official Fashion-MNIST test set.
    assert!(
        out.contains("accuracy 91.75% loss 0.2567 on 10000 images"),
        "{out}"
    );
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
