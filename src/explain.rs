//! Why a network decided as it did: Grad-CAM, saliency and integrated gradients of one class's
//! score, computed with Burn's autodiff on the model's own device (WebGPU or the CPU). The
//! options and the result are plain values, built without the `train` feature too (their
//! TypeScript types travel with every module); the computation needs autodiff.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits::{Range, STEPS};

/// How to explain (its TypeScript name is `ExplainMethod`).
pub use self::ExplainMethod as Method;

/// How to explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum ExplainMethod {
    /// Grad-CAM: a convolutional layer's maps weighted by the class score's mean gradient on
    /// each, positive part — where in the image the evidence for the class is.
    #[default]
    #[serde(rename = "gradcam")]
    GradCam,
    /// The class score's gradient with respect to each input pixel (largest magnitude over
    /// the channels): which pixels the score is most sensitive to.
    #[serde(rename = "saliency")]
    Saliency,
    /// Integrated gradients from a black image: each pixel's share of the score's change from
    /// black to this image (the shares add up to that change).
    #[serde(rename = "integrated-gradients")]
    IntegratedGradients,
}

/// `explain`'s options, as JS passes them and the CLI's flags set them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ExplainOptions {
    /// `"gradcam"` (default), `"saliency"` or `"integrated-gradients"`.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub method: Option<ExplainMethod>,
    /// The class to explain (default: the most likely one).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub class_index: Option<f64>,
    /// Grad-CAM's layer, one of the feature maps' convolutional layers (default: the last
    /// convolution's output).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub layer: Option<String>,
    /// Integrated gradients' steps from black to the image, 1 to 256 (default 32).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub steps: Option<f64>,
}

/// Integrated gradients' check on themselves: their sum against the score's change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Completeness {
    /// The attributions' sum.
    pub attributions: f32,
    /// The class score (logit) of the image minus that of the black baseline.
    pub score_change: f32,
}

/// Why a model gives an image its class (`Model.explain`'s answer).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null))]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// How it was made.
    pub method: ExplainMethod,
    /// The class explained (default: the most likely one).
    pub class_index: usize,
    /// Its label (set by the classifier; empty from [`explain`]).
    pub label: String,
    /// Its probability for this image.
    pub score: f32,
    /// Grad-CAM's layer (None for the input-gradient methods).
    pub layer: Option<String>,
    /// `[height, width]` of [`Self::heat`]: the network's input, the image as the model
    /// prepared it (what `prepare` gives).
    pub shape: [usize; 2],
    /// The heat map, row after row, scaled to [0, 1] (1: the strongest evidence).
    #[serde(serialize_with = "crate::typed::f32s")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Float32Array"))]
    pub heat: Vec<f32>,
    /// `[height, width]` of [`Self::raw`].
    pub raw_shape: [usize; 2],
    /// The map before scaling: Grad-CAM at its layer's resolution (≥ 0), saliency's gradient
    /// magnitudes, or integrated gradients' signed attributions, at the input's resolution.
    #[serde(serialize_with = "crate::typed::f32s")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Float32Array"))]
    pub raw: Vec<f32>,
    /// Integrated gradients only: how well the attributions add up.
    pub completeness: Option<Completeness>,
    /// `[height, width]` of [`Self::original`]: the image as it was given.
    pub original_shape: [usize; 2],
    /// [`Self::heat`] carried back through the preparation onto the image as it was given
    /// (0 where its pixels did not reach the network, e.g. outside a centre crop), scaled to
    /// [0, 1] again.
    #[serde(serialize_with = "crate::typed::f32s")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Float32Array"))]
    pub original: Vec<f32>,
}

/// The options checked: the method, the class (below `classes`), the layer and the steps.
///
/// # Errors
/// [`Error::BadInput`] naming the option.
pub fn checked(
    options: &ExplainOptions,
    classes: usize,
) -> Result<(Method, Option<usize>, Option<&str>, usize)> {
    let last = classes.saturating_sub(1) as f64;
    let class = Range::whole(0.0, last).whole_number("classIndex", options.class_index)?;
    let steps = STEPS.whole_number("steps", options.steps)?.unwrap_or(32);
    let method = options.method.unwrap_or_default();
    if options.layer.is_some() && method != Method::GradCam {
        return Err(Error::BadInput(
            "layer applies to Grad-CAM only (method \"gradcam\")".into(),
        ));
    }
    if options.steps.is_some() && method != Method::IntegratedGradients {
        return Err(Error::BadInput(
            "steps applies to integrated gradients only (method \"integrated-gradients\")".into(),
        ));
    }
    Ok((method, class, options.layer.as_deref(), steps))
}

/// `|values|` divided by their largest (all zero when that is 0).
#[cfg(feature = "train")]
pub(crate) fn scaled(values: &[f32]) -> Vec<f32> {
    let max = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max > 0.0 && max.is_finite() {
        values.iter().map(|v| v.abs() / max).collect()
    } else {
        vec![0.0; values.len()]
    }
}

