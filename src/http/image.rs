//! Images sent and served: ticket photos, scans of signed paper ballots. The type a client
//! names is not trusted; the bytes are ([`image_type`]).
use poem_openapi::{
    ApiRequest, ApiResponse,
    payload::{Binary, Payload},
    registry::{MetaMediaType, MetaResponse, MetaResponses, Registry},
};

use crate::error::Error;

/// The largest image accepted.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// The image types accepted, told from the bytes themselves (never from a name or a header).
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

/// An uploaded image's type, or a 400 on `field` saying what is wrong with it.
pub fn checked_image(field: &str, bytes: &[u8]) -> Result<&'static str, Error> {
    if bytes.is_empty() {
        return Err(Error::invalid(field, format!("{field}: send the image as the body")));
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(Error::invalid(field, format!("{field}: an image is at most {} MB", MAX_IMAGE_BYTES / 1024 / 1024)));
    }
    image_type(bytes).ok_or_else(|| Error::invalid(field, format!("{field}: a JPEG, PNG or WebP image is needed (told by its content, not its name)")))
}

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

/// The types an image is served as.
const IMAGE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// A stored image, served with its type. One 200 response documents the three types: the
/// derived `ApiResponse` of one variant per type kept only the last in the OpenAPI document,
/// which then said every image was WebP (found by schemathesis).
pub struct ImageFile {
    content_type: &'static str,
    bytes: Vec<u8>,
}

impl ImageFile {
    pub fn new(content_type: &str, bytes: Vec<u8>) -> ImageFile {
        let content_type = IMAGE_TYPES.into_iter().find(|t| *t == content_type).unwrap_or(IMAGE_TYPES[0]);
        ImageFile { content_type, bytes }
    }
}

impl ApiResponse for ImageFile {
    fn meta() -> MetaResponses {
        let content = IMAGE_TYPES.into_iter().map(|content_type| MetaMediaType { content_type, schema: Binary::<Vec<u8>>::schema_ref() }).collect();
        MetaResponses { responses: vec![MetaResponse { description: "The image", status: Some(200), status_range: None, content, headers: vec![] }] }
    }

    fn register(_registry: &mut Registry) {}
}

impl poem::IntoResponse for ImageFile {
    fn into_response(self) -> poem::Response {
        poem::Response::builder().content_type(self.content_type).body(self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_bytes() {
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"GIF89a"), None);
        assert_eq!(image_type(b"<svg xmlns"), None);
        assert_eq!(image_type(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert!(checked_image("scan", &[]).is_err());
        assert!(checked_image("scan", &vec![0xFF; MAX_IMAGE_BYTES + 1]).is_err());
    }
}
