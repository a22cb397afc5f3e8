//! Live origin list values as someone who can write the store, past `corsgate live`, forges
//! them: edited, with the content hash made right again, so that only the gateway's own checks
//! (ceiling, generation, build) stand between the value and a decision.

use sha2::{Digest, Sha256};

/// The canonical value `value` with the first `from` replaced by `to`, its `content_sha256`
/// recomputed over the edited routes.
pub fn rehashed(value: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(value.to_vec())
        .expect("a canonical value is ASCII")
        .replacen(from, to, 1);
    let start = text.find("\"routes\":").expect("a routes key") + 9;
    let end = text.rfind(",\"version\"").expect("a version key");
    let hash: String = Sha256::digest(&text.as_bytes()[start..end])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let at = text.find("\"content_sha256\":\"").expect("a content hash") + 18;
    format!("{}{hash}{}", &text[..at], &text[at + 64..]).into_bytes()
}
