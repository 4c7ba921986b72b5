//! Small cryptographic helpers over aws-lc-rs: random handles, hashes, constant-time
//! comparison, and sealing of private keys at rest.

pub mod admin_key;
pub(crate) mod foreign;
pub mod jws;
pub mod keys;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{constant_time, digest, hkdf, rand};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// 256 random bits, base64url without padding (43 characters): client secrets,
/// opaque access tokens, and later codes and refresh tokens.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// 128 random bits, base64url: unique token ids (`jti`).
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The system RNG failing leaves nothing safe to do.
    rand::fill(&mut b).expect("system random number generator failed");
    b
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

/// Equality whose running time does not depend on where the inputs differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// The key that seals signing keys at rest (AES-256-GCM). The associated data binds
/// each sealed blob to its realm and `kid`, so a row copied to another realm or key
/// id fails to open instead of silently signing for the wrong tenant.
pub struct MasterKey {
    key: LessSafeKey,
    /// Kept to derive purpose-bound subkeys (HKDF); never leaves the process.
    raw: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
#[error("sealed data could not be opened (wrong master key or tampered row)")]
pub struct UnsealError;

impl MasterKey {
    pub const LEN: usize = 32;

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::LEN {
            return None;
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).ok()?;
        Some(Self {
            key: LessSafeKey::new(key),
            raw: bytes.try_into().ok()?,
        })
    }

    /// A key for one purpose only (HKDF-SHA256 with `purpose` as info), so that e.g.
    /// sealed browser state can never be opened as a sealed signing key.
    pub fn subkey(&self, purpose: &str) -> MasterKey {
        struct Len32;
        impl hkdf::KeyType for Len32 {
            fn len(&self) -> usize {
                32
            }
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"tessera").extract(&self.raw);
        let mut out = [0u8; 32];
        prk.expand(&[purpose.as_bytes()], Len32)
            .and_then(|okm| okm.fill(&mut out))
            .expect("HKDF-SHA256 yields 32 bytes");
        MasterKey::from_bytes(&out).expect("32 bytes make an AES-256 key")
    }

    /// HMAC-SHA256 of `data` under this key: a value only this server can compute, and
    /// the same every time (e.g. the TXT record that proves control of a domain).
    pub fn tag(&self, data: &[u8]) -> Vec<u8> {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.raw);
        aws_lc_rs::hmac::sign(&key, data).as_ref().to_vec()
    }

    pub fn generate_bytes() -> [u8; 32] {
        random_bytes::<32>()
    }

    /// Returns `nonce || ciphertext || tag`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(aad),
                &mut buf,
            )
            .expect("AES-GCM sealing of a small buffer cannot fail");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, UnsealError> {
        if sealed.len() < NONCE_LEN {
            return Err(UnsealError);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| UnsealError)?;
        let mut buf = ct.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .map_err(|_| UnsealError)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_carry_256_bits_in_url_safe_characters() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(t, random_token());
    }

    #[test]
    fn sealed_key_opens_only_with_the_same_master_key_and_binding() {
        let k = MasterKey::from_bytes(&[1; 32]).unwrap();
        let sealed = k.seal(b"secret", b"realm-a|kid-1");
        assert_eq!(k.open(&sealed, b"realm-a|kid-1").unwrap(), b"secret");
        assert!(k.open(&sealed, b"realm-b|kid-1").is_err());
        let other = MasterKey::from_bytes(&[2; 32]).unwrap();
        assert!(other.open(&sealed, b"realm-a|kid-1").is_err());
        assert!(k.open(&sealed[..5], b"realm-a|kid-1").is_err());
    }

    #[test]
    fn subkeys_differ_by_purpose_and_cannot_open_each_others_data() {
        let k = MasterKey::from_bytes(&[1; 32]).unwrap();
        let a = k.subkey("auth-state");
        let sealed = a.seal(b"x", b"");
        assert_eq!(k.subkey("auth-state").open(&sealed, b"").unwrap(), b"x");
        assert!(k.subkey("other").open(&sealed, b"").is_err());
        assert!(k.open(&sealed, b"").is_err());
    }

    #[test]
    fn ct_eq_compares_contents_and_lengths() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
