#!/usr/bin/env python3
"""A minimal external OpenID provider for bench/external.sh: an RSA-2048 key (RS256), a
discovery document, a JWKS, and ID tokens minted on request. It counts every request per
path, so the benchmark can show that Tessera fetched the JWKS once (from its cache after).

    python3 bench/external_issuer.py PORT
    GET /.well-known/openid-configuration, GET /jwks
    GET /mint?aud=CLIENT&sub=SUBJECT&ttl=SECONDS   -> an RS256 ID token (text)
    GET /stats                                      -> {"path": count, ...}
Needs the `cryptography` package. Loopback only.
"""
import base64
import json
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PORT = int(sys.argv[1])
ISSUER = f"http://127.0.0.1:{PORT}"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "bench-rs256"
COUNTS = {}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n: int) -> str:
    return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


PUB = KEY.public_key().public_numbers()
JWKS = {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": uint(PUB.n), "e": uint(PUB.e)}]}
DISCOVERY = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/authorize",
    "token_endpoint": f"{ISSUER}/token",
    "jwks_uri": f"{ISSUER}/jwks",
    "response_types_supported": ["code"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256"],
}


def id_token(aud: str, sub: str, ttl: int) -> str:
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": KID}
    claims = {"iss": ISSUER, "aud": aud, "sub": sub, "iat": now, "exp": now + ttl,
              "jti": str(uuid.uuid4()), "email": f"{sub}@issuer.test", "email_verified": True}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    sig = KEY.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(sig)}"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urlparse(self.path)
        COUNTS[url.path] = COUNTS.get(url.path, 0) + 1
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            self.reply(json.dumps(DISCOVERY), "application/json")
        elif url.path == "/jwks":
            self.reply(json.dumps(JWKS), "application/json")
        elif url.path == "/mint":
            self.reply(id_token(q.get("aud", "tessera"), q.get("sub", "bench-user"), int(q.get("ttl", "3600"))), "text/plain")
        elif url.path == "/stats":
            self.reply(json.dumps(COUNTS), "application/json")
        else:
            self.send_error(404)

    def reply(self, body: str, ctype: str):
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
