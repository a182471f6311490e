//! A software WebAuthn authenticator for the break-glass tests: a P-256
//! key (ring) answering the server's options as a browser's
//! `PublicKeyCredential.toJSON()` would, with "none" attestation, user
//! presence and verification flagged, and a signature counter. No real
//! authenticator runs here; the Playwright journey drives Chromium's
//! virtual one (end2end/tests/break-glass.spec.ts).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// User present, user verified.
const UP_UV: u8 = 0x01 | 0x04;
/// … with attested credential data.
const UP_UV_AT: u8 = UP_UV | 0x40;

pub struct SoftPasskey {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    pub credential_id: Vec<u8>,
    counter: u32,
    /// The page's origin as the browser reports it.
    origin: String,
}

impl SoftPasskey {
    pub fn new(origin: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("a key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .expect("the key");
        let credential_id = Sha256::digest(pkcs8.as_ref())[..16].to_vec();
        Self {
            key,
            rng,
            credential_id,
            counter: 0,
            origin: origin.to_owned(),
        }
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = options["publicKey"]["challenge"]
            .as_str()
            .expect("a challenge");
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .expect("client data")
    }

    /// The answer to `navigator.credentials.create` with these options.
    pub fn register(&self, options: &Value) -> Value {
        let client_data = self.client_data("webauthn.create", options);
        let public = self.key.public_key().as_ref();
        assert_eq!(public.len(), 65, "an uncompressed P-256 point");
        // COSE_Key: kty EC2, alg ES256, crv P-256, x, y.
        let mut cose = map(5);
        cose.extend(uint(1));
        cose.extend(uint(2));
        cose.extend(uint(3));
        cose.extend(nint(-7));
        cose.extend(nint(-1));
        cose.extend(uint(1));
        cose.extend(nint(-2));
        cose.extend(bytes(&public[1..33]));
        cose.extend(nint(-3));
        cose.extend(bytes(&public[33..]));
        // Registration names the relying party as `rp.id`, a sign-in as `rpId`.
        let mut auth_data = rp_hash(&options["publicKey"]["rp"]["id"]);
        auth_data.push(UP_UV_AT);
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend(
            u16::try_from(self.credential_id.len())
                .unwrap()
                .to_be_bytes(),
        );
        auth_data.extend(&self.credential_id);
        auth_data.extend(cose);
        let mut attestation = map(3);
        attestation.extend(text("fmt"));
        attestation.extend(text("none"));
        attestation.extend(text("attStmt"));
        attestation.extend(map(0));
        attestation.extend(text("authData"));
        attestation.extend(bytes(&auth_data));
        self.credential(json!({
            "clientDataJSON": B64.encode(&client_data),
            "attestationObject": B64.encode(&attestation),
            "transports": ["usb"],
        }))
    }

    /// A `PublicKeyCredential` of this key with `response`, as `toJSON()`
    /// writes it.
    fn credential(&self, response: Value) -> Value {
        let id = B64.encode(&self.credential_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
        })
    }

    /// The answer to `navigator.credentials.get` with these options; the
    /// counter moves on each time.
    pub fn sign_in(&mut self, options: &Value) -> Value {
        self.counter += 1;
        let client_data = self.client_data("webauthn.get", options);
        let mut auth_data = rp_hash(&options["publicKey"]["rpId"]);
        auth_data.push(UP_UV);
        auth_data.extend(self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature = self.key.sign(&self.rng, &signed).expect("a signature");
        self.credential(json!({
            "clientDataJSON": B64.encode(&client_data),
            "authenticatorData": B64.encode(&auth_data),
            "signature": B64.encode(signature.as_ref()),
        }))
    }
}

fn rp_hash(rp_id: &Value) -> Vec<u8> {
    let rp = rp_id.as_str().expect("an RP ID");
    Sha256::digest(rp.as_bytes()).to_vec()
}

// The little CBOR the answers need (RFC 8949): heads, maps, integers,
// byte and text strings.
fn head(major: u8, n: u64) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | u8::try_from(n).unwrap()],
        24..=0xff => vec![m | 24, u8::try_from(n).unwrap()],
        0x100..=0xffff => {
            let mut v = vec![m | 25];
            v.extend(u16::try_from(n).unwrap().to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![m | 26];
            v.extend(u32::try_from(n).unwrap().to_be_bytes());
            v
        }
    }
}

fn map(entries: u64) -> Vec<u8> {
    head(5, entries)
}

fn uint(n: u64) -> Vec<u8> {
    head(0, n)
}

fn nint(n: i64) -> Vec<u8> {
    assert!(n < 0);
    head(1, u64::try_from(-1 - n).unwrap())
}

fn bytes(b: &[u8]) -> Vec<u8> {
    let mut v = head(2, b.len() as u64);
    v.extend(b);
    v
}

fn text(s: &str) -> Vec<u8> {
    let mut v = head(3, s.len() as u64);
    v.extend(s.as_bytes());
    v
}
