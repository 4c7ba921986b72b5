//! Pre-signed `private_key_jwt` client assertions for `bench/run.sh` (wrk cannot sign, and
//! signing inside the load generator would take CPU from the server's neighbour core).
//!
//! ```sh
//! cargo run --release --example client_assertions -- keys rs256.pk8 RS256 > jwks.json
//! cargo run --release --example client_assertions -- sign rs256.pk8 RS256 bench-pk \
//!     https://id.example/realms/r/protocol/openid-connect/token 100000 > assertions.txt
//! ```
//!
//! `keys` generates a key pair, writes its PKCS#8 to the file and prints the public JWK set
//! (register it with the client). `sign` prints N assertions, one per line, each with its own
//! `jti`, `iat` now and `exp` 290 s ahead: use them within that time, each once.

use std::time::{SystemTime, UNIX_EPOCH};
use tessera_domain::SigningAlg;
use tessera_oidc::crypto::jws;
use tessera_oidc::crypto::keys::SigningKey;

/// One key per client, so a fixed `kid` is enough.
const KID: &str = "bench";

fn alg(s: &str) -> SigningAlg {
    match s {
        "RS256" => SigningAlg::Rs256,
        "ES256" => SigningAlg::Es256,
        "EdDSA" => SigningAlg::EdDsa,
        other => panic!("unknown algorithm {other}: RS256, ES256 or EdDSA"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["keys", file, a] => {
            let (mut key, pkcs8) = SigningKey::generate(alg(a)).expect("key generation");
            key.kid = KID.into();
            std::fs::write(file, pkcs8).expect("write the private key");
            println!("{}", serde_json::json!({ "keys": [key.public_jwk()] }));
        }
        ["sign", file, a, client_id, aud, n] => {
            let der = std::fs::read(file).expect("read the private key");
            let key = SigningKey::from_pkcs8(alg(a), KID.into(), &der).expect("key");
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            let n: usize = n.parse().expect("a count");
            let mut out = String::with_capacity(n * 700);
            for i in 0..n {
                let claims = serde_json::json!({
                    "iss": client_id, "sub": client_id, "aud": aud,
                    "iat": now, "exp": now + 290, "jti": format!("{now}-{i}"),
                });
                out.push_str(&jws::sign(&key, "JWT", &claims));
                out.push('\n');
            }
            print!("{out}");
        }
        _ => {
            eprintln!("usage: client_assertions keys FILE ALG | sign FILE ALG CLIENT_ID AUD N");
            std::process::exit(2);
        }
    }
}
