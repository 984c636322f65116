//! Any image → the input a network reads: channels converted (RGB → grey by luminance, grey →
//! RGB by repetition) and the size changed (area averaging when shrinking, bilinear when
//! growing), so that a photo, a canvas or a 28×28 digit all feed the same model.

use super::images::check_finite;
use crate::error::{Error, Result};

pub use crate::limits::{MAX_BATCH, MAX_SIDE};

/// `pixels` (`[c, h, w]`, channel-major, values in `[0, 1]`) converted to `[c', h', w']`.
///
/// # Errors
/// [`Error::BadInput`] when the shape is empty, larger than [`MAX_SIDE`], has 2 or more than 4
/// channels, does not match `pixels.len()`, or a value is NaN or infinite.
pub fn fit_image(pixels: &[f32], from: [usize; 3], to: [usize; 3]) -> Result<Vec<f32>> {
    let [c, h, w] = from;
    if c == 0 || h == 0 || w == 0 || h > MAX_SIDE || w > MAX_SIDE {
        return Err(Error::BadInput(format!(
            "image shape {from:?} is empty or larger than {MAX_SIDE} pixels a side"
        )));
    }
    if !matches!(c, 1 | 3 | 4) {
        return Err(Error::BadInput(format!(
            "an image needs 1 (grey), 3 (RGB) or 4 (RGBA) channels, got {c}"
        )));
    }
    if pixels.len() != c * h * w {
        return Err(Error::BadInput(format!(
            "shape {from:?} needs {} values, got {}",
            c * h * w,
            pixels.len()
        )));
    }
    check_finite(pixels)?;
    let planes = convert_channels(pixels, c, h * w, to[0]);
    let (rows, cols) = (weights(h, to[1]), weights(w, to[2]));
    let mut out = Vec::with_capacity(to.iter().product());
    for plane in planes.chunks_exact(h * w) {
        // Columns first (each source row → `to[2]` values), then rows.
        let narrowed: Vec<f32> = plane
            .chunks_exact(w)
            .flat_map(|row| cols.iter().map(move |taps| apply(taps, |x| row[x])))
            .collect();
        for taps in &rows {
            for x in 0..to[2] {
                out.push(apply(taps, |y| narrowed[y * to[2] + x]));
            }
        }
    }
    Ok(out)
}

/// Several images of one shape (`pixels` laid out `[n, c, h, w]`, image after image), each
/// fitted to `to` as by [`fit_image`]; the result is `n` images of `to`, image after image.
///
/// # Errors
/// [`Error::BadInput`] when `n` is 0 or above [`MAX_BATCH`], `pixels.len()` is not `n·c·h·w`,
/// or an image is rejected by [`fit_image`].
pub fn fit_images(pixels: &[f32], from: [usize; 4], to: [usize; 3]) -> Result<Vec<f32>> {
    let [n, c, h, w] = from;
    if n == 0 || n > MAX_BATCH {
        return Err(Error::BadInput(format!(
            "a batch holds 1 to {MAX_BATCH} images, got {n}"
        )));
    }
    let per = c
        .checked_mul(h)
        .and_then(|v| v.checked_mul(w))
        .filter(|&p| p > 0)
        .ok_or_else(|| {
            Error::BadInput(format!("image shape {:?} is empty or too large", [c, h, w]))
        })?;
    if n.checked_mul(per) != Some(pixels.len()) {
        return Err(Error::BadInput(format!(
            "shape {from:?} needs {n}×{per} values, got {}",
            pixels.len()
        )));
    }
    if [c, h, w] == to {
        // Already the network's input: only the values need checking.
        check_finite(pixels)?;
        return Ok(pixels.to_vec());
    }
    let mut out = Vec::with_capacity(n * to.iter().product::<usize>());
    for image in pixels.chunks_exact(per) {
        out.extend(fit_image(image, [c, h, w], to)?);
    }
    Ok(out)
}