/// The explanations' colour scale, RGB in [0, 1] at heat 0, ¼, ½, ¾ and 1: black, dark red,
/// orange, yellow, white — brightness grows with the value, so it reads in grey too.
pub const HEAT_STOPS: [[f32; 3]; 5] = [
    [0.0, 0.0, 0.0],
    [0.55, 0.0, 0.05],
    [0.95, 0.35, 0.0],
    [1.0, 0.85, 0.1],
    [1.0, 1.0, 1.0],
];

/// The colour of heat `t` in [0, 1] on [`HEAT_STOPS`], linearly between them (RGB in [0, 1]);
/// not finite is 0. The CLI's heat maps; the page's and the JS API's `heatColour` are
/// generated from this ([`colours_typescript`]).
pub fn heat_colour(t: f32) -> [f32; 3] {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    } * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f32;
    let (a, b) = (HEAT_STOPS[i], HEAT_STOPS[i + 1]);
    [0, 1, 2].map(|k| a[k] + (b[k] - a[k]) * f)
}

/// `js/colours.ts`: [`HEAT_STOPS`] and [`heat_colour`] in TypeScript (`tests/api/generated.rs`
/// fails when that file is stale).
pub fn colours_typescript() -> String {
    let stops: Vec<String> = HEAT_STOPS
        .iter()
        .map(|[r, g, b]| format!("  [{r}, {g}, {b}],"))
        .collect();
    format!(
        "// Generated from src/explain.rs by tests/api/generated.rs (`CONVLENS_BLESS=1 cargo test --test\n\
         // api generated` rewrites it); do not edit. The CLI draws its heat maps with the same scale.\n\
         \n\
         /** The explanations' colour scale, RGB in [0, 1] at heat 0, ¼, ½, ¾ and 1: black, dark red, orange, yellow, white. */\n\
         export const HEAT_STOPS: readonly (readonly [number, number, number])[] = [\n{}\n];\n\
         \n\
         /**\n \
         * The colour of heat `t` in [0, 1] (an explanation's `heat`) as RGB in [0, 1], linearly between\n \
         * {{@link HEAT_STOPS}}: brightness grows with the value, so it reads in grey too. Not finite is 0.\n \
         *\n \
         * @example\n \
         * heatColour(0.5); // [0.95, 0.35, 0]: orange\n \
         */\n\
         export function heatColour(t: number): [number, number, number] {{\n  \
         const x = (Number.isFinite(t) ? Math.min(Math.max(t, 0), 1) : 0) * 4;\n  \
         const i = Math.min(Math.floor(x), 3);\n  \
         const f = x - i;\n  \
         const [a, b] = [HEAT_STOPS[i], HEAT_STOPS[i + 1]];\n  \
         return [0, 1, 2].map((k) => a[k] + (b[k] - a[k]) * f) as [number, number, number];\n\
         }}\n",
        stops.join("\n")
    )
}

#[cfg(feature = "train")]
pub use compute::explain;

#[cfg(feature = "train")]
mod compute {
    use burn::prelude::{Tensor, TensorData};
    use burn::tensor::activation::softmax;

    use super::{Completeness, ExplainOptions, Explanation, Method, checked};
    use crate::error::{Error, Result};
    use crate::model::{ImageClassifier, Recorder};
    use crate::readback::{read, read_all};

    /// Input values per forward pass along integrated gradients' path: 8 digits at a time, one
    /// 224-pixel photo (its backward pass keeps every activation).
    const PATH_VALUES: usize = 200_000;

    /// Explains `image` (`[1, …model.input_shape()]`, prepared, on an autodiff device) by
    /// `model`, which must be frozen (`Module::freeze`: BatchNorm and dropout as in inference,
    /// no parameter gradients).
    ///
    /// # Errors
    /// [`Error::BadInput`] for options out of range or a layer that is not one of the model's
    /// convolutional ones; [`Error::Backend`] when reading fails.
    pub async fn explain<M: ImageClassifier>(
        model: &M,
        image: Tensor<4>,
        options: &ExplainOptions,
    ) -> Result<Explanation> {
        let [batch, _, h, w] = image.dims();
        if batch != 1 {
            return Err(Error::BadInput(format!(
                "explain takes one image, got {batch}"
            )));
        }
        let image = image.detach();
        let logits = model.logits(image.clone());
        let classes = logits.dims()[1];
        let (method, class, layer, steps) = checked(options, classes)?;
        let probabilities = read(softmax(logits, 1)).await?;
        let class = class.unwrap_or_else(|| argmax(&probabilities));
        let score = probabilities[class];
        let (raw, raw_shape, layer, completeness) = match method {
            Method::GradCam => {
                let layer = layer.unwrap_or(model.last_conv());
                let (raw, shape) = gradcam(model, image, class, layer).await?;
                (raw, shape, Some(layer.to_string()), None)
            }
            Method::Saliency => (saliency(model, image, class).await?, [h, w], None, None),
            Method::IntegratedGradients => {
                let (raw, completeness) = integrated(model, image, class, steps).await?;
                (raw, [h, w], None, Some(completeness))
            }
        };
        let scaled = super::scaled(&raw);
        let heat = if raw_shape == [h, w] {
            scaled
        } else {
            // Upsampled to the input, then scaled again: 1 is the strongest point as shown.
            let [rh, rw] = raw_shape;
            super::scaled(&crate::data::fit_image(&scaled, [1, rh, rw], [1, h, w])?)
        };
        // Until a caller that knows the preparation carries it back: the input itself.
        let original = heat.clone();
        Ok(Explanation {
            method,
            class_index: class,
            label: String::new(),
            score,
            layer,
            shape: [h, w],
            heat,
            raw_shape,
            raw,
            completeness,
            original_shape: [h, w],
            original,
        })
    }

