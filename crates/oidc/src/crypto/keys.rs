//! Signing keys held in memory as parsed aws-lc-rs key pairs, and the per-realm key ring
//! (active signers, verifiers by `kid`, and the JWKS document rendered once).

use crate::crypto::{MasterKey, sha256};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKeyId;
use openidconnect::core::{CoreJsonCurveType, CoreJsonWebKey, CoreJsonWebKeySet};
use std::collections::HashMap;
use std::sync::Arc;
use tessera_domain::{KeyStatus, RealmId, SigningAlg, StoredKey, UnixTime};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed")]
    Generate,
    #[error("stored key for kid {0} could not be opened or parsed")]
    Load(String),
}

enum Material {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// One key pair, parsed once. `sign` never touches PEM/DER.
pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    material: Material,
}

impl SigningKey {
    /// Generates a key and returns it with its PKCS#8 encoding (what gets sealed at rest).
    /// The `kid` is the RFC 7638 thumbprint, so it is unique per key material.
    pub fn generate(alg: SigningAlg) -> Result<(Self, Vec<u8>), KeyError> {
        let pkcs8 = match alg {
            SigningAlg::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map(|d| d.as_ref().to_vec()),
            SigningAlg::Es256 => {
                EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .and_then(|k| k.to_pkcs8v1())
                    .map(|d| d.as_ref().to_vec())
            }
            SigningAlg::EdDsa => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec()),
        }
        .map_err(|_| KeyError::Generate)?;
        let mut key =
            Self::from_pkcs8(alg, String::new(), &pkcs8).map_err(|_| KeyError::Generate)?;
        key.kid = key.thumbprint();
        Ok((key, pkcs8))
    }

    pub fn from_pkcs8(alg: SigningAlg, kid: String, der: &[u8]) -> Result<Self, KeyError> {
        let err = || KeyError::Load(kid.clone());
        let material = match alg {
            SigningAlg::Rs256 => Material::Rsa(RsaKeyPair::from_pkcs8(der).map_err(|_| err())?),
            SigningAlg::Es256 => Material::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| err())?,
            ),
            SigningAlg::EdDsa => Material::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(|_| err())?),
        };
        Ok(Self { kid, alg, material })
    }

    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match &self.material {
            Material::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .expect("RSA signing with a valid key cannot fail");
                sig
            }
            Material::Ec(k) => k
                .sign(&rng, msg)
                .expect("ECDSA signing with a valid key cannot fail")
                .as_ref()
                .to_vec(),
            Material::Ed(k) => k.sign(msg).as_ref().to_vec(),
        }
    }

    fn public_bytes(&self) -> &[u8] {
        match &self.material {
            Material::Rsa(k) => k.public_key().as_ref(),
            Material::Ec(k) => k.public_key().as_ref(),
            Material::Ed(k) => k.public_key().as_ref(),
        }
    }

    pub fn verifier(&self) -> ParsedPublicKey {
        let alg: &'static dyn signature::VerificationAlgorithm = match self.alg {
            SigningAlg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            SigningAlg::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            SigningAlg::EdDsa => &signature::ED25519,
        };
        ParsedPublicKey::new(alg, self.public_bytes()).expect("our own public key parses")
    }

    /// The public JWK members (no private parts exist in this type's output).
    fn jwk_members(&self) -> Jwk {
        match &self.material {
            Material::Rsa(k) => {
                let pk = k.public_key();
                Jwk::Rsa {
                    n: pk.modulus().big_endian_without_leading_zero().to_vec(),
                    e: pk.exponent().big_endian_without_leading_zero().to_vec(),
                }
            }
            Material::Ec(k) => {
                // Uncompressed SEC1 point: 0x04 || x || y.
                let p = k.public_key().as_ref();
                Jwk::Ec {
                    x: p[1..33].to_vec(),
                    y: p[33..65].to_vec(),
                }
            }
            Material::Ed(k) => Jwk::Okp {
                x: k.public_key().as_ref().to_vec(),
            },
        }
    }

    /// RFC 7638 JWK thumbprint (SHA-256 over the required members in lexical order).
    fn thumbprint(&self) -> String {
        let b = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
        let canonical = match self.jwk_members() {
            Jwk::Rsa { n, e } => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b(&e), b(&n)),
            Jwk::Ec { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b(&x),
                b(&y)
            ),
            Jwk::Okp { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b(&x)),
        };
        URL_SAFE_NO_PAD.encode(sha256(canonical.as_bytes()))
    }

    /// The public JWK as served in JWKS, with `use: sig` and `alg`.
    pub fn public_jwk(&self) -> serde_json::Value {
        let kid = Some(JsonWebKeyId::new(self.kid.clone()));
        let jwk = match self.jwk_members() {
            Jwk::Rsa { n, e } => CoreJsonWebKey::new_rsa(n, e, kid),
            Jwk::Ec { x, y } => CoreJsonWebKey::new_ec(x, y, CoreJsonCurveType::P256, kid),
            Jwk::Okp { x } => CoreJsonWebKey::new_okp(x, CoreJsonCurveType::Ed25519, kid),
        };
        let mut v = serde_json::to_value(CoreJsonWebKeySet::new(vec![jwk]))
            .expect("JWK serializes")["keys"][0]
            .take();
        v["alg"] = self.alg.as_str().into();
        v["use"] = "sig".into();
        v
    }

    /// Seals the PKCS#8 encoding for storage, bound to realm and kid.
    pub fn seal(
        &self,
        realm: RealmId,
        pkcs8: &[u8],
        master: &MasterKey,
        now: UnixTime,
    ) -> StoredKey {
        StoredKey {
            realm_id: realm,
            kid: self.kid.clone(),
            alg: self.alg,
            status: KeyStatus::Active,
            sealed_private_key: master.seal(pkcs8, &aad(realm, &self.kid)),
            created_at: now,
        }
    }

    pub fn unseal(stored: &StoredKey, master: &MasterKey) -> Result<Self, KeyError> {
        let der = master
            .open(
                &stored.sealed_private_key,
                &aad(stored.realm_id, &stored.kid),
            )
            .map_err(|_| KeyError::Load(stored.kid.clone()))?;
        Self::from_pkcs8(stored.alg, stored.kid.clone(), &der)
    }
}

