//! An in-memory labelled image dataset (`u8` pixels), its batches and a seeded shuffle.

use burn::prelude::{Device, Int, Tensor, TensorData};

use super::augment::{affine, elastic};
use super::idx::Idx;
use crate::error::{Error, Result};

/// Images and their class indices, on one device.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[batch, channels, height, width]`.
    pub images: Tensor<4>,
    /// `[batch]`, class indices.
    pub labels: Tensor<1, Int>,
}

/// Images as bytes (0–255, image after image, channel-major) with one label each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    images: Vec<u8>,
    labels: Vec<u8>,
    shape: [usize; 3],
}

impl Dataset {
    /// A dataset of `labels.len()` images of `shape` (`[channels, height, width]`).
    ///
    /// # Errors
    /// [`Error::BadInput`] when it is empty or the pixel count does not match the labels.
    pub fn new(images: Vec<u8>, labels: Vec<u8>, shape: [usize; 3]) -> Result<Self> {
        let per_image: usize = shape.iter().product();
        if labels.is_empty() || per_image == 0 || images.len() != labels.len() * per_image {
            return Err(Error::BadInput(format!(
                "{} pixel bytes do not make {} images of {shape:?}",
                images.len(),
                labels.len()
            )));
        }
        Ok(Self {
            images,
            labels,
            shape,
        })
    }

    /// A greyscale dataset from an IDX image file (`[n, h, w]`) and label file (`[n]`).
    ///
    /// # Errors
    /// [`Error::BadInput`] when the files' dimensions do not agree.
    pub fn from_idx(images: Idx, labels: Idx) -> Result<Self> {
        match (images.dims.as_slice(), labels.dims.as_slice()) {
            ([n, h, w], [m]) if n == m => Self::new(images.data, labels.data, [1, *h, *w]),
            (i, l) => Err(Error::BadInput(format!(
                "IDX images {i:?} and labels {l:?} do not describe the same images"
            ))),
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether it holds no image (never true for a constructed dataset).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// `[channels, height, width]`.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// All pixels, image after image.
    pub fn images(&self) -> &[u8] {
        &self.images
    }

    /// All labels.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The first `n` images (or all of them).
    pub fn take(&self, n: usize) -> Self {
        let n = n.min(self.len());
        let per: usize = self.shape.iter().product();
        Self {
            images: self.images[..n * per].to_vec(),
            labels: self.labels[..n].to_vec(),
            shape: self.shape,
        }
    }

    /// The first `at` images and the rest.
    ///
    /// # Panics
    /// Never for `at <= len`; a larger `at` is clamped.
    pub fn split_at(&self, at: usize) -> (Self, Self) {
        let at = at.min(self.len());
        let per: usize = self.shape.iter().product();
        let (a, b) = self.images.split_at(at * per);
        let (la, lb) = self.labels.split_at(at);
        let part = |images: &[u8], labels: &[u8]| Self {
            images: images.to_vec(),
            labels: labels.to_vec(),
            shape: self.shape,
        };
        (part(a, la), part(b, lb))
    }

    /// Pixels of image `i` scaled to `[0, 1]`.
    pub fn image(&self, i: usize) -> Vec<f32> {
        let per: usize = self.shape.iter().product();
        self.images[i * per..(i + 1) * per]
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect()
    }

    /// The images at `indices` (scaled to `[0, 1]`; when `augment` is given, each randomly
    /// distorted as [`Augment`] says) and their labels, as tensors on `device`.
    pub fn batch(
        &self,
        indices: &[usize],
        device: &Device,
        augment: Option<(&mut SplitMix, Augment)>,
    ) -> Batch {
        let per: usize = self.shape.iter().product();
        let mut pixels = Vec::with_capacity(indices.len() * per);
        let mut augment = augment;
        for &i in indices {
            let image = &self.images[i * per..(i + 1) * per];
            match augment.as_mut() {
                Some((rng, how)) => {
                    // Up to ±max_shift pixels, ±12°, ±10 % scale, then the elastic field.
                    let max = how.max_shift as f32;
                    let dx = (rng.unit() * 2.0 - 1.0) * max;
                    let dy = (rng.unit() * 2.0 - 1.0) * max;
                    let angle = (rng.unit() * 2.0 - 1.0) * 12f32.to_radians();
                    let scale = 1.0 + (rng.unit() * 2.0 - 1.0) * 0.1;
                    let mut moved = affine(image, self.shape, angle, scale, dx, dy);
                    if how.elastic > 0.0 {
                        moved = elastic(&moved, self.shape, how.elastic, 4.0, rng);
                    }
                    pixels.extend(moved.iter().map(|&p| f32::from(p) / 255.0));
                }
                None => pixels.extend(image.iter().map(|&p| f32::from(p) / 255.0)),
            }
        }
        let [c, h, w] = self.shape;
        let labels: Vec<i64> = indices.iter().map(|&i| i64::from(self.labels[i])).collect();
        Batch {
            images: Tensor::from_data(TensorData::new(pixels, [indices.len(), c, h, w]), device),
            labels: Tensor::<1, Int>::from_data(TensorData::new(labels, [indices.len()]), device),
        }
    }
}

/// How training images are distorted.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Augment {
    /// Largest shift in pixels (each image is also rotated by up to ±12° and scaled by up to
    /// ±10 %).
    pub max_shift: usize,
    /// Elastic distortion: the largest displacement in pixels of a field smoothed over 4 pixels
    /// (0: none).
    pub elastic: f32,
}

/// A small, seeded generator (SplitMix64) for shuffling and augmentation, identical natively
/// and in wasm.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)`.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_sizes_and_builds_batches() {
        assert!(Dataset::new(vec![0; 10], vec![1], [1, 2, 2]).is_err());
        let data = Dataset::new((0..8).collect(), vec![3, 4], [1, 2, 2]).unwrap();
        let batch = data.batch(&[1], &Device::flex(), None);
        assert_eq!(batch.images.dims(), [1, 1, 2, 2]);
        assert_eq!(
            data.image(1),
            vec![4.0 / 255.0, 5.0 / 255.0, 6.0 / 255.0, 7.0 / 255.0]
        );
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<usize> = (0..100).collect();
        SplitMix::new(1).shuffle(&mut a);
        let mut b: Vec<usize> = (0..100).collect();
        SplitMix::new(1).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..100).collect::<Vec<_>>());
        a.sort_unstable();
        assert_eq!(a, (0..100).collect::<Vec<_>>());
    }
}