/// As [`fit_images`], after cutting each image to a centred square `fraction` of its shorter
/// side (the evaluation crop of ImageNet models; of an odd margin, the extra pixel is cut at the
/// top or left).
///
/// # Errors
/// As for [`fit_images`]; [`Error::BadInput`] for a fraction outside (0, 1].
pub fn fit_images_cropped(
    pixels: &[f32],
    from: [usize; 4],
    to: [usize; 3],
    fraction: f32,
) -> Result<Vec<f32>> {
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(Error::BadInput(format!(
            "a centre crop keeps a fraction in (0, 1] of the image, got {fraction}"
        )));
    }
    let [n, c, h, w] = from;
    let per = c.checked_mul(h).and_then(|v| v.checked_mul(w));
    // Anything malformed is named by fit_images.
    if n == 0 || per.is_none_or(|p| p == 0 || n.checked_mul(p) != Some(pixels.len())) {
        return fit_images(pixels, from, to);
    }
    let short = h.min(w);
    let side = ((fraction * short as f32).round() as usize).clamp(1, short);
    let (top, left) = ((h - side).div_ceil(2), (w - side).div_ceil(2));
    let mut cropped = Vec::with_capacity(n * c * side * side);
    for plane in pixels.chunks_exact(h * w) {
        for row in plane.chunks_exact(w).skip(top).take(side) {
            cropped.extend_from_slice(&row[left..left + side]);
        }
    }
    fit_images(&cropped, [n, c, side, side], to)
}

/// As [`fit_images`], preparing each image as MNIST's digits were made: greyscale, light ink on
/// a dark field (an image that is mostly light, dark ink on paper, is inverted), the ink's
/// bounding box scaled into a box of 20/28 of the output's side keeping its aspect ratio, and
/// placed so that its centre of mass is the output's centre. An image without ink (nothing
/// above 0.1) becomes black.
///
/// # Errors
/// As for [`fit_images`].
pub fn fit_images_centred_digit(
    pixels: &[f32],
    from: [usize; 4],
    to: [usize; 3],
) -> Result<Vec<f32>> {
    let [n, _, h, w] = from;
    // Greyscale at the image's own size: fit_images checks the shape and the values.
    let grey = fit_images(pixels, from, [1, h, w])?;
    let [channels, th, tw] = to;
    let mut out = Vec::with_capacity(n * channels * th * tw);
    for image in grey.chunks_exact(h * w) {
        let plane = centred_digit(image, h, w, th, tw)?;
        for _ in 0..channels {
            out.extend_from_slice(&plane);
        }
    }
    Ok(out)
}

/// How [`centred_digit`] lays out one image's ink: its bounding box in the image
/// (`x0`, `y0`, `bw`×`bh`), scaled to `sw`×`sh` (`small`) and placed at (`ox`, `oy`).
struct DigitLayout {
    x0: usize,
    y0: usize,
    bw: usize,
    bh: usize,
    sw: usize,
    sh: usize,
    ox: isize,
    oy: isize,
    small: Vec<f32>,
}

/// The layout of one greyscale `h`×`w` image's ink in a `th`×`tw` output; None without ink.
fn digit_layout(
    image: &[f32],
    h: usize,
    w: usize,
    th: usize,
    tw: usize,
) -> Result<Option<DigitLayout>> {
    let mean = image.iter().sum::<f32>() / image.len() as f32;
    let ink: Vec<f32> = if mean > 0.5 {
        image.iter().map(|v| 1.0 - v).collect()
    } else {
        image.to_vec()
    };
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    let mut any = false;
    for (i, &v) in ink.iter().enumerate() {
        if v > 0.1 {
            let (y, x) = (i / w, i % w);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            any = true;
        }
    }
    if !any {
        return Ok(None);
    }
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    let boxed = (20.0 / 28.0 * th.min(tw) as f32).round().max(1.0);
    let scale = boxed / bw.max(bh) as f32;
    let (sw, sh) = (
        ((bw as f32 * scale).round() as usize).max(1),
        ((bh as f32 * scale).round() as usize).max(1),
    );
    let crop: Vec<f32> = (y0..=y1)
        .flat_map(|y| ink[y * w + x0..=y * w + x1].iter().copied())
        .collect();
    let small = fit_image(&crop, [1, bh, bw], [1, sh, sw])?;
    let (mut mass, mut cx, mut cy) = (0.0f32, 0.0f32, 0.0f32);
    for (i, &v) in small.iter().enumerate() {
        mass += v;
        cx += v * (i % sw) as f32;
        cy += v * (i / sw) as f32;
    }
    let centre = |side: usize, c: f32, fallback: usize| -> isize {
        if mass > 0.0 {
            ((side as f32 - 1.0) / 2.0 - c / mass).round() as isize
        } else {
            fallback as isize
        }
    };
    let (ox, oy) = (
        centre(tw, cx, (tw - sw.min(tw)) / 2),
        centre(th, cy, (th - sh.min(th)) / 2),
    );
    Ok(Some(DigitLayout {
        x0,
        y0,
        bw,
        bh,
        sw,
        sh,
        ox,
        oy,
        small,
    }))
}

