//! The secrets of API tokens for machines. A secret is `seesac_at_`, 43 random
//! base62 characters (256 bits from the operating system) and a 6-character CRC32
//! checksum of them, as GitHub's tokens are: the fixed prefix lets secret scanners
//! find a leaked one, and the checksum lets them (and us) tell a real one from a
//! typo without asking the database. Only a SHA-256 hash of a secret is stored: the
//! secret is random enough that a slow hash would add nothing.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// What every secret starts with.
pub const PREFIX: &str = "seesac_at_";
const RANDOM_CHARS: usize = 43;
const CHECKSUM_CHARS: usize = 6;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `value` in base62, left-padded with zeros to `width` characters.
fn base62(mut value: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits).unwrap_or_default()
}

fn checksum(random: &str) -> String {
    base62(
        u64::from(crc32fast::hash(random.as_bytes())),
        CHECKSUM_CHARS,
    )
}

/// A new secret.
pub fn generate() -> String {
    let mut random = String::with_capacity(RANDOM_CHARS);
    let mut byte = [0u8; 1];
    while random.len() < RANDOM_CHARS {
        OsRng.fill_bytes(&mut byte);
        // 248 is the largest multiple of 62 below 256: no character is likelier.
        if byte[0] < 248 {
            random.push(char::from(BASE62[usize::from(byte[0] % 62)]));
        }
    }
    let checksum = checksum(&random);
    format!("{PREFIX}{random}{checksum}")
}

/// Whether `token` looks like one of our secrets: the prefix, the length, the
/// alphabet and a checksum that agrees.
pub fn is_well_formed(token: &str) -> bool {
    let Some(rest) = token.strip_prefix(PREFIX) else {
        return false;
    };
    if rest.len() != RANDOM_CHARS + CHECKSUM_CHARS || !rest.bytes().all(|b| BASE62.contains(&b)) {
        return false;
    }
    let (random, sum) = rest.split_at(RANDOM_CHARS);
    checksum(random) == sum
}

/// Whether a bearer token is meant as one of ours (well formed or not), rather than
/// a person's JWT.
pub fn looks_like_ours(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// What is stored of a secret.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The start of a secret, which lists show to tell tokens apart: the prefix and
/// four characters, 24 bits of 256.
pub fn hint(token: &str) -> String {
    token.chars().take(PREFIX.len() + 4).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_has_the_prefix_and_a_checksum_that_agrees() {
        let secret = generate();
        assert!(secret.starts_with("seesac_at_"));
        assert_eq!(secret.len(), PREFIX.len() + 43 + 6);
        assert!(is_well_formed(&secret));
        assert_ne!(secret, generate());
        // One character changed: the checksum tells.
        let mut typo = secret.clone().into_bytes();
        let at = PREFIX.len() + 5;
        typo[at] = if typo[at] == b'a' { b'b' } else { b'a' };
        assert!(!is_well_formed(
            &String::from_utf8(typo).unwrap_or_default()
        ));
        assert!(!is_well_formed("seesac_at_short"));
        assert!(!is_well_formed(&secret.replace("seesac_at_", "seesac_xx_")));
        assert_eq!(hint(&secret).len(), PREFIX.len() + 4);
        assert_eq!(hash(&secret).len(), 32);
    }

    #[test]
    fn base62_pads_and_counts() {
        assert_eq!(base62(0, 6), "000000");
        assert_eq!(base62(61, 2), "0z");
        assert_eq!(base62(62, 2), "10");
        assert_eq!(base62(u64::from(u32::MAX), 6).len(), 6);
    }
}
