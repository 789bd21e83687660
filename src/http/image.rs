//! Images sent and served: ticket photos, scans of signed paper ballots. The type a client
//! names is not trusted; the bytes are (`tickets::rules::photo_type`).
use poem_openapi::{ApiRequest, ApiResponse, payload::Binary};

/// An image upload as the request body.
#[derive(ApiRequest)]
pub enum ImageUpload {
    #[oai(content_type = "image/jpeg")]
    Jpeg(Binary<Vec<u8>>),
    #[oai(content_type = "image/png")]
    Png(Binary<Vec<u8>>),
    #[oai(content_type = "image/webp")]
    Webp(Binary<Vec<u8>>),
    #[oai(content_type = "application/octet-stream")]
    Bytes(Binary<Vec<u8>>),
}

impl ImageUpload {
    pub fn into_bytes(self) -> Vec<u8> {
        let (ImageUpload::Jpeg(bytes) | ImageUpload::Png(bytes) | ImageUpload::Webp(bytes) | ImageUpload::Bytes(bytes)) = self;
        bytes.0
    }
}

/// A stored image, served with its type.
#[derive(ApiResponse)]
pub enum ImageFile {
    #[oai(status = 200, content_type = "image/jpeg")]
    Jpeg(Binary<Vec<u8>>),
    #[oai(status = 200, content_type = "image/png")]
    Png(Binary<Vec<u8>>),
    #[oai(status = 200, content_type = "image/webp")]
    Webp(Binary<Vec<u8>>),
}

impl ImageFile {
    pub fn new(content_type: &str, bytes: Vec<u8>) -> ImageFile {
        match content_type {
            "image/png" => ImageFile::Png(Binary(bytes)),
            "image/webp" => ImageFile::Webp(Binary(bytes)),
            _ => ImageFile::Jpeg(Binary(bytes)),
        }
    }
}
