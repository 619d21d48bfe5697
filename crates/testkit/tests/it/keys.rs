//! Rotation of the personal-data keys: after a new key and `keys::reencrypt`, the old key can be
//! dropped and everything still reads, by id and by phone.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_app::keys::{self, KeyCheckError, KeySource, KeyUsage, check_keyring, open_keyring};
use shouhou_app::{Actor, App, AppConfig, AppError, Ctx, Keyring, SystemClock};
use shouhou_app::{
    customers::{self},
    desk::{self, Lookup},
};
use shouhou_store::personal::ENCRYPTED;
use shouhou_store::{Backend, both};
use shouhou_testkit::{TestApp, TestDb, serve_app};
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
        ["customers", "customer_contacts", "devices", "portal_reports"]
    );
    let usage = keys::key_usage(&two, &cli).await.unwrap();
    assert_eq!(versions(&usage), BTreeSet::from(["v2".to_string()]));
    assert_eq!(usage.iter().map(|u| u.values).sum::<i64>(), 7);
    let again = keys::reencrypt(&two, &cli, |_, _| {}).await.unwrap();
    assert_eq!((again.rows, again.values), (0, 0), "a second run has nothing to do");

    // Key 1 leaves the key file: everything reads, by id and by phone (the blind index is untouched).
    let only_two = App::new(t.app.db.clone(), Arc::new(SystemClock), AppConfig::default(), keyring(&[(2, KEY_2)]));
    let admin = admin_ctx(&only_two).await;
    let cu = customers::get_customer(&only_two, &admin, customer).await.unwrap();
    assert_eq!((cu.name.as_str(), cu.id_number.as_deref()), ("张三", Some("440305199003071236")));
    assert_eq!(cu.contacts[0].phone, "13912345678");
    let pop = desk::screen_pop(&only_two, &admin, Lookup::Phone("13912345678")).await.unwrap().unwrap();
    assert_eq!(pop.customer.id, customer, "found through the contact's phone");
    assert_eq!(pop.devices[0].install_address.as_deref(), Some("深圳市南山区科技园"));
    // And the instance still on key 1 alone can no longer read them: the rotation really happened.
    let one = App::new(t.app.db.clone(), Arc::new(SystemClock), AppConfig::default(), keyring(&[(1, KEY_1)]));
    assert!(customers::get_customer(&one, &admin, customer).await.is_err());

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

fn customer(name: &str, phone: &str) -> Value {
    json!({"name": name, "phone": phone, "region_code": "440305", "address": "深圳市南山区科技园南区 18 栋"})
}

