#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;
use shouhou_store::StoreError;
use shouhou_testkit::TestApp;

/// A product model, a customer of station A with a device, as the admin registers them.
async fn desk(t: &TestApp, o: &Org) -> (i64, i64) {
    let r = post(
        t,
        &o.admin,
        "/api/v1/product-models",
        json!({"code": "XG-5000", "name": "XG-5000 光传输设备", "product_line": "光传输"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let c = post(t, &o.admin, "/api/v1/customers", json!({
        "name": "张三", "phone": "+86 138 1234 5678", "id_number": "440305199003071236", "region_code": "440305", "address": "深圳市南山区科技园南区 18 栋", "station_code": "SZ-A",
        "contacts": [{"role": "operator", "name": "李四", "phone": "0755-26581234"}]
    })).await;
    assert_eq!(c.status(), StatusCode::CREATED);
    let customer = c.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let d = post(t, &o.admin, "/api/v1/devices", json!({"serial_number": "xg5k-0001", "model_code": "XG-5000", "customer_id": customer, "sale_date": "2026-01-31"})).await;
    assert_eq!(d.status(), StatusCode::CREATED);
    (customer, d.json::<Value>().await.unwrap()["id"].as_i64().unwrap())
}

async fn register(t: &TestApp, token: &str, customer: i64, extra: Value) -> Value {
    let mut body = json!({"customer_id": customer, "type": "repair", "channel": "phone", "urgency": "normal", "description": "告警灯常亮，业务中断"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = post(t, token, "/api/v1/service-requests", body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn screen_pop_finds_the_customer_by_phone_and_serial_with_warranty_and_requests(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let sr = register(&t, &o.admin, customer, json!({"serial_number": "XG5K-0001"})).await;
    for q in ["phone=13812345678", "phone=138%201234%205678", "phone=0755-26581234", "serial_number=xg5k-0001"] {
        let r = get(&t, &o.admin, &format!("/api/v1/screen-pop?{q}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{q}");
        let pop: Value = r.json().await.unwrap();
        assert_eq!(pop["customer"]["id"], customer);
        assert_eq!(pop["customer"]["name"], "张三");
        assert_eq!(pop["devices"][0]["serial_number"], "XG5K-0001");
        assert_eq!(pop["devices"][0]["warranty"]["status"], "in_warranty");
        assert_eq!(pop["devices"][0]["warranty"]["until"], "2027-01-31");
        assert_eq!(pop["open_requests"][0]["number"], sr["number"]);
    }
    problem(get(&t, &o.admin, "/api/v1/screen-pop?phone=13900000000").await, StatusCode::NOT_FOUND, "not_found").await;
    let body = problem(
        get(&t, &o.admin, "/api/v1/screen-pop?phone=12345").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "invalid_phone");
    // Every look in clear is in the audit trail.
    let audit: Value = get(&t, &o.admin, "/api/v1/audit?action=customer.read_personal").await.json().await.unwrap();
    assert_eq!(audit["total"], 4);
}

async fn roles_without_the_right_see_personal_data_masked_and_other_stations_not_at_all(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let eng = login(&t, "eng.a").await;
    let c: Value = get(&t, &eng, &format!("/api/v1/customers/{customer}")).await.json().await.unwrap();
    assert_eq!(c["name"], "张*");
    assert_eq!(c["phone"], "138****5678");
    assert_eq!(c["contacts"][0]["phone"], "075****1234");
    assert_eq!(c["id_number"], "4403**********1236");
    assert_eq!(c["masked"], true);
    let pop: Value = get(&t, &eng, "/api/v1/screen-pop?serial_number=XG5K-0001").await.json().await.unwrap();
    assert_eq!(pop["customer"]["phone"], "138****5678");
    let before: Value = get(&t, &o.admin, "/api/v1/audit?action=customer.read_personal").await.json().await.unwrap();
    assert_eq!(before["total"], 0, "masked reads are not reads of personal data");
    let clear: Value = get(&t, &o.admin, &format!("/api/v1/customers/{customer}")).await.json().await.unwrap();
    assert_eq!(clear["id_number"], "440305199003071236");
    let eng_b = login(&t, "eng.b").await;
    problem(get(&t, &eng_b, &format!("/api/v1/customers/{customer}")).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(get(&t, &eng_b, "/api/v1/screen-pop?phone=13812345678").await, StatusCode::NOT_FOUND, "not_found").await;
    let sr = register(&t, &o.admin, customer, json!({})).await;
    problem(
        get(&t, &eng_b, &format!("/api/v1/service-requests/{}", sr["id"])).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(get(&t, &eng, &format!("/api/v1/service-requests/{}", sr["id"])).await.status(), StatusCode::OK);
}

async fn the_database_holds_no_phone_number_in_clear(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let phones = ["13812345678", "13998765432", "18600001111"];
    let id_numbers = ["11010519491231002X", "440305199003071236", "510107198805126601"];
    for (i, (p, id)) in phones.iter().zip(id_numbers).enumerate() {
        // With an idempotency key: the answer kept for retries shows the customer too.
        let body = json!({"name": format!("客户{i}"), "phone": p, "id_number": id, "region_code": "110105", "address": "北京市朝阳区建国路 88 号"});
        let r =
            client().post(t.url("/api/v1/customers")).bearer_auth(&o.admin).header("Idempotency-Key", format!("c-{i}"));
        assert_eq!(r.json(&body).send().await.unwrap().status(), StatusCode::CREATED);
    }
    // A screen pop leaves traces too (its audited clear read).
    assert_eq!(get(&t, &o.admin, "/api/v1/screen-pop?phone=13812345678").await.status(), StatusCode::OK);
    match b {
        Backend::Sqlite => {
            // Checkpoint the WAL so the file holds everything, then read the raw bytes.
            if let shouhou_store::Db::Sqlite { writer, .. } = &t.app.db {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(writer).await.unwrap();
            }
            let path = t.db.url.trim_start_matches("sqlite://").to_string();
            let mut bytes = std::fs::read(&path).unwrap();
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            let text = String::from_utf8_lossy(&bytes);
            assert!(text.contains("customers"), "read the right file");
            for p in phones {
                assert!(!text.contains(p), "{p} found in clear in the database file");
                assert!(!text.contains(&p[3..]), "the last eight digits of {p} found in the database file");
            }
            assert!(!text.contains("北京市朝阳区建国路"), "addresses are encrypted too");
            for id in id_numbers {
                assert!(!text.contains(&id[4..14]), "the middle of identity number {id} found in the database file");
            }
        }
        Backend::Postgres => {
            let mut rd = t.app.db.read().await.unwrap();
            // Every column of every row of every table, as PostgreSQL prints the row.
            let tables: Vec<String> = shouhou_store::both!(&mut rd.conn(), c => sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
                .fetch_all(c).await)
            .unwrap();
            assert!(tables.len() > 20, "{tables:?}");
            let mut dump: Vec<String> = vec![];
            for table in &tables {
                let sql = format!("SELECT t::text FROM \"{table}\" t");
                let rows: Vec<String> =
                    shouhou_store::both!(&mut rd.conn(), c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(c).await)
                    .unwrap();
                dump.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
            }
            assert!(dump.iter().filter(|r| r.starts_with("customers:")).count() >= 3);
            assert!(dump.iter().any(|r| r.starts_with("idempotency_keys:")), "the kept answers were read too");
            for p in phones {
                let found: Vec<&String> = dump.iter().filter(|row| row.contains(&p[3..])).collect();
                assert!(found.is_empty(), "{p} in clear: {found:?}");
            }
            assert!(dump.iter().all(|row| !row.contains("建国路")), "addresses are encrypted too");
            for id in id_numbers {
                assert!(dump.iter().all(|row| !row.contains(&id[4..14])), "{id} in clear");
            }
        }
    }
}

async fn bad_customers_and_devices_are_refused_field_by_field_and_nothing_is_written(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let customers = count(&t, "customers").await;
    let devices = count(&t, "devices").await;
    let r = post(
        &t,
        &o.admin,
        "/api/v1/customers",
        json!({"name": "", "phone": "12345678901", "region_code": "999999", "address": "x"}),
    )
    .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "phone", "region_code"]);
    let r = post(&t, &o.admin, "/api/v1/customers", json!({"kind": "company", "name": "深圳某某科技有限公司", "phone": "0755-26581234", "credit_code": "91350100M000100Y44", "region_code": "440305", "address": "x"})).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "invalid_credit_code");
    let r = post(&t, &o.admin, "/api/v1/customers", json!({"name": "王五", "phone": "13912345678", "id_number": "110105194912310021", "region_code": "440305", "address": "x"})).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        (&body["errors"][0]["field"], &body["errors"][0]["code"]),
        (&json!("id_number"), &json!("invalid_id_number"))
    );

    let bad_device = |serial: &str, model: &str, sale: &str| json!({"serial_number": serial, "model_code": model, "customer_id": customer, "sale_date": sale});
    for (body, field, code) in [
        (bad_device("SN-1", "NO-SUCH", "2026-01-01"), "model_code", "unknown_model"),
        (bad_device("SN-1", "XG-5000", "2999-01-01"), "sale_date", "in_future"),
        (bad_device("SN 1!", "XG-5000", "2026-01-01"), "serial_number", "invalid_serial"),
        (bad_device("XG5K-0001", "XG-5000", "2026-01-01"), "serial_number", "already_exists"),
        (
            json!({"serial_number": "SN-2", "model_code": "XG-5000", "customer_id": 999999, "sale_date": "2026-01-01"}),
            "customer_id",
            "unknown_customer",
        ),
    ] {
        let r = post(&t, &o.admin, "/api/v1/devices", body).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(
            (p["errors"][0]["field"].as_str().unwrap(), p["errors"][0]["code"].as_str().unwrap()),
            (field, code)
        );
    }
    assert_eq!(count(&t, "customers").await, customers);
    assert_eq!(count(&t, "devices").await, devices);
}

async fn a_request_walks_its_lifecycle_and_illegal_or_stale_steps_are_refused(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let sr = register(&t, &o.admin, customer, json!({"serial_number": "XG5K-0001"})).await;
    let number = sr["number"].as_str().unwrap();
    assert!(shouhou_domain::requests::parse_request_number(number).is_some_and(|(_, n)| n == 1), "{number}");
    let id = sr["id"].as_i64().unwrap();
    let path = format!("/api/v1/service-requests/{id}/transitions");
    let r = post(&t, &o.admin, &path, json!({"action": "confirm", "version": 2})).await;
    let p = problem(r, StatusCode::CONFLICT, "illegal_transition").await;
    assert_eq!(p["allowed"], json!(["accept", "respond", "resolve", "cancel"]));
    let mut version = 2;
    for (action, status) in [
        ("accept", "accepted"),
        ("respond", "responded"),
        ("start_work", "in_progress"),
        ("wait_for_customer", "waiting_customer"),
        ("resume", "in_progress"),
        ("resolve", "resolved"),
        ("reopen", "reopened"),
        ("resolve", "resolved"),
        ("confirm", "confirmed"),
    ] {
        let r =
            post(&t, &o.admin, &path, json!({"action": action, "version": version, "note": format!("{action} 备注")}))
                .await;
        assert_eq!(r.status(), StatusCode::OK, "{action}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], status);
        version = v["version"].as_i64().unwrap();
    }
    // Not closed by hand while its return visit is open; the visit closes it.
    let p = problem(
        post(&t, &o.admin, &path, json!({"action": "close", "version": version})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "return_visit_open");
    close_by_visit(&t, &o.admin, id).await;
    let detail: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{id}")).await.json().await.unwrap();
    assert_eq!(detail["status"], "closed");
    assert_eq!(detail["allowed_actions"], json!([]));
    assert_eq!(detail["events"].as_array().unwrap().len(), 11, "created + 9 transitions + the visit's close");
    assert_eq!(detail["clocks"]["response"]["met"], true);
    problem(
        post(&t, &o.admin, &path, json!({"action": "reopen", "version": detail["version"]})).await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;

    // Two agents on one request: the second, on the old version, gets 409 and changes nothing.
    let sr2 = register(&t, &o.admin, customer, json!({})).await;
    let path2 = format!("/api/v1/service-requests/{}/transitions", sr2["id"]);
    assert_eq!(post(&t, &o.admin, &path2, json!({"action": "accept", "version": 2})).await.status(), StatusCode::OK);
    problem(
        post(&t, &o.admin, &path2, json!({"action": "respond", "version": 2})).await,
        StatusCode::CONFLICT,
        "stale_version",
    )
    .await;
    let body = problem(
        post(&t, &o.admin, &path2, json!({"action": "cancel", "version": 3})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "reason_required");
    // Taking a request puts it in "mine"; someone of another station cannot be given it.
    let eng = login(&t, "eng.a").await;
    let assign = format!("/api/v1/service-requests/{}/assignee", sr2["id"]);
    let r = post(&t, &eng, &assign, json!({"version": 3})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mine: Value = get(&t, &eng, "/api/v1/service-requests?queue=mine").await.json().await.unwrap();
    assert_eq!(mine["items"][0]["id"], sr2["id"]);
    let me_b: Value = get(&t, &o.admin, "/api/v1/users?q=eng.b").await.json().await.unwrap();
    let eng_b = me_b["items"][0]["id"].as_i64().unwrap();
    let p = problem(
        post(&t, &o.admin, &assign, json!({"version": 4, "user_id": eng_b})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "cannot_take_request");
    // First-contact resolution is recorded as such.
    let fcr = register(
        &t,
        &o.admin,
        customer,
        json!({"type": "consultation", "resolve_now": "已指导客户重启设备，恢复正常"}),
    )
    .await;
    let d: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{}", fcr["id"])).await.json().await.unwrap();
    assert_eq!(d["status"], "resolved");
    assert_eq!(d["first_contact_resolution"], true);
    assert_eq!(d["response_target_min"], 5, "the consultation policy applies");
}

async fn requests_created_at_once_get_distinct_consecutive_numbers_across_two_instances(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    // A second instance on the same database with its own pool and App, as a second process is.
    let second = shouhou_testkit::second_instance(&t).await.unwrap();
    let urls = [t.url("/api/v1/service-requests"), format!("http://{}/api/v1/service-requests", second.0)];
    let mut tasks = vec![];
    for i in 0..20 {
        let url = urls[i % 2].clone();
        let token = o.admin.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"customer_id": customer, "type": "repair", "channel": "phone", "urgency": "normal", "description": format!("并发创建 {i}")});
            let r = client().post(url).bearer_auth(token).json(&body).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<Value>().await.unwrap()["number"].as_str().unwrap().to_string()
        }));
    }
    let mut numbers = vec![];
    for task in tasks {
        numbers.push(task.await.unwrap());
    }
    let mut counters: Vec<u64> =
        numbers.iter().map(|n| shouhou_domain::requests::parse_request_number(n).unwrap().1).collect();
    counters.sort();
    assert_eq!(counters, (1..=20).collect::<Vec<u64>>(), "{numbers:?}");
    let _ = second.1.send(());
}

async fn a_failed_registration_takes_no_number(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let first = register(&t, &o.admin, customer, json!({})).await;
    let r = post(&t, &o.admin, "/api/v1/service-requests", json!({"customer_id": customer, "type": "repair", "channel": "phone", "description": "x", "serial_number": "NOPE"})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    // A registration that fails after it took its number (the request's insert is refused by the
    // database): the number goes back with the rest of the transaction.
    {
        let mut tx = t.app.db.begin().await.unwrap();
        let mut c = tx.conn();
        let ddl: &[&str] = match b {
            Backend::Sqlite => &["CREATE TRIGGER refuse_probe BEFORE INSERT ON service_requests \
                WHEN NEW.description = '探针' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"],
            Backend::Postgres => &[
                "CREATE FUNCTION refuse_probe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.description = '探针' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse_probe BEFORE INSERT ON service_requests FOR EACH ROW EXECUTE FUNCTION refuse_probe()",
            ],
        };
        for sql in ddl {
            shouhou_store::both!(&mut c, c => sqlx::query(*sql).execute(c).await.map(|r| r.rows_affected())).unwrap();
        }
        tx.commit().await.unwrap();
    }
    let r = post(
        &t,
        &o.admin,
        "/api/v1/service-requests",
        json!({"customer_id": customer, "type": "repair", "channel": "phone", "description": "探针"}),
    )
    .await;
    assert!(r.status().is_server_error(), "{}", r.status());
    let next = register(&t, &o.admin, customer, json!({})).await;
    let n = |v: &Value| shouhou_domain::requests::parse_request_number(v["number"].as_str().unwrap()).unwrap().1;
    assert_eq!(n(&next), n(&first) + 1, "neither failure used a number up");
    assert_eq!(count(&t, "service_requests").await, 2);
}

/// A stored value the rules do not know is an error with its cause, never a default: an unknown
/// status used to read as whatever the code fell back to, an instant out of range as 1970.
async fn a_corrupt_stored_request_is_an_error_not_a_default(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let good = register(&t, &o.admin, customer, json!({})).await["id"].as_i64().unwrap();
    let bad_status = register(&t, &o.admin, customer, json!({})).await["id"].as_i64().unwrap();
    let bad_instant = register(&t, &o.admin, customer, json!({})).await["id"].as_i64().unwrap();
    {
        let mut tx = t.app.db.begin().await.unwrap();
        let mut c = tx.conn();
        for (sql, id) in [
            ("UPDATE service_requests SET status = 'on_holiday' WHERE id = $1", bad_status),
            ("UPDATE service_requests SET created_at = 9223372036854775807 WHERE id = $1", bad_instant),
        ] {
            shouhou_store::both!(&mut c, c => sqlx::query(sql).bind(id).execute(c).await.map(|r| r.rows_affected()))
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let mut rd = t.app.db.read().await.unwrap();
    let read = |e: Result<Option<shouhou_domain::requests::Request>, StoreError>| match e {
        Err(StoreError::Corrupt(m)) => m,
        other => panic!("expected a corrupt value, got {other:?}"),
    };
    assert!(shouhou_store::requests::get_request(&mut rd.conn(), good).await.unwrap().is_some());
    assert!(read(shouhou_store::requests::get_request(&mut rd.conn(), bad_status).await).contains("status"));
    assert!(read(shouhou_store::requests::get_request(&mut rd.conn(), bad_instant).await).contains("created_at"));
    drop(rd);
    // Through the API: a 500 with its request id, not a request shown with a made-up status.
    let r = get(&t, &o.admin, &format!("/api/v1/service-requests/{bad_status}")).await;
    problem(r, StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
    let r = get(&t, &o.admin, &format!("/api/v1/service-requests/{good}")).await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn the_sla_preview_counts_business_hours_over_national_day(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let due = |cal: &str, start: &str, target: &str| {
        let url = format!("/api/v1/sla/preview?calendar={cal}&start={}&target={target}", start.replace('+', "%2B"));
        let t = &t;
        let token = o.admin.clone();
        async move { get(t, &token, &url).await }
    };
    let r: Value = due("cn-workday", "2025-09-30T16:00:00+08:00", "PT8H").await.json().await.unwrap();
    assert_eq!(r["due"], "2025-10-09T16:30:00+08:00");
    let r: Value = due("cn-workday", "2025-10-10T16:00:00+08:00", "PT8H").await.json().await.unwrap();
    assert_eq!(r["due"], "2025-10-11T16:30:00+08:00", "the make-up Saturday is a working day");
    let r: Value = due("24x7", "2025-09-30T16:00:00+08:00", "PT8H").await.json().await.unwrap();
    assert_eq!(r["due"], "2025-10-01T00:00:00+08:00");
    let p = problem(due("nope", "x", "forever").await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["start", "target", "calendar"]);
}

async fn attachments_are_accepted_by_content_and_served_back_to_who_may_see_them(b: Backend) {
    use reqwest::multipart::{Form, Part};
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let sr = register(&t, &o.admin, customer, json!({})).await;
    let url = t.url(&format!("/api/v1/service-requests/{}/attachments", sr["id"]));
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-fake-but-png-signature".to_vec();
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name));
        client().post(url.clone()).bearer_auth(&o.admin).multipart(form).send()
    };
    let r = upload("现场照片.png", png.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let att = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = get(&t, &o.admin, &format!("/api/v1/attachments/{att}")).await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    for (name, bytes, code) in [
        ("photo.jpg", b"%PDF-1.7 not a photo".to_vec(), "file_type_mismatch"),
        ("setup.exe", b"MZ\x90\x00\x03".to_vec(), "unsupported_file_type"),
        ("empty.png", vec![], "empty_file"),
    ] {
        let p =
            problem(upload(name, bytes).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(p["errors"][0]["code"], code, "{name}");
    }
    let big = upload("big.txt", vec![b'a'; 10 * 1024 * 1024 + 1]).await.unwrap();
    problem(big, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(count(&t, "attachments").await, 1);
    let detail: Value =
        get(&t, &o.admin, &format!("/api/v1/service-requests/{}", sr["id"])).await.json().await.unwrap();
    assert_eq!(detail["attachments"][0]["file_name"], "现场照片.png");
    assert!(detail["events"].as_array().unwrap().iter().any(|e| e["kind"] == "attachment"));
    let eng_b = login(&t, "eng.b").await;
    problem(get(&t, &eng_b, &format!("/api/v1/attachments/{att}")).await, StatusCode::NOT_FOUND, "not_found").await;
}

async fn an_urgency_change_while_paused_recomputes_the_due_time_without_counting_the_pause(b: Backend) {
    use std::sync::Arc;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let clock = Arc::new(shouhou_app::FixedClock::new(at("2026-11-24T09:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let sr = register(&t, &o.admin, customer, json!({})).await;
    let id = sr["id"].as_i64().unwrap();
    let path = format!("/api/v1/service-requests/{id}");
    let d: Value = get(&t, &o.admin, &path).await.json().await.unwrap();
    assert_eq!(d["calendar_code"], "cn-workday");
    assert_eq!(
        d["response_due_at"], "2026-11-25T09:30:00+08:00",
        "7 business hours that day (lunch excluded), 1 the next morning"
    );
    clock.set_ms(at("2026-11-24T10:00:00+08:00"));
    let tr = format!("{path}/transitions");
    assert_eq!(post(&t, &o.admin, &tr, json!({"action": "respond", "version": 2})).await.status(), StatusCode::OK);
    assert_eq!(
        post(&t, &o.admin, &tr, json!({"action": "wait_for_customer", "version": 3})).await.status(),
        StatusCode::OK
    );
    clock.set_ms(at("2026-11-24T14:00:00+08:00"));
    let r = patch(&t, &o.admin, &path, json!({"urgency": "urgent", "version": 4})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let d: Value = get(&t, &o.admin, &path).await.json().await.unwrap();
    assert_eq!(d["calendar_code"], "24x7");
    assert_eq!(d["resolution_target_min"], 1440);
    assert_eq!(d["resolution_state"], "paused");
    assert_eq!(d["clocks"]["response"]["met"], true, "the response met before stays met");
    clock.set_ms(at("2026-11-24T15:00:00+08:00"));
    assert_eq!(post(&t, &o.admin, &tr, json!({"action": "resume", "version": 5})).await.status(), StatusCode::OK);
    let d: Value = get(&t, &o.admin, &path).await.json().await.unwrap();
    // 1 h counted before the pause, 23 h left from 15:00 on the 24×7 calendar.
    assert_eq!(d["resolution_due_at"], "2026-11-25T14:00:00+08:00");
    let closed = register(&t, &o.admin, customer, json!({"resolve_now": "当场解决"})).await;
    let cp = format!("/api/v1/service-requests/{}", closed["id"]);
    let c = format!("{cp}/transitions");
    assert_eq!(post(&t, &o.admin, &c, json!({"action": "confirm", "version": 2})).await.status(), StatusCode::OK);
    close_by_visit(&t, &o.admin, closed["id"].as_i64().unwrap()).await;
    let p = problem(
        patch(&t, &o.admin, &cp, json!({"urgency": "urgent", "version": 4})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "request_closed");
}

async fn a_station_on_its_own_calendar_counts_business_targets_on_it(b: Backend) {
    use std::sync::Arc;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    // Saturday: closed on cn-workday, open on the station's 24 × 7 calendar.
    let clock = Arc::new(shouhou_app::FixedClock::new(at("2026-11-28T10:00:00+08:00")));
    let t = shouhou_testkit::spawn_app_with_clock(b, clock.clone()).await.unwrap();
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let p = problem(
        client()
            .put(t.url(&format!("/api/v1/stations/{}/calendar", o.a)))
            .bearer_auth(&o.admin)
            .json(&json!({"calendar_code": "nope"}))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unknown_calendar");
    let before = register(&t, &o.admin, customer, json!({})).await;
    let d: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{}", before["id"])).await.json().await.unwrap();
    assert_eq!(
        d["response_due_at"], "2026-12-01T09:00:00+08:00",
        "Monday 7.5 h, then Tuesday 08:30 + 0.5 h on cn-workday"
    );
    let r = client()
        .put(t.url(&format!("/api/v1/stations/{}/calendar", o.a)))
        .bearer_auth(&o.admin)
        .json(&json!({"calendar_code": "24x7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let after = register(&t, &o.admin, customer, json!({})).await;
    let d: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{}", after["id"])).await.json().await.unwrap();
    assert_eq!(d["calendar_code"], "24x7");
    assert_eq!(d["response_due_at"], "2026-11-28T18:00:00+08:00");
    // A change of urgency chooses the policy again, still counted on the station's calendar.
    let path = format!("/api/v1/service-requests/{}", after["id"]);
    let r = patch(&t, &o.admin, &path, json!({"urgency": "low", "version": d["version"]})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let d: Value = get(&t, &o.admin, &path).await.json().await.unwrap();
    assert_eq!(d["urgency"], "low");
    assert_eq!(d["calendar_code"], "24x7", "the station's own calendar is kept on reclassification");
    assert_eq!(d["response_due_at"], "2026-11-28T18:00:00+08:00");
}

/// A retried transition gets the first answer back whole, its ETag too, and steps once.
async fn a_retried_transition_is_answered_again_with_its_etag(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let sr = register(&t, &o.admin, customer, json!({})).await;
    let send = || {
        client()
            .post(t.url(&format!("/api/v1/service-requests/{}/transitions", sr["id"])))
            .bearer_auth(&o.admin)
            .header("Idempotency-Key", "accept-1")
            .json(&json!({"action": "accept", "version": 2}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers().get("etag").cloned().expect("an ETag");
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK, "not 409: the same step, answered again");
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.headers().get("etag"), Some(&etag));
    assert_eq!(count(&t, "request_events").await, 2, "created and accepted, once each");
}

/// A registration whose process dies after the command ran and before its answer was stored or
/// sent: the retry with the same key registers it once (not 409 for ten minutes, never a
/// second request), and a further retry gets that answer replayed.
async fn a_retry_after_the_answer_was_lost_registers_the_request_once(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    let body = json!({"customer_id": customer, "type": "repair", "channel": "phone", "description": "开不了机"});
    let send = || {
        client()
            .post(t.url("/api/v1/service-requests"))
            .bearer_auth(&o.admin)
            .header("Idempotency-Key", "crash-1")
            .json(&body)
            .send()
    };
    t.faults.lose_next_answer.store(true, std::sync::atomic::Ordering::SeqCst);
    let lost = send().await.unwrap();
    assert!(lost.status().is_server_error(), "the client got no answer: {}", lost.status());
    let retry = send().await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED, "the retry carries the command out");
    assert!(retry.headers().get("idempotent-replayed").is_none());
    let first: Value = retry.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(count(&t, "service_requests").await, 1, "one request for three sends");
    assert!(first["number"].as_str().unwrap().ends_with("-0001"), "no number was used up: {first}");
}

/// Every transition the lifecycle allows, each from a request brought to its starting status
/// the shortest way (found from the domain's own table), through the API: each answers 200 with
/// the status the domain says, cancellation with its reason included.
async fn every_allowed_transition_is_carried_out_through_the_api(b: Backend) {
    use shouhou_domain::requests::{Action, Status};
    use std::collections::{HashMap, VecDeque};
    let t = app(b).await;
    let o = org(&t).await;
    let (customer, _) = desk(&t, &o).await;
    // The shortest path of actions from `new` to every status.
    let mut path: HashMap<Status, Vec<Action>> = HashMap::from([(Status::New, vec![])]);
    let mut queue = VecDeque::from([Status::New]);
    while let Some(s) = queue.pop_front() {
        for &a in s.allowed_actions() {
            let next = s.apply(a).unwrap();
            if !path.contains_key(&next) {
                let mut p = path[&s].clone();
                p.push(a);
                path.insert(next, p);
                queue.push_back(next);
            }
        }
    }
    let step = |id: i64, version: i64, a: Action| {
        let note = if a == Action::Cancel { "客户撤回报修" } else { "" };
        let url = format!("/api/v1/service-requests/{id}/transitions");
        let body = json!({"action": a.as_str(), "version": version, "note": note});
        let t = &t;
        let token = o.admin.clone();
        async move {
            let r = post(t, &token, &url, body).await;
            assert_eq!(r.status(), StatusCode::OK, "{} at version {version}", a.as_str());
            r.json::<Value>().await.unwrap()
        }
    };
    let mut carried_out = 0;
    for from in Status::ALL {
        for &action in from.allowed_actions() {
            let sr = register(&t, &o.admin, customer, json!({})).await;
            let id = sr["id"].as_i64().unwrap();
            let mut version = get(&t, &o.admin, &format!("/api/v1/service-requests/{id}"))
                .await
                .json::<Value>()
                .await
                .unwrap()["version"]
                .as_i64()
                .unwrap();
            for &a in &path[&from] {
                version = step(id, version, a).await["version"].as_i64().unwrap();
            }
            // A resolved request is closed by its return visit, not by hand while the visit is open.
            let answer = if action == Action::Close {
                let url = format!("/api/v1/service-requests/{id}/transitions");
                let r = post(&t, &o.admin, &url, json!({"action": "close", "version": version})).await;
                let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
                assert_eq!(p["errors"][0]["code"], "return_visit_open");
                close_by_visit(&t, &o.admin, id).await
            } else {
                step(id, version, action).await
            };
            let now: Value = get(&t, &o.admin, &format!("/api/v1/service-requests/{id}")).await.json().await.unwrap();
            assert_eq!(
                now["status"],
                from.apply(action).unwrap().as_str(),
                "{} then {}: {answer}",
                from.as_str(),
                action.as_str()
            );
            carried_out += 1;
        }
    }
    assert_eq!(carried_out, Status::ALL.iter().map(|s| s.allowed_actions().len()).sum::<usize>());
    assert!(carried_out >= 24, "{carried_out}");
}

crate::on_both_backends!(
    every_allowed_transition_is_carried_out_through_the_api,
    a_retried_transition_is_answered_again_with_its_etag,
    a_retry_after_the_answer_was_lost_registers_the_request_once,
    screen_pop_finds_the_customer_by_phone_and_serial_with_warranty_and_requests,
    roles_without_the_right_see_personal_data_masked_and_other_stations_not_at_all,
    the_database_holds_no_phone_number_in_clear,
    bad_customers_and_devices_are_refused_field_by_field_and_nothing_is_written,
    a_request_walks_its_lifecycle_and_illegal_or_stale_steps_are_refused,
    requests_created_at_once_get_distinct_consecutive_numbers_across_two_instances,
    a_failed_registration_takes_no_number,
    a_corrupt_stored_request_is_an_error_not_a_default,
    the_sla_preview_counts_business_hours_over_national_day,
    attachments_are_accepted_by_content_and_served_back_to_who_may_see_them,
    an_urgency_change_while_paused_recomputes_the_due_time_without_counting_the_pause,
    a_station_on_its_own_calendar_counts_business_targets_on_it,
);