    fn argmax(values: &[f32]) -> usize {
        values
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i)
    }

    /// Class `class`'s score summed over the batch: `[1]`.
    fn class_score(logits: Tensor<2>, class: usize) -> Tensor<1> {
        let [n, _] = logits.dims();
        logits.slice([0..n, class..class + 1]).sum()
    }

    async fn saliency<M: ImageClassifier>(
        model: &M,
        image: Tensor<4>,
        class: usize,
    ) -> Result<Vec<f32>> {
        let x = image.require_grad();
        let grads = class_score(model.logits(x.clone()), class).backward();
        let g = x.grad(&grads).ok_or_else(no_gradient)?;
        read(g.abs().max_dim(1)).await
    }

    async fn integrated<M: ImageClassifier>(
        model: &M,
        image: Tensor<4>,
        class: usize,
        steps: usize,
    ) -> Result<(Vec<f32>, Completeness)> {
        let [_, c, h, w] = image.dims();
        let device = image.device();
        let mut total: Tensor<4> = Tensor::zeros([1, c, h, w], &device);
        let alphas: Vec<f32> = (0..steps)
            .map(|k| (k as f32 + 0.5) / steps as f32)
            .collect();
        let per_pass = (PATH_VALUES / (c * h * w)).clamp(1, 8);
        for chunk in alphas.chunks(per_pass) {
            let n = chunk.len();
            let alpha: Tensor<1> = Tensor::from_data(TensorData::new(chunk.to_vec(), [n]), &device);
            let path = (image.clone().repeat_dim(0, n) * alpha.reshape([n, 1, 1, 1]))
                .detach()
                .require_grad();
            let grads = class_score(model.logits(path.clone()), class).backward();
            let g = path.grad(&grads).ok_or_else(no_gradient)?;
            total = total + g.sum_dim(0);
        }
        let attributions = (total / steps as f32 * image.clone()).sum_dim(1);
        let black = Tensor::zeros([1, c, h, w], &device);
        let ends = model.logits(Tensor::cat(vec![image, black], 0));
        let [n, _] = ends.dims();
        let ends = ends.slice([0..n, class..class + 1]).reshape([2]);
        let read = read_all(vec![attributions.reshape([h * w]), ends]).await?;
        let completeness = Completeness {
            attributions: read[0].iter().sum(),
            score_change: read[1][0] - read[1][1],
        };
        Ok((read[0].clone(), completeness))
    }

    async fn gradcam<M: ImageClassifier>(
        model: &M,
        image: Tensor<4>,
        class: usize,
        layer: &str,
    ) -> Result<(Vec<f32>, [usize; 2])> {
        let mut rec = Recorder::tap(layer);
        let logits = model.forward_recorded(image.clone(), &mut rec);
        let Some(maps) = rec.tapped() else {
            let names: Vec<String> = model
                .activations(image)
                .layers
                .into_iter()
                .filter(|a| !a.layer.is_empty() && a.tensor.dims()[2] * a.tensor.dims()[3] > 1)
                .map(|a| a.layer)
                .collect();
            return Err(Error::BadInput(format!(
                "layer \"{layer}\" is not a convolutional layer of this model; one of {}",
                names.join(", ")
            )));
        };
        let grads = class_score(logits, class).backward();
        let g = maps.grad(&grads).ok_or_else(no_gradient)?;
        let [_, _, mh, mw] = maps.dims();
        let weights = g.mean_dim(3).mean_dim(2); // [1, k, 1, 1]
        let cam = (maps.detach() * weights).sum_dim(1).clamp_min(0.0); // [1, 1, mh, mw]
        Ok((read(cam).await?, [mh, mw]))
    }

    fn no_gradient() -> Error {
        Error::Backend("the backward pass gave no gradient for the explained tensor".into())
    }
}
