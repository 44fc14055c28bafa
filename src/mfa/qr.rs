//! A QR code drawn as SVG, server-side, so that binding an authenticator needs no JavaScript.
//! `qrcodegen` computes the modules; this draws them as one path.
use qrcodegen::{QrCode, QrCodeEcc};

/// `text` as an SVG document (4 modules of quiet zone), or `None` if it does not fit a QR code.
pub fn svg(text: &str) -> Option<String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = size + border * 2;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// The SVG as a `data:` URL, for an `<img src>` (Logto's `secretQrCode` is a PNG data URL;
/// an SVG one works in the same places).
pub fn data_url(text: &str) -> Option<String> {
    svg(text).map(|s| {
        format!(
            "data:image/svg+xml;base64,{}",
            crate::crypto::base64::std_encode(s.as_bytes())
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_otpauth_uri_becomes_an_svg_qr_code() {
        let svg = super::svg("otpauth://totp/x:y?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<path d=\"M"));
        assert!(super::data_url("hello")
            .unwrap()
            .starts_with("data:image/svg+xml;base64,"));
    }
}
