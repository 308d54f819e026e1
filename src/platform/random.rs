//! Random secrets from the operating system's generator: generated passwords, the
//! embedded default's JWT secret and database password, webhook secrets; and the
//! jitter of webhook retries.

use argon2::password_hash::rand_core::{OsRng, RngCore};

/// `bytes` random bytes, hex-encoded.
pub fn hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    super::hex::encode(&buffer)
}

/// `bytes` random bytes.
pub fn bytes(count: usize) -> Vec<u8> {
    let mut buffer = vec![0u8; count];
    OsRng.fill_bytes(&mut buffer);
    buffer
}

/// A number from 0 to `bound` - 1 (`bound` > 0), for jitter, not secrets.
pub fn below(bound: u32) -> u32 {
    OsRng.next_u32() % bound.max(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn random_hex_is_hex_and_differs() {
        let a = super::hex(16);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, super::hex(16));
    }
}
