//! Random secrets from the operating system's generator: generated passwords, the
//! embedded default's JWT secret and database password.

use argon2::password_hash::rand_core::{OsRng, RngCore};

/// `bytes` random bytes, hex-encoded.
pub fn hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    buffer.iter().map(|byte| format!("{byte:02x}")).collect()
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