/// One greyscale `h`×`w` image → the `th`×`tw` centred digit of [`fit_images_centred_digit`].
fn centred_digit(image: &[f32], h: usize, w: usize, th: usize, tw: usize) -> Result<Vec<f32>> {
    let mut out = vec![0.0; th * tw];
    let Some(layout) = digit_layout(image, h, w, th, tw)? else {
        return Ok(out);
    };
    for (i, &v) in layout.small.iter().enumerate() {
        let (tx, ty) = (
            (i % layout.sw) as isize + layout.ox,
            (i / layout.sw) as isize + layout.oy,
        );
        if (0..tw as isize).contains(&tx) && (0..th as isize).contains(&ty) {
            // The resize's filter may overshoot a little at the ink's edges.
            out[ty as usize * tw + tx as usize] = v.clamp(0.0, 1.0);
        }
    }
    Ok(out)
}

/// Where an image's pixels went in the network's input: the rectangle `from` of the image
/// (`[left, top, right, bottom]`, in image pixels, continuous) was drawn onto the rectangle `to`
/// of the input (in input pixels), scaled along each axis; nothing else of the image reached the
/// input. It maps what is known about the input (an explanation's heat) back onto the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// The part of the image used.
    pub from: [f32; 4],
    /// Where it went in the input.
    pub to: [f32; 4],
}

impl Placement {
    /// An image of `h`×`w` resized to fill an input of `ih`×`iw`.
    pub fn resized([h, w]: [usize; 2], [ih, iw]: [usize; 2]) -> Self {
        Self {
            from: [0.0, 0.0, w as f32, h as f32],
            to: [0.0, 0.0, iw as f32, ih as f32],
        }
    }

    /// The centred square of [`fit_images_cropped`] resized to fill the input.
    pub fn cropped([h, w]: [usize; 2], input: [usize; 2], fraction: f32) -> Self {
        let short = h.min(w);
        let side = ((fraction * short as f32).round() as usize).clamp(1, short);
        let (top, left) = ((h - side).div_ceil(2), (w - side).div_ceil(2));
        let [ih, iw] = input;
        Self {
            from: [
                left as f32,
                top as f32,
                (left + side) as f32,
                (top + side) as f32,
            ],
            to: [0.0, 0.0, iw as f32, ih as f32],
        }
    }

    /// Where [`fit_images_centred_digit`] put the ink of one image (`pixels`, `[c, h, w]`) in
    /// an input of `ih`×`iw`; None for an image without ink (its input is black).
    ///
    /// # Errors
    /// As for [`fit_image`].
    pub fn centred_digit(
        pixels: &[f32],
        [c, h, w]: [usize; 3],
        [ih, iw]: [usize; 2],
    ) -> Result<Option<Self>> {
        let grey = fit_image(pixels, [c, h, w], [1, h, w])?;
        Ok(digit_layout(&grey, h, w, ih, iw)?.map(|l| Self {
            from: [
                l.x0 as f32,
                l.y0 as f32,
                (l.x0 + l.bw) as f32,
                (l.y0 + l.bh) as f32,
            ],
            to: [
                l.ox as f32,
                l.oy as f32,
                (l.ox + l.sw as isize) as f32,
                (l.oy + l.sh as isize) as f32,
            ],
        }))
    }