async fn create_customer(t: &TestApp, o: &Org, body: Value) -> i64 {
    let r = post(t, &o.admin, "/api/v1/customers", body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

fn now() -> i64 {
    use shouhou_app::Clock as _;
    SystemClock.now_ms()
}

/// The test keyring as a key file: data.1 and index, no audit line (derived from index).
fn right_key_file() -> String {
    format!("data.1 = {KEY_1}\nindex = {INDEX}\n")
}

async fn fingerprint_rows(db: &shouhou_store::Db) -> Vec<String> {
    let mut rd = db.read().await.unwrap();
    shouhou_store::personal::fingerprints(&mut rd.conn()).await.unwrap().into_iter().map(|f| f.name).collect()
}

/// Restored without its key file, a server used to mint a fresh `data.1`, serve, and write new
/// customers under it. Now it refuses to start, and creates no key file.
async fn a_database_with_personal_data_and_no_key_file_is_refused_and_none_is_created(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    create_customer(&t, &o, customer("张三", "13812345678")).await;
    let path = t.db.data_dir.join("restored").join("keys.txt");
    let err = open_keyring(&t.app.db, &KeySource::File(path.clone()), now()).await.unwrap_err();
    assert!(matches!(err, KeyCheckError::MissingKeyFile { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("does not exist") && message.contains("No new key file was created"), "{message}");
    assert!(!path.exists(), "no key file minted");
    assert!(!path.parent().unwrap().exists(), "not even its directory");

    // A database from before the fingerprints (none stored): its encrypted values are enough.
    exec(&t, "DELETE FROM key_fingerprints").await;
    let err = open_keyring(&t.app.db, &KeySource::File(path.clone()), now()).await.unwrap_err();
    assert!(matches!(&err, KeyCheckError::MissingKeyFile { held, .. } if held.contains("encrypted")), "{err:?}");
    assert!(!path.exists());

    // A database that has seen keys but holds no customer yet: its fingerprints are enough.
    let fresh = TestDb::new(b).await.unwrap();
    check_keyring(&fresh.db, &Keyring::parse(&right_key_file()).unwrap(), "test", now()).await.unwrap();
    let path = fresh.data_dir.join("keys.txt");
    let err = open_keyring(&fresh.db, &KeySource::File(path.clone()), now()).await.unwrap_err();
    assert!(matches!(&err, KeyCheckError::MissingKeyFile { held, .. } if held.contains("data.1")), "{err:?}");
    assert!(!path.exists());
}

/// The wrong key file (another installation's, or one minted by mistake) is refused, whether the
/// database stores fingerprints or predates them.
async fn a_wrong_key_file_is_refused(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    create_customer(&t, &o, customer("张三", "13812345678")).await;
    let path = t.db.data_dir.join("keys.txt");
    std::fs::write(&path, Keyring::generate_file().unwrap()).unwrap();
    let err = open_keyring(&t.app.db, &KeySource::File(path.clone()), now()).await.unwrap_err();
    assert!(matches!(&err, KeyCheckError::Mismatch { key, .. } if key == "data.1"), "{err:?}");
    assert!(err.to_string().contains("is not the key this database was written with"), "{err}");
    // The same from the environment.
    let err = open_keyring(&t.app.db, &KeySource::Env(Keyring::generate_file().unwrap()), now()).await.unwrap_err();
    assert!(matches!(&err, KeyCheckError::Mismatch { key, .. } if key == "data.1"), "{err:?}");
    // A key file lacking the version the data is under.
    std::fs::write(&path, format!("data.2 = {KEY_2}\nindex = {INDEX}\n")).unwrap();
    let err = open_keyring(&t.app.db, &KeySource::File(path.clone()), now()).await.unwrap_err();
    assert!(matches!(err, KeyCheckError::MissingVersion { version: 1, .. }), "{err:?}");

    // Without stored fingerprints (a database from before them), a sample value is tried.
    exec(&t, "DELETE FROM key_fingerprints").await;
    std::fs::write(&path, Keyring::generate_file().unwrap()).unwrap();
    let err = open_keyring(&t.app.db, &KeySource::File(path.clone()), now()).await.unwrap_err();
    assert!(matches!(&err, KeyCheckError::Mismatch { key, .. } if key == "data.1"), "{err:?}");
    // The right data key with another index key: a stored phone's blind index tells.
    std::fs::write(&path, format!("data.1 = {KEY_1}\nindex = {KEY_2}\n")).unwrap();
    let err = open_keyring(&t.app.db, &KeySource::File(path.clone()), now()).await.unwrap_err();
    assert!(matches!(&err, KeyCheckError::Mismatch { key, .. } if key == "index"), "{err:?}");
    assert!(fingerprint_rows(&t.app.db).await.is_empty(), "nothing recorded from a refused key file");

    // The right one opens, and is remembered again.
    std::fs::write(&path, right_key_file()).unwrap();
    let (keys, created) = open_keyring(&t.app.db, &KeySource::File(path.clone()), now()).await.unwrap();
    assert_eq!((keys.versions(), created), (vec![1], None));
    assert_eq!(fingerprint_rows(&t.app.db).await, ["audit", "data.1", "index"]);
}

/// Only a database with nothing encrypted in it gets fresh keys, and then remembers them.
async fn an_empty_database_gets_fresh_keys(b: Backend) {
    let fresh = TestDb::new(b).await.unwrap();
    let path = fresh.data_dir.join("keys.txt");
    let (keys, created) = open_keyring(&fresh.db, &KeySource::File(path.clone()), now()).await.unwrap();
    assert_eq!(created.as_deref(), Some(path.as_path()));
    let text = std::fs::read_to_string(&path).unwrap();
    for line in ["data.1 = ", "index = ", "audit = "] {
        assert!(text.contains(line), "{text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(!keys.audit_key_derived(), "a new key file has an audit key of its own");
    assert_eq!(fingerprint_rows(&fresh.db).await, ["audit", "data.1", "index"]);
    let stored: Vec<String> = {
        let mut rd = fresh.db.read().await.unwrap();
        shouhou_store::personal::fingerprints(&mut rd.conn())
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.fingerprint)
            .collect()
    };
    assert!(stored.iter().all(|f| !text.contains(f.as_str())), "fingerprints, not keys");
    // The next start reads the same file and creates nothing.
    let (again, created) = open_keyring(&fresh.db, &KeySource::File(path.clone()), now()).await.unwrap();
    assert_eq!((again.fingerprints(), created), (keys.fingerprints(), None));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

/// A database that was served with a minted key file holds values no configured key opens:
/// `keys status` counts them per version, and reading one is a clear error naming the key, not
/// "database unavailable".
async fn keys_status_reports_values_no_configured_key_can_decrypt(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let good = create_customer(&t, &o, customer("张三", "13812345678")).await;
    // The incident: an instance started with a freshly minted key file (the check bypassed, as
    // before this release), and one with a data.7 nobody kept; each writes a customer.
    let minted = Keyring::parse(&Keyring::generate_file().unwrap()).unwrap();
    let lost = keyring(&[(7, KEY_2)]);
    let mut unreadable = vec![];
    for (keys, name) in [(minted, "李四"), (lost, "王五")] {
        let other = App::new(t.app.db.clone(), Arc::new(SystemClock), AppConfig::default(), keys);
        let (addr, stop, server) = serve_app(other).await.unwrap();
        let r = client()
            .post(format!("http://{addr}/api/v1/customers"))
            .bearer_auth(&o.admin)
            .json(&customer(name, "13912345678"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        unreadable.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }

    let usage = keys::key_usage(&t.app, &Ctx::system()).await.unwrap();
    let per_version = |v: &str| -> (i64, i64) {
        usage.iter().filter(|u| u.version == v).fold((0, 0), |(n, bad), u| (n + u.values, bad + u.undecryptable))
    };
    // Name, phone and address of each customer.
    assert_eq!(per_version("v1"), (6, 3), "{usage:#?}");
    assert_eq!(per_version("v7"), (3, 3), "{usage:#?}");
    let states = keys::key_states(&t.app, &Ctx::system()).await.unwrap();
    assert!(states.iter().all(|s| s.state == "matches"), "{states:?}");

    // Reading: the good customer reads; the others name their key, with 500, not 503.
    assert_eq!(get(&t, &o.admin, &format!("/api/v1/customers/{good}")).await.status(), StatusCode::OK);
    for (id, key) in unreadable.into_iter().zip(["data.1", "data.7"]) {
        let p = problem(
            get(&t, &o.admin, &format!("/api/v1/customers/{id}")).await,
            StatusCode::INTERNAL_SERVER_ERROR,
            "undecryptable_personal_data",
        )
        .await;
        assert_eq!(p["key"], key, "{p}");
    }
}

async fn exec(t: &TestApp, sql: &'static str) {
    let mut tx = t.app.db.begin().await.unwrap();
    both!(&mut tx.conn(), c => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected())).unwrap();
    tx.commit().await.unwrap();
}

crate::on_both_backends!(
    old_values_are_rewritten_under_the_new_key_and_the_old_key_can_go,
    every_encrypted_column_is_listed_for_rotation,
    a_database_with_personal_data_and_no_key_file_is_refused_and_none_is_created,
    a_wrong_key_file_is_refused,
    an_empty_database_gets_fresh_keys,
    keys_status_reports_values_no_configured_key_can_decrypt,
);
