//! Bytes as lower-case hex, as `sha256sum` prints them: ETags, checksums, signed
//! URLs and random secrets all write theirs here.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` in hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(2 * bytes.len());
    push(&mut text, bytes);
    text
}

/// Appends `bytes` in hex to `text`: two digits a byte, written directly rather
/// than formatted one by one (every answer without a stored ETag makes one).
pub fn push(text: &mut String, bytes: &[u8]) {
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_are_two_lower_case_digits_each() {
        assert_eq!(super::encode(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::encode(&[]), "");
    }
}
