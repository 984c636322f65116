//! The only place that chooses where tensors live.
//!
//! In a browser, [`select`] tries WebGPU (asynchronously, once per page) and falls back to Burn's
//! CPU backend (`flex`) when `navigator.gpu` or an adapter is missing. Natively, [`native`] gives
//! the CPU backend, or Burn's wgpu (Vulkan, Metal, DX12) or CUDA backend in a build with the
//! `wgpu` or `cuda` feature. Model code never asks which one it got.

use burn::prelude::Device;

use crate::error::{Error, Result};

/// Which backend the caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendRequest {
    /// WebGPU on a hardware adapter, the CPU backend otherwise: where `navigator.gpu` or an
    /// adapter is missing, and where the adapter is a software fallback (SwiftShader), which
    /// we measured ~40× slower than the CPU backend for these networks (README, Speed).
    #[default]
    Auto,
    /// WebGPU or an error ([`Error::NoWebGpu`]).
    WebGpu,
    /// Burn's CPU backend (`flex`).
    Cpu,
}

impl BackendRequest {
    /// Parses `"auto"`, `"webgpu"` or `"cpu"`.
    ///
    /// # Errors
    /// [`Error::BadInput`] for any other name.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "auto" => Ok(Self::Auto),
            "webgpu" => Ok(Self::WebGpu),
            "cpu" => Ok(Self::Cpu),
            other => Err(Error::BadInput(format!(
                "unknown backend {other:?}; use \"auto\", \"webgpu\" or \"cpu\""
            ))),
        }
    }
}

/// The backend that was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// The browser's WebGPU.
    WebGpu,
    /// Burn's CPU backend (`flex`).
    Cpu,
    /// Natively: Burn's wgpu backend (the browser's WebGPU kernels on Vulkan, Metal or DX12).
    #[cfg(not(target_arch = "wasm32"))]
    Wgpu,
    /// Natively: Burn's CUDA backend.
    #[cfg(not(target_arch = "wasm32"))]
    Cuda,
}

impl BackendKind {
    /// `"webgpu"` or `"cpu"` (natively also `"wgpu"` and `"cuda"`).
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "webgpu",
            BackendKind::Cpu => "cpu",
            #[cfg(not(target_arch = "wasm32"))]
            BackendKind::Wgpu => "wgpu",
            #[cfg(not(target_arch = "wasm32"))]
            BackendKind::Cuda => "cuda",
        }
    }
}

/// What the browser says about its WebGPU adapter (`GPUAdapterInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct AdapterInfo {
    /// e.g. `"google"`.
    pub vendor: String,
    /// e.g. `"swiftshader"`.
    pub architecture: String,
    /// Device name, often empty in browsers.
    pub device: String,
    /// Free-form description, often empty in browsers.
    pub description: String,
    /// True for a software adapter such as SwiftShader.
    pub is_fallback_adapter: bool,
}

/// A device together with what was chosen and why.
#[derive(Debug, Clone)]
pub struct SelectedBackend {
    /// Where tensors are created.
    pub device: Device,
    /// What runs them.
    pub kind: BackendKind,
    /// The WebGPU adapter, when `kind` is WebGPU.
    pub adapter: Option<AdapterInfo>,
    /// Why the CPU backend was chosen under [`BackendRequest::Auto`], if it was.
    pub fallback_reason: Option<String>,
}

impl SelectedBackend {
    /// Burn's CPU backend.
    pub fn cpu() -> Self {
        Self {
            device: Device::flex(),
            kind: BackendKind::Cpu,
            adapter: None,
            fallback_reason: None,
        }
    }

    fn cpu_because(reason: String) -> Self {
        Self {
            fallback_reason: Some(reason),
            ..Self::cpu()
        }
    }
}

/// How many threads the CPU backend's kernels run on: rayon's pool with the `threads` feature
/// (in a browser, the Web Workers `initThreadPool` started), else 1.
pub fn cpu_threads() -> usize {
    #[cfg(feature = "threads")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "threads"))]
    {
        1
    }
}

/// The WebGPU adapter this browser would give, without initialising Burn's runtime, or why
/// there is none.
///
/// # Errors
/// The reason, as a message, when `navigator.gpu` or an adapter is missing.
pub async fn webgpu_adapter() -> std::result::Result<AdapterInfo, String> {
    webgpu::probe().await
}