enum Jwk {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { x: Vec<u8>, y: Vec<u8> },
    Okp { x: Vec<u8> },
}

fn aad(realm: RealmId, kid: &str) -> Vec<u8> {
    format!("tessera-key|{realm}|{kid}").into_bytes()
}

pub struct Verifier {
    pub alg: SigningAlg,
    pub key: ParsedPublicKey,
}

/// A realm's keys as used at runtime. Built once per cache fill, shared by reference.
pub struct KeyRing {
    active: HashMap<SigningAlg, Arc<SigningKey>>,
    verifiers: HashMap<String, Verifier>,
    /// The JWKS document, rendered once.
    pub jwks_json: String,
}

impl KeyRing {
    /// `keys` are a realm's non-retired stored keys, newest first.
    pub fn load(stored: &[StoredKey], master: &MasterKey) -> Result<Self, KeyError> {
        let mut active = HashMap::new();
        let mut verifiers = HashMap::new();
        let mut jwks = Vec::new();
        for s in stored {
            let key = SigningKey::unseal(s, master)?;
            jwks.push(key.public_jwk());
            verifiers.insert(
                key.kid.clone(),
                Verifier {
                    alg: key.alg,
                    key: key.verifier(),
                },
            );
            if s.status == KeyStatus::Active {
                active.entry(key.alg).or_insert_with(|| Arc::new(key));
            }
        }
        let jwks_json = serde_json::json!({ "keys": jwks }).to_string();
        Ok(Self {
            active,
            verifiers,
            jwks_json,
        })
    }

    pub fn signer(&self, alg: SigningAlg) -> Option<&SigningKey> {
        self.active.get(&alg).map(|k| &**k)
    }

    pub fn verifier(&self, kid: &str) -> Option<&Verifier> {
        self.verifiers.get(kid)
    }

    pub fn algs(&self) -> Vec<SigningAlg> {
        let mut v: Vec<_> = self.active.keys().copied().collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify_for_every_alg() {
        for alg in SigningAlg::ALL {
            let (k, der) = SigningKey::generate(alg).unwrap();
            let sig = k.sign(b"msg");
            assert!(k.verifier().verify_sig(b"msg", &sig).is_ok(), "{alg}");
            assert!(k.verifier().verify_sig(b"msh", &sig).is_err(), "{alg}");
            let again = SigningKey::from_pkcs8(alg, k.kid.clone(), &der).unwrap();
            assert!(again.verifier().verify_sig(b"msg", &sig).is_ok());
        }
    }

    #[test]
    fn jwks_has_no_private_members_and_unique_thumbprint_kids() {
        let master = MasterKey::from_bytes(&[3; 32]).unwrap();
        let realm = RealmId::new_v7();
        let stored: Vec<_> = SigningAlg::ALL
            .into_iter()
            .map(|alg| {
                let (k, der) = SigningKey::generate(alg).unwrap();
                k.seal(realm, &der, &master, UnixTime(0))
            })
            .collect();
        let ring = KeyRing::load(&stored, &master).unwrap();
        let jwks: serde_json::Value = serde_json::from_str(&ring.jwks_json).unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 3);
        let mut kids: Vec<_> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
        kids.dedup();
        assert_eq!(kids.len(), 3);
        for k in keys {
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(k.get(private).is_none(), "{k}");
            }
            assert_eq!(k["use"], "sig");
        }
        assert_eq!(ring.algs(), SigningAlg::ALL.to_vec());
    }

    #[test]
    fn a_sealed_key_moved_to_another_realm_does_not_load_iso_6() {
        let master = MasterKey::from_bytes(&[3; 32]).unwrap();
        let (k, der) = SigningKey::generate(SigningAlg::EdDsa).unwrap();
        let mut stored = k.seal(RealmId::new_v7(), &der, &master, UnixTime(0));
        stored.realm_id = RealmId::new_v7();
        assert!(KeyRing::load(&[stored], &master).is_err());
    }
}
