//! Digit augmentation: small translations, which help LeNet-5 generalise from few digits.

/// `image` moved by `dx` columns and `dy` rows, with zeros shifted in.
pub fn shift(image: &[u8], shape: [usize; 3], dx: isize, dy: isize) -> Vec<u8> {
    let [c, h, w] = shape;
    let mut out = vec![0u8; image.len()];
    for ch in 0..c {
        for y in 0..h {
            let sy = y as isize - dy;
            if sy < 0 || sy >= h as isize {
                continue;
            }
            for x in 0..w {
                let sx = x as isize - dx;
                if sx >= 0 && sx < w as isize {
                    out[(ch * h + y) * w + x] = image[(ch * h + sy as usize) * w + sx as usize];
                }
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
}