/// Chooses a device for `request`.
///
/// # Errors
/// [`Error::NoWebGpu`] when WebGPU was asked for explicitly and cannot be had.
pub async fn select(request: BackendRequest) -> Result<SelectedBackend> {
    run_static_constructors();
    match request {
        BackendRequest::Cpu => Ok(SelectedBackend::cpu()),
        BackendRequest::WebGpu => webgpu::init().await.map_err(Error::NoWebGpu),
        BackendRequest::Auto => Ok(match webgpu::probe().await {
            Ok(adapter) if adapter.is_fallback_adapter => SelectedBackend::cpu_because(format!(
                "the WebGPU adapter ({}) is a software fallback adapter, measured far slower \
                 than the CPU backend for these networks; ask for \"webgpu\" to use it anyway",
                [adapter.vendor.as_str(), adapter.architecture.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
            Ok(_) => match webgpu::init().await {
                Ok(selected) => selected,
                Err(reason) => SelectedBackend::cpu_because(reason),
            },
            Err(reason) => SelectedBackend::cpu_because(reason),
        }),
    }
}

/// Natively: the backend for `kind` (the CLI's `--backend`), initialised and checked with a
/// first computation, so that a missing driver is an error here rather than a panic later.
///
/// # Errors
/// [`Error::Backend`] naming the feature when this build lacks the backend, or what the driver
/// said when the machine has none; [`Error::BadInput`] for [`BackendKind::WebGpu`] (a browser's).
#[cfg(not(target_arch = "wasm32"))]
pub fn native(kind: BackendKind) -> Result<SelectedBackend> {
    match kind {
        BackendKind::Cpu => Ok(SelectedBackend::cpu()),
        BackendKind::WebGpu => Err(Error::BadInput(
            "backend \"webgpu\" is a browser's; natively use \"wgpu\" (the same kernels)".into(),
        )),
        BackendKind::Wgpu => native_gpu::wgpu(),
        BackendKind::Cuda => native_gpu::cuda(),
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod native_gpu {
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    use burn::prelude::Device;

    #[cfg(feature = "wgpu")]
    use super::AdapterInfo;
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    use super::BackendKind;
    use super::SelectedBackend;
    use crate::error::{Error, Result};

    #[cfg(not(feature = "wgpu"))]
    pub(super) fn wgpu() -> Result<SelectedBackend> {
        Err(Error::Backend(
            "this build of convlens has no wgpu backend; build it with `--features wgpu`".into(),
        ))
    }

    /// Burn's wgpu runtime on the adapter wgpu prefers (a discrete GPU first).
    #[cfg(feature = "wgpu")]
    pub(super) fn wgpu() -> Result<SelectedBackend> {
        let (device, setup) = Device::wgpu_options()
            .init_with_setup()
            .map_err(|e| Error::Backend(format!("wgpu found no usable adapter: {e}")))?;
        let info = setup.adapter.get_info();
        let adapter = AdapterInfo {
            vendor: info.driver.clone(),
            architecture: format!("{:?}", info.backend),
            device: info.name.clone(),
            description: info.driver_info.clone(),
            is_fallback_adapter: info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu,
        };
        check(&device)?;
        Ok(SelectedBackend {
            device,
            kind: BackendKind::Wgpu,
            adapter: Some(adapter),
            fallback_reason: None,
        })
    }

    #[cfg(not(feature = "cuda"))]
    pub(super) fn cuda() -> Result<SelectedBackend> {
        Err(Error::Backend(
            "this build of convlens has no CUDA backend; build it with `--features cuda`".into(),
        ))
    }

    /// The first CUDA device. The driver is loaded on first use, and a missing one panics inside
    /// cudarc: the first computation runs under `catch_unwind` so that it becomes an error.
    #[cfg(feature = "cuda")]
    pub(super) fn cuda() -> Result<SelectedBackend> {
        let device = Device::cuda(0);
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&device)));
        std::panic::set_hook(hook);
        outcome.map_err(|panic| {
            let said = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_default();
            Error::Backend(format!("no usable CUDA device: {said}"))
        })??;
        Ok(SelectedBackend {
            device,
            kind: BackendKind::Cuda,
            adapter: None,
            fallback_reason: None,
        })
    }

    /// A small computation read back, so that a device that cannot run kernels fails here.
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    fn check(device: &Device) -> Result<()> {
        let sum = burn::tensor::Tensor::<1>::ones([4], device)
            .sum()
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| Error::Backend(format!("reading a first result back: {e:?}")))?;
        if sum != [4.0] {
            return Err(Error::Backend(format!(
                "the device computed 1+1+1+1 = {sum:?}"
            )));
        }
        Ok(())
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod webgpu {
    use super::SelectedBackend;

    use super::AdapterInfo;

    const NONE: &str = "this native build of convlens has no WebGPU backend";

    pub(super) async fn probe() -> Result<AdapterInfo, String> {
        Err(NONE.to_string())
    }

    pub(super) async fn init() -> Result<SelectedBackend, String> {
        Err(NONE.to_string())
    }
}

#[cfg(target_arch = "wasm32")]
mod webgpu {
    //! WebGPU is initialised once per page (Burn's runtime cannot be set up twice); every later
    //! caller shares the first attempt's outcome, including concurrent callers. A module built
    //! without the `webgpu` feature (the npm package's CPU modules) can still look for an
    //! adapter, but not initialise one.

    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::AdapterInfo;
    #[cfg(feature = "webgpu")]
    pub(super) use with_burn::init;

    #[cfg(not(feature = "webgpu"))]
    pub(super) async fn init() -> Result<super::SelectedBackend, String> {
        Err(
            "this module of convlens has no WebGPU backend (built without the `webgpu` \
             feature); the npm package loads its WebGPU module when WebGPU is chosen"
                .to_string(),
        )
    }

    #[cfg(feature = "webgpu")]
    mod with_burn {
        use std::cell::RefCell;

        use burn::prelude::Device;
        use futures_util::FutureExt;
        use futures_util::future::{LocalBoxFuture, Shared};

        use super::super::{AdapterInfo, BackendKind, SelectedBackend};
        use super::probe_adapter;

        type Outcome = Result<(Device, AdapterInfo), String>;

        thread_local! {
            static ONCE: RefCell<Option<Shared<LocalBoxFuture<'static, Outcome>>>> =
                const { RefCell::new(None) };
        }

        pub(in super::super) async fn init() -> Result<SelectedBackend, String> {
            let shared = ONCE.with(|cell| {
                cell.borrow_mut()
                    .get_or_insert_with(|| acquire().boxed_local().shared())
                    .clone()
            });
            let (device, adapter) = shared.await?;
            Ok(SelectedBackend {
                device,
                kind: BackendKind::WebGpu,
                adapter: Some(adapter),
                fallback_reason: None,
            })
        }

        async fn acquire() -> Outcome {
            let adapter = probe_adapter().await?;
            let device = Device::wgpu_options()
                .init_async()
                .await
                .map_err(|e| format!("Burn could not initialise WebGPU: {e}"))?;
            Ok((device, adapter))
        }
    }

    fn get(target: &JsValue, key: &str) -> JsValue {
        Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    fn text(target: &JsValue, key: &str) -> String {
        get(target, key).as_string().unwrap_or_default()
    }

    /// The adapter WebGPU would run on, without initialising Burn's runtime.
    pub(super) async fn probe() -> Result<AdapterInfo, String> {
        probe_adapter().await
    }

    /// Asks `navigator.gpu` for an adapter, as Burn will, and reads its `GPUAdapterInfo`.
    async fn probe_adapter() -> Result<AdapterInfo, String> {
        let navigator = get(&js_sys::global(), "navigator");
        let gpu = get(&navigator, "gpu");
        if gpu.is_undefined() || gpu.is_null() {
            return Err(
                "navigator.gpu is missing: this browser has no WebGPU, or it is \
                        disabled (Chromium needs --enable-unsafe-webgpu on Linux)"
                    .to_string(),
            );
        }
        let request = get(&gpu, "requestAdapter")
            .dyn_into::<Function>()
            .map_err(|_| "navigator.gpu.requestAdapter is not a function".to_string())?;
        let promise = request
            .call0(&gpu)
            .map_err(|e| format!("navigator.gpu.requestAdapter() threw: {e:?}"))?;
        let adapter = JsFuture::from(Promise::from(promise))
            .await
            .map_err(|e| format!("navigator.gpu.requestAdapter() failed: {e:?}"))?;
        if adapter.is_null() || adapter.is_undefined() {
            return Err("navigator.gpu.requestAdapter() returned no adapter".to_string());
        }
        let info = get(&adapter, "info");
        // `isFallbackAdapter` moved from GPUAdapter to GPUAdapterInfo; read whichever exists.
        let fallback = get(&info, "isFallbackAdapter")
            .as_bool()
            .or_else(|| get(&adapter, "isFallbackAdapter").as_bool())
            .unwrap_or(false);
        Ok(AdapterInfo {
            vendor: text(&info, "vendor"),
            architecture: text(&info, "architecture"),
            device: text(&info, "device"),
            description: text(&info, "description"),
            is_fallback_adapter: fallback,
        })
    }
}

/// Runs the module's static constructors (the `inventory` registrations of Burn's WebGPU
/// compiler) exactly once. In wasm, a module that never calls `__wasm_call_ctors` itself is
/// linked "command-style": wasm-ld then makes *every* export run all constructors first, which
/// cost ~3 ms of every `classify` (measured with Chromium's profiler). Calling it here, from the
/// wasm-bindgen start function and before any device is chosen, tells the linker not to.
/// Natively constructors run before `main`, so this does nothing.
pub fn run_static_constructors() {
    #[cfg(target_arch = "wasm32")]
    {
        unsafe extern "C" {
            fn __wasm_call_ctors();
        }
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: the linker-synthesised function only runs the constructors of this module's
        // crates; `Once` keeps it to a single call per instance.
        ONCE.call_once(|| unsafe { __wasm_call_ctors() });
    }
}
