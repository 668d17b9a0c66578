//! Formatting of MJPEG `multipart/x-mixed-replace` parts for a live feed.

/// Multipart boundary used between frames.
pub const MJPEG_BOUNDARY: &str = "frame";

/// `Content-Type` header value of the whole MJPEG stream.
pub const MJPEG_CONTENT_TYPE: &str = "multipart/x-mixed-replace; boundary=frame";

/// Wraps one JPEG frame as a multipart part:
/// `--frame\r\nContent-Type: image/jpeg\r\nContent-Length: N\r\n\r\n<jpeg>\r\n`.
pub fn mjpeg_part(jpeg: &[u8]) -> Vec<u8> {
    let header = format!(
        "--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        jpeg.len()
    );
    let mut part = Vec::with_capacity(header.len() + jpeg.len() + 2);
    part.extend_from_slice(header.as_bytes());
    part.extend_from_slice(jpeg);
    part.extend_from_slice(b"\r\n");
    part
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_has_boundary_headers_and_payload() {
        let jpeg = [0xFF, 0xD8, 0x01, 0x02, 0xFF, 0xD9];
        let part = mjpeg_part(&jpeg);
        let head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 6\r\n\r\n";
        assert_eq!(&part[..head.len()], head);
        assert_eq!(&part[head.len()..head.len() + 6], &jpeg);
        assert_eq!(&part[head.len() + 6..], b"\r\n");
        assert!(MJPEG_CONTENT_TYPE.ends_with(&format!("boundary={MJPEG_BOUNDARY}")));
    }
}
