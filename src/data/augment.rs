//! Digit augmentation: small translations, rotations and scalings, and elastic distortions,
//! which help LeNet-5 generalise from a few thousand digits.

use super::SplitMix;

/// `image` moved by `dx` columns and `dy` rows, with zeros shifted in.
pub fn shift(image: &[u8], shape: [usize; 3], dx: isize, dy: isize) -> Vec<u8> {
    affine(image, shape, 0.0, 1.0, dx as f32, dy as f32)
}

/// `image` rotated by `angle` radians and scaled by `scale` about its centre, then moved by
/// (`dx`, `dy`) pixels; bilinear sampling, zeros outside.
pub fn affine(
    image: &[u8],
    shape: [usize; 3],
    angle: f32,
    scale: f32,
    dx: f32,
    dy: f32,
) -> Vec<u8> {
    let [c, h, w] = shape;
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    let (sin, cos) = angle.sin_cos();
    let mut out = vec![0u8; image.len()];
    for y in 0..h {
        for x in 0..w {
            // Inverse map: where in the source does output pixel (x, y) come from?
            let (ox, oy) = (x as f32 - cx - dx, y as f32 - cy - dy);
            let sx = (cos * ox + sin * oy) / scale + cx;
            let sy = (-sin * ox + cos * oy) / scale + cy;
            for ch in 0..c {
                out[(ch * h + y) * w + x] = sample(image, shape, ch, sx, sy);
            }
        }
    }
    out
}

/// Channel `ch` of `image` at (`sx`, `sy`), bilinear, zero outside.
fn sample(image: &[u8], [_, h, w]: [usize; 3], ch: usize, sx: f32, sy: f32) -> u8 {
    let (x0, y0) = (sx.floor(), sy.floor());
    let (fx, fy) = (sx - x0, sy - y0);
    let at = |yy: f32, xx: f32| -> f32 {
        if yy < 0.0 || xx < 0.0 || yy >= h as f32 || xx >= w as f32 {
            0.0
        } else {
            f32::from(image[(ch * h + yy as usize) * w + xx as usize])
        }
    };
    let v = at(y0, x0) * (1.0 - fx) * (1.0 - fy)
        + at(y0, x0 + 1.0) * fx * (1.0 - fy)
        + at(y0 + 1.0, x0) * (1.0 - fx) * fy
        + at(y0 + 1.0, x0 + 1.0) * fx * fy;
    v.round().clamp(0.0, 255.0) as u8
}

/// Elastic distortion (Simard, Steinkraus & Platt, 2003): every pixel moves by a random
/// displacement, uniform in ±1, smoothed by a Gaussian of `sigma` pixels and scaled by
/// `alpha` pixels; bilinear sampling, zeros outside.
pub fn elastic(
    image: &[u8],
    shape: [usize; 3],
    alpha: f32,
    sigma: f32,
    rng: &mut SplitMix,
) -> Vec<u8> {
    let [c, h, w] = shape;
    let field = |rng: &mut SplitMix| -> Vec<f32> {
        let noise: Vec<f32> = (0..h * w).map(|_| rng.unit() * 2.0 - 1.0).collect();
        let smooth = gaussian_blur(&noise, h, w, sigma);
        // Normalise so that `alpha` is the largest displacement's size, whatever `sigma`.
        let peak = smooth.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
        smooth.iter().map(|v| v / peak * alpha).collect()
    };
    let (dx, dy) = (field(rng), field(rng));
    let mut out = vec![0u8; image.len()];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            for ch in 0..c {
                out[ch * h * w + i] = sample(image, shape, ch, x as f32 + dx[i], y as f32 + dy[i]);
            }
        }
    }
    out
}

/// A separable Gaussian blur of an `h`×`w` plane (edges clamped).
fn gaussian_blur(plane: &[f32], h: usize, w: usize, sigma: f32) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|k| (-((k * k) as f32) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let pass = |src: &[f32], along_x: bool| -> Vec<f32> {
        let mut dst = vec![0.0; src.len()];
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for (k, weight) in (-radius..=radius).zip(&kernel) {
                    let (sx, sy) = if along_x {
                        ((x as isize + k).clamp(0, w as isize - 1) as usize, y)
                    } else {
                        (x, (y as isize + k).clamp(0, h as isize - 1) as usize)
                    };
                    acc += weight * src[sy * w + sx];
                }
                dst[y * w + x] = acc / total;
            }
        }
        dst
    };
    pass(&pass(plane, true), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_right_and_down_with_zero_fill() {
        let image = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(
            shift(&image, [1, 3, 3], 1, 0),
            vec![0, 1, 2, 0, 4, 5, 0, 7, 8]
        );
        assert_eq!(
            shift(&image, [1, 3, 3], 0, -1),
            vec![4, 5, 6, 7, 8, 9, 0, 0, 0]
        );
        assert_eq!(shift(&image, [1, 3, 3], 0, 0), image.to_vec());
    }

    #[test]
    fn a_quarter_turn_moves_the_top_row_to_the_side() {
        let image = [9, 9, 9, 0, 0, 0, 0, 0, 0];
        let turned = affine(
            &image,
            [1, 3, 3],
            std::f32::consts::FRAC_PI_2,
            1.0,
            0.0,
            0.0,
        );
        // Rotating by +90° (y down) sends the top row to the right-hand column.
        assert_eq!(turned, vec![0, 0, 9, 0, 0, 9, 0, 0, 9]);
    }

    #[test]
    fn elastic_distortion_moves_ink_a_little_and_keeps_a_blank_image_blank() {
        let mut image = vec![0u8; 28 * 28];
        for y in 4..24 {
            image[y * 28 + 14] = 255;
        }
        let mut rng = SplitMix::new(3);
        let bent = elastic(&image, [1, 28, 28], 2.0, 4.0, &mut rng);
        assert_ne!(bent, image);
        let ink = |im: &[u8]| im.iter().map(|&v| u32::from(v)).sum::<u32>() as f32;
        // Displacements are at most 2 pixels: the stroke stays about as long.
        assert!((ink(&bent) / ink(&image) - 1.0).abs() < 0.3);
        assert!(
            elastic(&[0; 784], [1, 28, 28], 2.0, 4.0, &mut rng)
                .iter()
                .all(|&v| v == 0)
        );
        // Seeded: the same generator state gives the same distortion.
        let again = elastic(&image, [1, 28, 28], 2.0, 4.0, &mut SplitMix::new(3));
        assert_eq!(bent, again);
    }
}