    /// `values` (`ih`×`iw`, over the input) carried back onto the image (`h`×`w`): each image
    /// pixel that reached the input takes the value where it landed (bilinear), the others 0.
    pub fn map_back(&self, values: &[f32], [ih, iw]: [usize; 2], [h, w]: [usize; 2]) -> Vec<f32> {
        let [x0, y0, x1, y1] = self.from;
        let [u0, v0, u1, v1] = self.to;
        let sample = |u: f32, v: f32| -> f32 {
            // Continuous input coordinates → pixel centres, clamped to the input.
            let (fx, fy) = (
                (u - 0.5).clamp(0.0, iw as f32 - 1.0),
                (v - 0.5).clamp(0.0, ih as f32 - 1.0),
            );
            let (ax, ay) = (fx.floor() as usize, fy.floor() as usize);
            let (bx, by) = ((ax + 1).min(iw - 1), (ay + 1).min(ih - 1));
            let (tx, ty) = (fx - ax as f32, fy - ay as f32);
            let at = |x: usize, y: usize| values[y * iw + x];
            let top = at(ax, ay) * (1.0 - tx) + at(bx, ay) * tx;
            let bottom = at(ax, by) * (1.0 - tx) + at(bx, by) * tx;
            top * (1.0 - ty) + bottom * ty
        };
        let mut out = vec![0.0; h * w];
        if ih == 0 || iw == 0 || values.len() != ih * iw || x1 <= x0 || y1 <= y0 {
            return out;
        }
        for y in 0..h {
            let py = y as f32 + 0.5;
            if py < y0 || py >= y1 {
                continue;
            }
            let v = v0 + (py - y0) * (v1 - v0) / (y1 - y0);
            for x in 0..w {
                let px = x as f32 + 0.5;
                if px < x0 || px >= x1 {
                    continue;
                }
                let u = u0 + (px - x0) * (u1 - u0) / (x1 - x0);
                if (0.0..iw as f32).contains(&u) && (0.0..ih as f32).contains(&v) {
                    out[y * w + x] = sample(u, v);
                }
            }
        }
        out
    }
}

/// Planes of `channels` values each, converted from `from` channels to `to`: RGB(A) → grey is
/// ITU-R BT.601 luminance (alpha dropped), grey → RGB repeats the plane.
fn convert_channels(pixels: &[f32], from: usize, plane: usize, to: usize) -> Vec<f32> {
    let at = |c: usize| &pixels[c * plane..(c + 1) * plane];
    match (from, to) {
        (f, 1) if f >= 3 => (0..plane)
            .map(|i| 0.299 * at(0)[i] + 0.587 * at(1)[i] + 0.114 * at(2)[i])
            .collect(),
        (1, t) => (0..t).flat_map(|_| at(0).iter().copied()).collect(),
        (f, t) => (0..t.min(f)).flat_map(|c| at(c).iter().copied()).collect(),
    }
}

/// For each of `to` output positions, the source positions and weights that make it.
fn weights(from: usize, to: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = from as f32 / to as f32;
    (0..to)
        .map(|o| {
            if scale > 1.0 {
                // Shrinking: the mean over [o·scale, (o+1)·scale), partial pixels weighted.
                let (start, end) = (o as f32 * scale, (o + 1) as f32 * scale);
                let mut taps = Vec::new();
                let mut i = start.floor() as usize;
                while (i as f32) < end && i < from {
                    let cover = (end.min(i as f32 + 1.0) - start.max(i as f32)) / scale;
                    taps.push((i, cover));
                    i += 1;
                }
                taps
            } else {
                // Growing (or equal): bilinear between the two nearest source centres.
                let centre = ((o as f32 + 0.5) * scale - 0.5).clamp(0.0, (from - 1) as f32);
                let i = centre.floor() as usize;
                let f = centre - i as f32;
                if i + 1 < from && f > 0.0 {
                    vec![(i, 1.0 - f), (i + 1, f)]
                } else {
                    vec![(i, 1.0)]
                }
            }
        })
        .collect()
}

