//! Flat `f32` pixels and `u8` labels from JS or files → validated tensors.

use burn::prelude::{Device, Int, Tensor, TensorData};

use crate::error::{Error, Result};

/// Builds a `[batch, c, h, w]` tensor from `pixels`, laid out image after image, channel-major.
///
/// # Errors
/// [`Error::BadInput`] when `pixels` is empty, its length is not a multiple of `c·h·w`, or it
/// holds NaN or infinite values.
pub fn images_tensor(
    pixels: &[f32],
    image_shape: [usize; 3],
    device: &Device,
) -> Result<Tensor<4>> {
    let [c, h, w] = image_shape;
    let per_image = c * h * w;
    if per_image == 0 || pixels.is_empty() || !pixels.len().is_multiple_of(per_image) {
        return Err(Error::BadInput(format!(
            "got {} values, which is not a whole number (> 0) of {c}×{h}×{w} images ({per_image} values each)",
            pixels.len()
        )));
    }
    check_finite(pixels)?;
    let batch = pixels.len() / per_image;
    let data = TensorData::new(pixels.to_vec(), [batch, c, h, w]);
    Ok(Tensor::from_data(data, device))
}

/// Checks that every pixel value is a finite number.
///
/// # Errors
/// [`Error::BadInput`] naming the first NaN or infinite value.
pub fn check_finite(pixels: &[f32]) -> Result<()> {
    match pixels.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::BadInput(format!(
            "value {i} is {}; pixels must be finite numbers",
            pixels[i]
        ))),
        None => Ok(()),
    }
}

/// Checks that every label is a class index below `classes`.
///
/// # Errors
/// [`Error::BadInput`] naming the first label out of range.
pub fn check_labels(labels: &[u8], classes: usize) -> Result<()> {
    match labels.iter().find(|&&l| usize::from(l) >= classes) {
        Some(bad) => Err(Error::BadInput(format!(
            "label {bad} is out of range: the model has {classes} classes (0..{})",
            classes.saturating_sub(1)
        ))),
        None => Ok(()),
    }
}

/// Builds a `[batch]` integer tensor of class indices.
///
/// # Errors
/// [`Error::BadInput`] when `labels` is empty or a label is not below `classes`.
pub fn labels_tensor(labels: &[u8], classes: usize, device: &Device) -> Result<Tensor<1, Int>> {
    if labels.is_empty() {
        return Err(Error::BadInput("no labels given".to_string()));
    }
    check_labels(labels, classes)?;
    let data = TensorData::new(
        labels.iter().map(|&l| i64::from(l)).collect(),
        [labels.len()],
    );
    Ok(Tensor::from_data(data, device))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_batch_of_images() {
        let device = Device::flex();
        let t = images_tensor(&[0.5; 2 * 784], [1, 28, 28], &device).unwrap();
        assert_eq!(t.dims(), [2, 1, 28, 28]);
    }

    #[test]
    fn rejects_partial_empty_and_non_finite_input() {
        let device = Device::flex();
        let shape = [1, 28, 28];
        for bad in [vec![], vec![0.0; 783], vec![0.0; 785]] {
            let err = images_tensor(&bad, shape, &device).unwrap_err();
            assert_eq!(err.code(), "BAD_INPUT");
        }
        let mut nan = vec![0.0; 784];
        nan[3] = f32::NAN;
        let err = images_tensor(&nan, shape, &device).unwrap_err();
        assert!(err.to_string().contains("value 3 is NaN"), "{err}");
    }

    #[test]
    fn rejects_labels_out_of_range() {
        let device = Device::flex();
        assert_eq!(labels_tensor(&[0, 9], 10, &device).unwrap().dims(), [2]);
        assert_eq!(
            labels_tensor(&[10], 10, &device).unwrap_err().code(),
            "BAD_INPUT"
        );
        assert_eq!(
            labels_tensor(&[], 10, &device).unwrap_err().code(),
            "BAD_INPUT"
        );
    }
}
