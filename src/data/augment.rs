//! Digit augmentation: small translations, rotations and scalings, which help LeNet-5
//! generalise from a few thousand digits.

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
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            for ch in 0..c {
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
                out[(ch * h + y) * w + x] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
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
}
