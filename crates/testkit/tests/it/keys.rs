//! Rotation of the personal-data keys: after a new key and `keys::reencrypt`, the old key can be
//! dropped and everything still reads, by id and by phone.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_app::desk::{self, Lookup};
use shouhou_app::keys::{self, KeyUsage};
use shouhou_app::{Actor, App, AppConfig, AppError, Ctx, Keyring, SystemClock};
use shouhou_store::personal::ENCRYPTED;
use shouhou_store::{Backend, both};
use std::collections::BTreeSet;
use std::sync::Arc;

/// `crypto::test_keyring`'s data key 1 (32 × 0x07), which `spawn_app` encrypts with.
const KEY_1: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
/// A new data key (32 × 0x03).
const KEY_2: &str = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";
/// The test keyring's blind-index key (32 × 0x09); rotation keeps it.
const INDEX: &str = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";

fn keyring(data: &[(u32, &str)]) -> Keyring {
    let data: Vec<(u32, String)> = data.iter().map(|(v, k)| (*v, (*k).to_string())).collect();
    Keyring::new(&data, INDEX).unwrap()
}

fn versions(usage: &[KeyUsage]) -> BTreeSet<String> {
    usage.iter().map(|u| u.version.clone()).collect()
}

async fn admin_ctx(app: &App) -> Ctx {
    let mut rd = app.db.read().await.unwrap();
    let u = shouhou_store::users::user_by_username(&mut rd.conn(), "admin").await.unwrap().unwrap();
    Ctx { actor: Some(Actor::from_user(&u)), source: "test".into(), request_id: String::new() }
}

async fn old_values_are_rewritten_under_the_new_key_and_the_old_key_can_go(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let c = post(&t, &o.admin, "/api/v1/customers", json!({
        "name": "张三", "phone": "13812345678", "id_number": "440305199003071236", "region_code": "440305",
        "address": "深圳市南山区科技园南区 18 栋", "contacts": [{"role": "operator", "name": "李四", "phone": "13912345678"}]
    })).await;
    assert_eq!(c.status(), StatusCode::CREATED);
    let customer = c.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let m = post(
        &t,
        &o.admin,
        "/api/v1/product-models",
        json!({"code": "XG-5000", "name": "光传输设备", "product_line": "光传输"}),
    )
    .await;
    assert_eq!(m.status(), StatusCode::CREATED);
    let d = post(
        &t,
        &o.admin,
        "/api/v1/devices",
        json!({"serial_number": "XG5K-0001", "model_code": "XG-5000",
        "customer_id": customer, "sale_date": "2026-01-31", "install_address": "深圳市南山区科技园"}),
    )
    .await;
    assert_eq!(d.status(), StatusCode::CREATED);

    // Key 2 is added: new values take it, old ones stay on key 1 until re-encrypted.
    let two =
        App::new(t.app.db.clone(), Arc::new(SystemClock), AppConfig::default(), keyring(&[(1, KEY_1), (2, KEY_2)]));
    let cli = Ctx::system();
    assert_eq!(versions(&keys::key_usage(&two, &cli).await.unwrap()), BTreeSet::from(["v1".to_string()]));
    // Not from the web without the right: the command line or an administrator.
    let anonymous = Ctx { actor: None, source: "web".into(), request_id: String::new() };
    assert!(matches!(keys::reencrypt(&two, &anonymous, |_, _| {}).await, Err(AppError::Unauthenticated)));

    let mut heard = vec![];
    let done = keys::reencrypt(&two, &cli, |table, rows| heard.push((table.to_string(), rows))).await.unwrap();
    // Customer: name, phone, address, identity number; contact: name, phone; device: address.
    assert_eq!((done.version, done.rows, done.values), (2, 3, 7));
    assert_eq!(
        heard.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["customers", "customer_contacts", "devices"]
    );
    let usage = keys::key_usage(&two, &cli).await.unwrap();
    assert_eq!(versions(&usage), BTreeSet::from(["v2".to_string()]));
    assert_eq!(usage.iter().map(|u| u.values).sum::<i64>(), 7);
    let again = keys::reencrypt(&two, &cli, |_, _| {}).await.unwrap();
    assert_eq!((again.rows, again.values), (0, 0), "a second run has nothing to do");

    // Key 1 leaves the key file: everything reads, by id and by phone (the blind index is untouched).
    let only_two = App::new(t.app.db.clone(), Arc::new(SystemClock), AppConfig::default(), keyring(&[(2, KEY_2)]));
    let admin = admin_ctx(&only_two).await;
    let cu = desk::get_customer(&only_two, &admin, customer).await.unwrap();
    assert_eq!((cu.name.as_str(), cu.id_number.as_deref()), ("张三", Some("440305199003071236")));
    assert_eq!(cu.contacts[0].phone, "13912345678");
    let pop = desk::screen_pop(&only_two, &admin, Lookup::Phone("13912345678")).await.unwrap().unwrap();
    assert_eq!(pop.customer.id, customer, "found through the contact's phone");
    assert_eq!(pop.devices[0].install_address.as_deref(), Some("深圳市南山区科技园"));
    // And the instance still on key 1 alone can no longer read them: the rotation really happened.
    let one = App::new(t.app.db.clone(), Arc::new(SystemClock), AppConfig::default(), keyring(&[(1, KEY_1)]));
    assert!(desk::get_customer(&one, &admin, customer).await.is_err());

    let a: Value = get(&t, &o.admin, "/api/v1/audit?action=keys.reencrypt").await.json().await.unwrap();
    assert_eq!(a["total"], 2);
    assert_eq!(a["items"][1]["detail"], json!({"version": 2, "rows": 3, "values": 7}));
}

/// Every `*_enc` column of the schema is in `personal::ENCRYPTED`, so rotation misses none.
async fn every_encrypted_column_is_listed_for_rotation(b: Backend) {
    let t = app(b).await;
    let mut rd = t.app.db.read().await.unwrap();
    let sql = match b {
        Backend::Sqlite => {
            "SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.name LIKE '%\\_enc' ESCAPE '\\'"
        }
        Backend::Postgres => {
            "SELECT table_name || '.' || column_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND column_name LIKE '%\\_enc' ESCAPE '\\'"
        }
    };
    let in_schema: BTreeSet<String> =
        both!(&mut rd.conn(), c => sqlx::query_scalar::<_, String>(sql).fetch_all(c).await)
            .unwrap()
            .into_iter()
            .collect();
    let listed: BTreeSet<String> =
        ENCRYPTED.iter().flat_map(|t| t.columns.iter().map(move |c| format!("{}.{c}", t.table))).collect();
    assert_eq!(in_schema, listed);
}

crate::on_both_backends!(
    old_values_are_rewritten_under_the_new_key_and_the_old_key_can_go,
    every_encrypted_column_is_listed_for_rotation,
);
