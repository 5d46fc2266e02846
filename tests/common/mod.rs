//! Helpers shared by the integration tests: run the `agw` binary as a user would, test keys and
//! tokens made on the fly (no key material is committed), outside processes and a fault server.
#![allow(dead_code)]

pub mod crd;
pub mod fault;
pub mod partners;
pub mod procs;
pub mod upstream;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

pub enum Kind {
    Rsa(sig::RsaKeyPair),
    Ec256(sig::EcdsaKeyPair),
    Ec384(sig::EcdsaKeyPair),
    Ed(sig::Ed25519KeyPair),
}

pub struct TestKey {
    pub kid: String,
    pub kind: Kind,
}

pub fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

impl TestKey {
    pub fn rsa(kid: &str) -> Self {
        TestKey {
            kid: kid.into(),
            kind: Kind::Rsa(sig::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap()),
        }
    }
    pub fn ec256(kid: &str) -> Self {
        TestKey {
            kid: kid.into(),
            kind: Kind::Ec256(
                sig::EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
            ),
        }
    }
    pub fn ec384(kid: &str) -> Self {
        TestKey {
            kid: kid.into(),
            kind: Kind::Ec384(
                sig::EcdsaKeyPair::generate(&sig::ECDSA_P384_SHA384_FIXED_SIGNING).unwrap(),
            ),
        }
    }
    pub fn ed25519(kid: &str) -> Self {
        TestKey {
            kid: kid.into(),
            kind: Kind::Ed(sig::Ed25519KeyPair::generate().unwrap()),
        }
    }

    /// The default algorithm of the key.
    pub fn alg(&self) -> &'static str {
        match self.kind {
            Kind::Rsa(_) => "RS256",
            Kind::Ec256(_) => "ES256",
            Kind::Ec384(_) => "ES384",
            Kind::Ed(_) => "EdDSA",
        }
    }

    /// The public JWK, with `alg` when `alg` is given.
    pub fn jwk(&self, alg: Option<&str>) -> Value {
        let mut v = match &self.kind {
            Kind::Rsa(k) => {
                let c = sig::RsaPublicKeyComponents::<Vec<u8>>::from(k.public_key());
                json!({"kty": "RSA", "n": b64(&c.n), "e": b64(&c.e)})
            }
            Kind::Ec256(k) | Kind::Ec384(k) => {
                let p = k.public_key().as_ref();
                let n = (p.len() - 1) / 2;
                let crv = if n == 32 { "P-256" } else { "P-384" };
                json!({"kty": "EC", "crv": crv, "x": b64(&p[1..1 + n]), "y": b64(&p[1 + n..])})
            }
            Kind::Ed(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(k.public_key().as_ref())})
            }
        };
        v["kid"] = json!(self.kid);
        v["use"] = json!("sig");
        if let Some(a) = alg {
            v["alg"] = json!(a);
        }
        v
    }

    /// Signs `input` with `alg` (the key must fit it).
    pub fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.kind {
            Kind::Rsa(k) => {
                let enc: &'static dyn sig::RsaEncoding = match alg {
                    "RS256" => &sig::RSA_PKCS1_SHA256,
                    "RS384" => &sig::RSA_PKCS1_SHA384,
                    "RS512" => &sig::RSA_PKCS1_SHA512,
                    "PS256" => &sig::RSA_PSS_SHA256,
                    "PS384" => &sig::RSA_PSS_SHA384,
                    "PS512" => &sig::RSA_PSS_SHA512,
                    other => panic!("RSA cannot sign {other}"),
                };
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(enc, &rng, input, &mut out).unwrap();
                out
            }
            Kind::Ec256(k) | Kind::Ec384(k) => k.sign(&rng, input).unwrap().as_ref().to_vec(),
            Kind::Ed(k) => k.sign(input).as_ref().to_vec(),
        }
    }

    /// A token with this header (kid and alg filled in when absent) and claims.
    pub fn token_with(&self, header: Value, claims: &Value) -> String {
        let mut h = header;
        if h.get("alg").is_none() {
            h["alg"] = json!(self.alg());
        }
        if h.get("kid").is_none() {
            h["kid"] = json!(self.kid);
        }
        let alg = h["alg"].as_str().unwrap().to_string();
        let input = format!(
            "{}.{}",
            b64(h.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let s = self.sign(&alg, input.as_bytes());
        format!("{input}.{}", b64(&s))
    }

    pub fn token(&self, claims: &Value) -> String {
        self.token_with(json!({"typ": "JWT"}), claims)
    }
}

/// A JWKS document of these keys (with `alg` when `with_alg`).
pub fn jwks(keys: &[&TestKey], with_alg: bool) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk(with_alg.then(|| k.alg()))).collect::<Vec<_>>()})
        .to_string()
}

/// An HS256 token signed with `secret` (for key-confusion tests).
pub fn hs256_token(secret: &[u8], header: Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub const ISSUER: &str = "https://issuer.test/oauth2/default";
pub const AUDIENCE: &str = "https://gateway.test/mcp";

/// Claims that pass the default test policy.
pub fn good_claims() -> Value {
    let n = now();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": n - 10, "exp": n + 3600, "scp": ["mcp:tools"]})
}

// Running the `agw` binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.yaml` file under `dir`, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

pub fn fixture(rel: &str) -> String {
    repo().join("fixtures").join(rel).display().to_string()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn finish(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs `agw ARGS` in the repository root with a clean, predictable environment.
pub fn agw(args: &[&str]) -> Run {
    agw_stdin(args, None)
}

pub fn agw_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    agw_in(&repo(), args, stdin)
}

pub fn agw_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agw"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("agw runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    finish(child.wait_with_output().unwrap())
}
