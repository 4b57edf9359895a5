//! Micro-benchmarks of the HTTP adapter's own work on the configuration routes:
//! reading and validating a create request's body, and serializing the envelope of
//! a 50-item list. Run with `cargo bench -p switchboard-http`.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use switchboard_domain::identity::OrgId;
use switchboard_domain::telephony::{
    KeyId, ProviderCatalog, ProviderConfig, ProviderConfigId, ProviderId, ProviderRecord,
    SealedSecret,
};
use switchboard_http::bench_support::{list_envelope_body, parse_and_validate_create};

/// The Twilio entry of the catalog, as the migrations seed it.
fn catalog() -> ProviderCatalog {
    let twilio = ProviderRecord {
        id: ProviderId(1),
        slug: "twilio".into(),
        name: "Twilio".into(),
        description: "Cloud communications platform.".into(),
        icon: "https://assets.switchboard.dev/providers/twilio.svg".into(),
        account_sid_label: "Account SID".into(),
        account_sid_pattern: "^AC[0-9a-fA-F]{32}$".into(),
        account_sid_hint: "AC followed by 32 hexadecimal characters".into(),
        auth_token_label: "Auth Token".into(),
        auth_token_pattern: "^[0-9a-fA-F]{32}$".into(),
        auth_token_hint: "32 hexadecimal characters".into(),
    };
    match ProviderCatalog::from_records(vec![twilio]) {
        Ok(catalog) => catalog,
        Err(error) => panic!("catalog: {error}"),
    }
}

fn config(id: i64) -> ProviderConfig {
    let at = Utc
        .with_ymd_and_hms(2026, 11, 28, 10, 0, 0)
        .single()
        .unwrap_or_default();
    let mut meta = Map::new();
    meta.insert("region".into(), Value::from("eu"));
    ProviderConfig {
        verification: None,
        id: ProviderConfigId(id),
        uid: format!("5f0c3c3e-8d8f-4b1e-9a57-{id:012}"),
        org_id: OrgId(1),
        provider_id: ProviderId(1),
        name: format!("Twilio {id:04}"),
        account_sid: format!("AC0123456789abcdef0123456789ab{id:04}"),
        auth_token: SealedSecret::from_parts(KeyId(1), &[7; 12], &[9; 48]).into(),
        auth_token_last4: "cdef".into(),
        public_fields: Map::from_iter([(
            "account_sid".to_owned(),
            Value::from(format!("AC0123456789abcdef0123456789ab{id:04}")),
        )]),
        secret_last4: std::collections::BTreeMap::from([(
            "auth_token".to_owned(),
            "cdef".to_owned(),
        )]),
        credential_version: 1,
        active: true,
        base_url: None,
        sip_url: Some("sip:trunk.example.com".into()),
        meta_json: meta,
        version: 3,
        created_at: at,
        updated_at: at,
    }
}

fn benches(c: &mut Criterion) {
    let catalog = catalog();
    let body = serde_json::to_vec(&json!({
        "provider": "twilio",
        "account_sid": "AC0123456789abcdef0123456789abcdef",
        "auth_token": "0123456789abcdef0123456789abcdef",
        "name": "Main line",
        "sip_url": "sip:trunk.example.com",
        "meta_json": {"region": "eu", "team": "voice"}
    }))
    .unwrap_or_default();
    c.bench_function("create body: parse and validate", |b| {
        b.iter(|| {
            let parsed = parse_and_validate_create(black_box(&body), &catalog);
            assert!(parsed.is_ok());
            parsed
        });
    });

    let configs: Vec<ProviderConfig> = (1..=50).map(config).collect();
    c.bench_function("list envelope: 50 items", |b| {
        b.iter_batched(
            || configs.clone(),
            |configs| list_envelope_body(configs, &catalog, "acme", 50),
            criterion::BatchSize::SmallInput,
        );
    });
}

criterion_group!(request_response, benches);
criterion_main!(request_response);
