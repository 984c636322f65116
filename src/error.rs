//! The one error type of convlens. Its `Display` is the message a user sees; its [`Error::code`]
//! is the stable identifier JS code can branch on.

use std::fmt;

use serde::Serialize;

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
    /// A network file uses an operator or attribute convlens does not run (the message names
    /// the operator, the node and its index).
    Unsupported(String),
}

impl Error {
    /// A stable, machine-readable code (`BAD_INPUT`, `BAD_WEIGHTS`, `NO_WEBGPU`, `BACKEND`,
    /// `ABORTED`, `DISPOSED`, `BUSY`, `UNSUPPORTED`).
    ///
    /// The codes are listed once, in [`ErrorCode`].
    pub fn code(&self) -> &'static str {
        ErrorCode::from(self).as_str()
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
            Error::Unsupported(msg) => write!(f, "unsupported: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// Every error code convlens uses: the Rust core's ([`Error::code`]) and the two only the JS
/// layer gives (`NOT_FOUND`, `INTERNAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// A value the caller passed is wrong (the message names it).
    BadInput,
    /// Weights that are corrupt or not this architecture's.
    BadWeights,
    /// WebGPU was asked for and is missing.
    #[serde(rename = "NO_WEBGPU")]
    NoWebGpu,
    /// The backend failed, or a module could not be loaded.
    Backend,
    /// Training was stopped (an `AbortSignal`, or a callback that threw).
    Aborted,
    /// The model was disposed.
    Disposed,
    /// Another call holds the model (a second `fit`).
    Busy,
    /// A network file needs an operator or attribute convlens does not run.
    Unsupported,
    /// No shipped model or saved entry by that name.
    NotFound,
    /// A failure inside WebAssembly (a bug): the instance was restarted; load the models again.
    Internal,
}

impl ErrorCode {
    /// Every code, in this order.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::BadInput,
        ErrorCode::BadWeights,
        ErrorCode::NoWebGpu,
        ErrorCode::Backend,
        ErrorCode::Aborted,
        ErrorCode::Disposed,
        ErrorCode::Busy,
        ErrorCode::Unsupported,
        ErrorCode::NotFound,
        ErrorCode::Internal,
    ];

    /// The code as JS sees it, e.g. `"BAD_INPUT"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadInput => "BAD_INPUT",
            ErrorCode::BadWeights => "BAD_WEIGHTS",
            ErrorCode::NoWebGpu => "NO_WEBGPU",
            ErrorCode::Backend => "BACKEND",
            ErrorCode::Aborted => "ABORTED",
            ErrorCode::Disposed => "DISPOSED",
            ErrorCode::Busy => "BUSY",
            ErrorCode::Unsupported => "UNSUPPORTED",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl From<&Error> for ErrorCode {
    fn from(err: &Error) -> Self {
        match err {
            Error::BadInput(_) => ErrorCode::BadInput,
            Error::BadWeights(_) => ErrorCode::BadWeights,
            Error::NoWebGpu(_) => ErrorCode::NoWebGpu,
            Error::Backend(_) => ErrorCode::Backend,
            Error::Aborted(_) => ErrorCode::Aborted,
            Error::Disposed => ErrorCode::Disposed,
            Error::Busy(_) => ErrorCode::Busy,
            Error::Unsupported(_) => ErrorCode::Unsupported,
        }
    }
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_code_and_codes_serialise_as_js_sees_them() {
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
        }
        assert_eq!(
            ErrorCode::from(&Error::BadInput("x".into())).as_str(),
            Error::BadInput("x".into()).code()
        );
    }
}
