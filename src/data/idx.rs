//! The IDX format of MNIST and Fashion-MNIST: a magic number (`0x0000`, type `0x08` = u8, the
//! number of dimensions), the dimensions as big-endian u32, then the bytes.

use crate::error::{Error, Result};

/// A parsed IDX file of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    /// e.g. `[60000, 28, 28]` for images, `[60000]` for labels.
    pub dims: Vec<usize>,
    /// `dims.iter().product()` bytes, row-major.
    pub data: Vec<u8>,
}

/// Parses an (uncompressed) IDX file of unsigned bytes.
///
/// # Errors
/// [`Error::BadInput`] when the header is not IDX/u8 or the data is shorter or longer than the
/// dimensions say.
pub fn parse_idx(bytes: &[u8]) -> Result<Idx> {
    let bad = |msg: String| Error::BadInput(format!("not an IDX file of bytes: {msg}"));
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad("missing the 0x0000 magic".into()));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!(
            "element type 0x{:02x} is not u8 (0x08)",
            bytes[2]
        )));
    }
    let rank = usize::from(bytes[3]);
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(bad(format!("truncated header for {rank} dimensions")));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("dimensions {dims:?} overflow")))?;
    let data = &bytes[header..];
    if data.len() != expected {
        return Err(bad(format!(
            "dimensions {dims:?} need {expected} bytes, found {}",
            data.len()
        )));
    }
    Ok(Idx {
        dims,
        data: data.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn parses_images_and_labels() {
        let images = parse_idx(&idx(&[2, 2, 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])).unwrap();
        assert_eq!(images.dims, vec![2, 2, 3]);
        assert_eq!(images.data[11], 12);
        let labels = parse_idx(&idx(&[3], &[7, 2, 1])).unwrap();
        assert_eq!((labels.dims, labels.data), (vec![3], vec![7, 2, 1]));
    }

    #[test]
    fn rejects_wrong_magic_type_and_length() {
        assert!(parse_idx(&[1, 0, 8, 1, 0, 0, 0, 1, 5]).is_err());
        assert!(parse_idx(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 5]).is_err());
        assert!(parse_idx(&idx(&[3], &[1, 2])).is_err());
        assert!(parse_idx(&idx(&[3], &[1, 2, 3, 4])).is_err());
        assert!(parse_idx(&[0, 0, 8, 2, 0, 0]).is_err());
    }
}
