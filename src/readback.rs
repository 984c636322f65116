//! Reading tensors back to the host. Always asynchronous, because a browser cannot block on the
//! GPU; several tensors are read in one transaction so the GPU is waited on once.

use burn::prelude::Tensor;
use burn::tensor::Transaction;

use crate::error::{Error, Result};

/// Reads one float tensor as `f32` values in row-major order.
///
/// # Errors
/// [`Error::Backend`] when the device fails to deliver the data.
pub async fn read<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    Ok(read_all(vec![tensor]).await?.remove(0))
}

/// Reads several float tensors of one rank in a single transaction.
///
/// # Errors
/// [`Error::Backend`] when the device fails to deliver the data.
pub async fn read_all<const D: usize>(tensors: Vec<Tensor<D>>) -> Result<Vec<Vec<f32>>> {
    let transaction = tensors
        .into_iter()
        .fold(Transaction::default(), |t, tensor| t.register(tensor));
    let data = transaction
        .execute_async()
        .await
        .map_err(|e| Error::Backend(format!("reading a result from the device failed: {e:?}")))?;
    data.into_iter()
        .map(|d| {
            d.convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| Error::Backend(format!("unexpected tensor data: {e:?}")))
        })
        .collect()
}
