//! Micro-benchmarks of the per-request cryptography: sealing and opening a provider
//! credential with AES-256-GCM (the work of a create and of a credential reveal), and
//! reading a presented API token (shape and checksum) then computing its HMAC lookup
//! key (the work of every authenticated request). Run with
//! `cargo bench -p switchboard-crypto`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use secrecy::{ExposeSecret, SecretString};
use switchboard_crypto::{
    AesGcmKeyring, HmacTokenHasher, RandomTokenGenerator, generate_key_base64, parse_key_base64,
};
use switchboard_domain::identity::{ApiToken, OrgId, TokenGenerator, TokenHasher};
use switchboard_domain::telephony::{AssociatedData, SecretCipher};

fn benches(c: &mut Criterion) {
    let keys = SecretString::from(format!("1:{}", generate_key_base64().expose_secret()));
    let keyring = match AesGcmKeyring::from_config(&keys, 1) {
        Ok(keyring) => keyring,
        Err(error) => panic!("keyring: {error}"),
    };
    let binding = AssociatedData::for_field(
        OrgId(42),
        "provider_configurations",
        "5f0c3c3e-8d8f-4b1e-9a57-0123456789ab",
        "auth_token",
    );
    let credential = SecretString::from("0123456789abcdef0123456789abcdef");
    c.bench_function("aes-gcm: seal a credential", |b| {
        b.iter(|| keyring.seal(black_box(&credential), &binding));
    });
    let sealed = match keyring.seal(&credential, &binding) {
        Ok(sealed) => sealed,
        Err(error) => panic!("seal: {error}"),
    };
    c.bench_function("aes-gcm: open a credential", |b| {
        b.iter(|| keyring.open(black_box(&sealed), &binding));
    });

    let hasher = match parse_key_base64(generate_key_base64().expose_secret()) {
        Some(key) => HmacTokenHasher::new(key),
        None => panic!("a generated key parses"),
    };
    let presented = RandomTokenGenerator.generate().expose().to_owned();
    c.bench_function("token: parse and HMAC lookup key", |b| {
        b.iter(|| match ApiToken::parse(black_box(&presented)) {
            Ok(token) => hasher.hash(&token),
            Err(error) => panic!("parse: {error:?}"),
        });
    });
}

criterion_group!(crypto, benches);
criterion_main!(crypto);
