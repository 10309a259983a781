//! Errors of operations, as the API and the pages answer them.

use hoshu_storage::StorageError;

/// Why an operation was refused; the message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for OpError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::VendorTaken(_)
            | StorageError::NameTaken(_)
            | StorageError::LoginTaken(_) => OpError::Conflict(err.to_string()),
            StorageError::NoSuchVendor(_)
            | StorageError::NoSuchSystem(_)
            | StorageError::NoSuchUser(_) => OpError::NotFound(err.to_string()),
            other => OpError::Storage(other),
        }
    }
}

impl From<OpError> for super::web::ApiError {
    fn from(err: OpError) -> Self {
        use axum::http::StatusCode;
        match err {
            OpError::Invalid(m) => super::web::ApiError::new(StatusCode::BAD_REQUEST, m),
            OpError::NotFound(m) => super::web::ApiError::new(StatusCode::NOT_FOUND, m),
            OpError::Conflict(m) => super::web::ApiError::new(StatusCode::CONFLICT, m),
            OpError::Forbidden(m) => super::web::ApiError::new(StatusCode::FORBIDDEN, m),
            OpError::Storage(e) => super::web::ApiError::internal(e),
        }
    }
}

pub type OpResult<T> = Result<T, OpError>;
