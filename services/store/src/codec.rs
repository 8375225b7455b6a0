//! Value encodings. Each value is one format byte followed by postcard; a value in an unknown
//! format is reported as corruption rather than misread.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::StoreError;

const FORMAT_V1: u8 = 1;

pub fn encode<T: Serialize>(record: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    let mut bytes = vec![FORMAT_V1];
    let body = postcard::to_stdvec(value).map_err(|error| StoreError::Corrupt {
        record,
        detail: format!("cannot encode: {error}"),
    })?;
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

pub fn decode<T: DeserializeOwned>(record: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_V1, body)) => {
            postcard::from_bytes(body).map_err(|error| StoreError::Corrupt {
                record,
                detail: error.to_string(),
            })
        }
        Some((format, _)) => Err(StoreError::Corrupt {
            record,
            detail: format!("unknown format byte {format}"),
        }),
        None => Err(StoreError::Corrupt {
            record,
            detail: "empty value".into(),
        }),
    }
}
