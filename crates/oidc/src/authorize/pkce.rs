//! PKCE (RFC 7636) with S256 only (RFC 9700 §2.1.1: `plain` is not offered).

use crate::crypto::ct_eq;
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn unreserved(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is the base64url SHA-256 of a verifier: exactly 43 characters (§4.2).
pub fn challenge_is_well_formed(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// §4.1 verifier syntax, then §4.6 `BASE64URL(SHA256(verifier)) == challenge`, in constant time.
pub fn verify(verifier: &str, challenge: &str) -> bool {
    if !(43..=128).contains(&verifier.len()) || !unreserved(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    ct_eq(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_appendix_b_vector_verifies() {
        assert!(challenge_is_well_formed(CHALLENGE));
        assert!(verify(VERIFIER, CHALLENGE));
    }

    #[test]
    fn wrong_short_long_or_badly_charactered_verifiers_fail_pkce_1_pkce_6() {
        assert!(!verify(&VERIFIER.replace('d', "e"), CHALLENGE));
        assert!(!verify(&"a".repeat(42), CHALLENGE));
        assert!(!verify(&"a".repeat(129), CHALLENGE));
        for bad in ["+", "=", " "] {
            let v = format!("{}{}", &VERIFIER[..42], bad);
            assert!(!verify(&v, CHALLENGE), "{v}");
        }
    }

    #[test]
    fn challenge_syntax_is_43_base64url_characters_pkce_2() {
        assert!(!challenge_is_well_formed(&CHALLENGE[..42]));
        assert!(!challenge_is_well_formed(&format!("{CHALLENGE}A")));
        assert!(!challenge_is_well_formed(&CHALLENGE.replace('E', "+")));
    }
}
