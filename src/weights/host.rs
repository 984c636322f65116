//! A module's parameters brought to the CPU backend with asynchronous reads, so that weights on
//! WebGPU can be saved in a browser (where every GPU read must be async and Burn's record
//! serialisation reads synchronously).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::{Device, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::readback::read_all;

/// A copy of `module` whose parameters (and BatchNorm statistics) live on the CPU backend,
/// read from its device in one batched, asynchronous transaction.
///
/// # Errors
/// [`Error::Backend`] when reading from the device fails.
pub async fn to_cpu<M: Module>(module: M) -> Result<M> {
    let mut collector = Collector::default();
    module.visit(&mut collector);
    let values = read_all(collector.tensors).await?;
    let mut mapper = Rebuild {
        values: values.into_iter(),
        shapes: collector.shapes.into_iter(),
        device: Device::flex(),
        missing: false,
    };
    let module = module.map(&mut mapper);
    if mapper.missing {
        return Err(Error::Backend(
            "the module changed while its parameters were read".into(),
        ));
    }
    Ok(module)
}

#[derive(Default)]
struct Collector {
    tensors: Vec<Tensor<1>>,
    shapes: Vec<Vec<usize>>,
}

impl ModuleVisitor for Collector {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let shape = value.dims().to_vec();
        self.tensors
            .push(value.reshape([shape.iter().product::<usize>()]));
        self.shapes.push(shape);
    }
}

struct Rebuild<V, S> {
    values: V,
    shapes: S,
    device: Device,
    missing: bool,
}

impl<V: Iterator<Item = Vec<f32>>, S: Iterator<Item = Vec<usize>>> ModuleMapper for Rebuild<V, S> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (Some(values), Some(shape)) = (self.values.next(), self.shapes.next()) else {
            self.missing = true;
            return param;
        };
        // A new parameter on the CPU backend (not `transform_for_load`, which would move the
        // value back to the parameter's device: a synchronous read when it is WebGPU).
        let value = Tensor::from_data(TensorData::new(values, shape), &self.device);
        Param::initialized(param.id, value)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::{ImageClassifier, VinConfig};
    use futures_lite::future::block_on;

    #[test]
    fn a_copy_gives_the_same_logits_and_bytes() {
        let device = Device::flex();
        let model = VinConfig::new()
            .with_image_size(12)
            .with_complexity_level(1)
            .init(&device);
        let x: Tensor<4> = Tensor::ones([2, 1, 12, 12], &device);
        let copy = block_on(to_cpu(model.clone())).unwrap();
        let (a, b) = (
            model.valid().logits(x.clone()).into_data(),
            copy.valid().logits(x).into_data(),
        );
        assert_eq!(a, b);
        assert_eq!(
            super::super::to_bytes(model).unwrap(),
            super::super::to_bytes(copy).unwrap()
        );
    }
}