fn apply(taps: &[(usize, f32)], value: impl Fn(usize) -> f32) -> f32 {
    taps.iter().map(|&(i, w)| w * value(i)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_carry_values_back_onto_the_image() {
        // Resize: every pixel reached the input.
        let flat = vec![1.0; 28 * 28];
        let back = Placement::resized([56, 84], [28, 28]).map_back(&flat, [28, 28], [56, 84]);
        assert!(back.iter().all(|&v| (v - 1.0).abs() < 1e-6));
        // A value in the input's top-left quarter lands in the image's top-left quarter.
        let mut corner = vec![0.0; 28 * 28];
        for y in 0..14 {
            for x in 0..14 {
                corner[y * 28 + x] = 1.0;
            }
        }
        let back = Placement::resized([56, 84], [28, 28]).map_back(&corner, [28, 28], [56, 84]);
        assert_eq!(back[10 * 84 + 20], 1.0);
        assert_eq!(back[40 * 84 + 70], 0.0);
        // A centre crop: what was cut off gets nothing.
        let crop = Placement::cropped([100, 60], [28, 28], 0.5);
        assert_eq!(crop.from, [15.0, 35.0, 45.0, 65.0]);
        let back = crop.map_back(&flat, [28, 28], [100, 60]);
        assert_eq!(back[50 * 60 + 30], 1.0);
        assert_eq!(back[10 * 60 + 30], 0.0);
        assert_eq!(back[50 * 60 + 5], 0.0);
        // A centred digit: only the ink's bounding box reached the input.
        let (h, w) = (48, 64);
        let mut page = vec![1.0; h * w];
        for y in 30..40 {
            for x in 5..12 {
                page[y * w + x] = 0.0; // dark ink on white paper
            }
        }
        let placed = Placement::centred_digit(&page, [1, h, w], [28, 28])
            .unwrap()
            .unwrap();
        assert_eq!(placed.from, [5.0, 30.0, 12.0, 40.0]);
        let back = placed.map_back(&flat, [28, 28], [h, w]);
        for y in 0..h {
            for x in 0..w {
                let inside = (30..40).contains(&y) && (5..12).contains(&x);
                assert_eq!(back[y * w + x] > 0.0, inside, "({y}, {x})");
            }
        }
        assert!(
            Placement::centred_digit(&vec![1.0; h * w], [1, h, w], [28, 28])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_same_shape_is_unchanged() {
        let pixels: Vec<f32> = (0..12).map(|v| v as f32 / 12.0).collect();
        assert_eq!(fit_image(&pixels, [1, 3, 4], [1, 3, 4]).unwrap(), pixels);
    }

    #[test]
    fn halving_averages_two_by_two_blocks() {
        let pixels = [0.0, 1.0, 0.2, 0.2, 1.0, 0.0, 0.4, 0.4];
        let out = fit_image(&pixels, [1, 2, 4], [1, 1, 2]).unwrap();
        assert!(
            (out[0] - 0.5).abs() < 1e-6 && (out[1] - 0.3).abs() < 1e-6,
            "{out:?}"
        );
    }

    #[test]
    fn a_uniform_photo_stays_uniform_at_any_size() {
        let out = fit_image(&vec![0.25; 3 * 50 * 37], [3, 50, 37], [1, 28, 28]).unwrap();
        assert_eq!(out.len(), 784);
        assert!(out.iter().all(|v| (v - 0.25).abs() < 1e-5), "{out:?}");
    }

    #[test]
    fn rgb_becomes_luminance_and_grey_becomes_three_planes() {
        let red = [1.0, 0.0, 0.0];
        assert!((fit_image(&red, [3, 1, 1], [1, 1, 1]).unwrap()[0] - 0.299).abs() < 1e-6);
        assert_eq!(fit_image(&[0.5], [1, 1, 1], [3, 1, 1]).unwrap(), [0.5; 3]);
    }

    #[test]
    fn a_batch_is_fitted_image_by_image() {
        // Two 1×2 images grown to 1×4 each: the same as fitting them one at a time.
        let out = fit_images(&[0.0, 1.0, 1.0, 0.0], [2, 1, 1, 2], [1, 1, 4]).unwrap();
        assert_eq!(out, [0.0, 0.25, 0.75, 1.0, 1.0, 0.75, 0.25, 0.0]);
        let same = fit_images(&[0.5; 8], [2, 1, 2, 2], [1, 2, 2]).unwrap();
        assert_eq!(same, [0.5; 8]);
    }

    #[test]
    fn bad_batches_are_bad_input() {
        for (pixels, shape) in [
            (vec![0.0; 4], [0, 1, 2, 2]),
            (vec![0.0; 4], [MAX_BATCH + 1, 1, 1, 1]),
            (vec![0.0; 7], [2, 1, 2, 2]),
            (vec![0.0; 4], [1, 1, usize::MAX, 2]),
            (vec![0.0, f32::INFINITY], [2, 1, 1, 1]),
            (vec![0.0; 8], [2, 2, 1, 2]),
        ] {
            let err = fit_images(&pixels, shape, [1, 1, 1]).unwrap_err();
            assert_eq!(err.code(), "BAD_INPUT", "{shape:?}");
        }
    }

    #[test]
    fn growing_interpolates_between_pixels() {
        let out = fit_image(&[0.0, 1.0], [1, 1, 2], [1, 1, 4]).unwrap();
        assert_eq!(out, [0.0, 0.25, 0.75, 1.0]);
    }

    #[test]
    fn bad_shapes_and_values_are_bad_input() {
        for (pixels, shape) in [
            (vec![], [1, 0, 0]),
            (vec![0.0; 4], [2, 1, 2]),
            (vec![0.0; 3], [1, 2, 2]),
            (vec![0.0; 1], [1, 1, MAX_SIDE + 1]),
            (vec![f32::NAN], [1, 1, 1]),
        ] {
            let err = fit_image(&pixels, shape, [1, 28, 28]).unwrap_err();
            assert_eq!(err.code(), "BAD_INPUT", "{shape:?}");
        }
    }

    #[test]
    fn a_small_dark_digit_on_paper_becomes_a_centred_light_one() {
        // A 100×60 white page with a black 10×30 bar near its top-left corner.
        let (h, w) = (100, 60);
        let mut page = vec![1.0f32; h * w];
        for y in 5..35 {
            for x in 3..13 {
                page[y * w + x] = 0.0;
            }
        }
        let out = fit_images_centred_digit(&page, [1, 1, h, w], [1, 28, 28]).unwrap();
        let (mut mass, mut cx, mut cy, mut tallest) = (0.0, 0.0, 0.0, 0);
        for (i, &v) in out.iter().enumerate() {
            mass += v;
            cx += v * (i % 28) as f32;
            cy += v * (i / 28) as f32;
            if v > 0.5 {
                tallest = tallest.max(i / 28);
            }
        }
        assert!((cx / mass - 13.5).abs() <= 0.6 && (cy / mass - 13.5).abs() <= 0.6);
        // The bar's 30 rows fill the 20-pixel box: rows 4..24.
        assert!((22..=24).contains(&tallest), "{tallest}");
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
        // Light on dark stays the right way round; RGB input and RGB output work.
        let rgb: Vec<f32> = [0.0f32; 3]
            .iter()
            .flat_map(|_| page.iter().map(|v| 1.0 - v))
            .collect();
        let again = fit_images_centred_digit(&rgb, [1, 3, h, w], [3, 28, 28]).unwrap();
        assert_eq!(again.len(), 3 * 784);
        for (a, b) in again[..784].iter().zip(&out) {
            assert!((a - b).abs() < 1e-5);
        }
        // A blank page is black; a bad shape is named.
        let blank = fit_images_centred_digit(&vec![1.0; 400], [1, 1, 20, 20], [1, 28, 28]).unwrap();
        assert!(blank.iter().all(|&v| v == 0.0));
        assert!(fit_images_centred_digit(&[0.5; 10], [1, 1, 20, 20], [1, 28, 28]).is_err());
    }
}
