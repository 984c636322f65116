//! The one error type of convlens. Its `Display` is the message a user sees; its [`Error::code`]
//! is the stable identifier JS code can branch on.

use std::fmt;

/// Everything that can go wrong in convlens, with a message a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input tensor or image has the wrong size, shape, or holds non-finite values.
    BadInput(String),
    /// Weight bytes are corrupt or do not fit the architecture they were loaded into.
    BadWeights(String),
    /// WebGPU was requested explicitly but is not available.
    NoWebGpu(String),
    /// The backend failed while running a computation or reading a result back.
    Backend(String),
    /// Training was stopped by the caller (the model keeps the last completed step).
    Aborted(String),
    /// The model was disposed; create or load a new one.
    Disposed,
    /// A second `fit` was started while one is running on the same model.
    Busy(String),
}

impl Error {
    /// A stable, machine-readable code (`BAD_INPUT`, `BAD_WEIGHTS`, `NO_WEBGPU`, `BACKEND`,
    /// `ABORTED`, `DISPOSED`, `BUSY`).
    ///
    /// The codes are listed once, in [`crate::api::ErrorCode`].
    pub fn code(&self) -> &'static str {
        crate::api::ErrorCode::from(self).as_str()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadInput(msg) => write!(f, "bad input: {msg}"),
            Error::BadWeights(msg) => write!(f, "bad weights: {msg}"),
            Error::NoWebGpu(msg) => write!(f, "WebGPU is not available: {msg}"),
            Error::Backend(msg) => write!(f, "backend error: {msg}"),
            Error::Aborted(msg) => write!(f, "aborted: {msg}"),
            Error::Disposed => write!(
                f,
                "this model was disposed; load or create a new one to go on"
            ),
            Error::Busy(msg) => write!(f, "busy: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
