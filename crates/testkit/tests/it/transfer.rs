//! Import of customers and devices from files (all rows or none, with a report of every bad row)
//! and exports to Excel (masked without the right to personal data, audited in clear).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use calamine::{Data, Reader};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_app::{Actor, AppError, Ctx};
use shouhou_app::{
    exports::{self},
    imports::{self, ImportReport, RowError},
    sheets::{self},
};
use shouhou_store::Backend;
use shouhou_testkit::TestApp;

/// The use-case context of a user, as the web layer builds it after login.
pub(crate) async fn ctx_of(t: &TestApp, username: &str) -> Ctx {
    let mut rd = t.app.db.read().await.unwrap();
    let u = shouhou_store::users::user_by_username(&mut rd.conn(), username).await.unwrap().unwrap();
    Ctx { actor: Some(Actor::from_user(&u)), source: "test".into(), request_id: String::new() }
}

async fn import_customers(t: &TestApp, who: &str, name: &str, csv: &str) -> ImportReport {
    let table = sheets::read_rows(name, csv.as_bytes()).unwrap();
    imports::import_customers(&t.app, &ctx_of(t, who).await, &table, |_, _| {}).await.unwrap()
}

async fn audit(t: &TestApp, token: &str, action: &str) -> Value {
    get(t, token, &format!("/api/v1/audit?action={action}")).await.json().await.unwrap()
}

const CUSTOMERS: &str = "\u{feff}客户名称,类型,手机,统一社会信用代码,行政区划代码,地址,等级,服务站编码,身份证号\n\
    张三,个人,+86 138 1234 5678,,440305,深圳市南山区科技园南区 18 栋,VIP,SZ-A,440305199003071236\n\
    深圳某某科技有限公司,企业,0755-26581234,91350100M000100Y43,440305,深圳市南山区高新南一道 9 号,重点,SZ-A,\n\
    李四,,13998765432,,440106,广州市天河区体育西路 1 号,,GZ-B,\n\
    王五,个人,18600001111,,110105,北京市朝阳区建国路 88 号,普通,,\n";

/// Open an exported workbook with calamine: the cells of its first sheet as text.
pub(crate) fn cells(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|d| match d {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

async fn a_file_with_one_bad_row_imports_nothing_and_names_that_row_and_field(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let csv = "客户名称,手机,行政区划代码,地址\n\
        张三,13812345678,440305,深圳市南山区科技园\n\
        李四,1381234567,440305,深圳市南山区科技园\n\
        王五,18600001111,110105,北京市朝阳区建国路\n";
    let mut calls = 0;
    let table = sheets::read_rows("客户.csv", csv.as_bytes()).unwrap();
    let r = imports::import_customers(&t.app, &ctx_of(&t, "admin").await, &table, |_, _| calls += 1).await.unwrap();
    assert_eq!((r.rows, r.imported, calls), (3, 0, 0));
    assert_eq!(
        r.errors,
        [RowError { row: 3, field: "phone".into(), code: "invalid_phone", value: "138****4567".into() }],
        "row 3 as a spreadsheet numbers it, the phone masked"
    );
    assert_eq!(count(&t, "customers").await, 0, "nothing half-imported");
    assert_eq!(audit(&t, &o.admin, "customer.import").await["total"], 0);

    // Every problem of every row at once: the file's own duplicates and what the database knows.
    let csv = "name,phone,region_code,address,station_code,kind,credit_code,身份证号\n\
        张三,13812345678,440305,深圳,SZ-A,,,440305199003071236\n\
        张三丰,138 1234 5678,440305,深圳,,,,\n\
        ,13900000000,999999,深圳,XX-9,,,110105194912310021\n\
        某公司,13700000000,440305,深圳,,company,,11010519491231002X\n";
    let r = import_customers(&t, "admin", "bad.csv", csv).await;
    let got: Vec<(usize, &str, &str)> = r.errors.iter().map(|e| (e.row, e.field.as_str(), e.code)).collect();
    assert_eq!(
        got,
        [
            (3, "phone", "duplicate_in_file"),
            (4, "name", "required"),
            (4, "id_number", "invalid_id_number"),
            (4, "region_code", "unknown_region"),
            (4, "station_code", "unknown_station"),
            (5, "credit_code", "required"),
            (5, "id_number", "not_for_company"),
        ]
    );
    assert_eq!(r.errors[2].value, "1101**********0021", "identity numbers are masked in the report");
    assert_eq!(count(&t, "customers").await, 0);

    // A missing column is an error of the header row.
    let r = import_customers(&t, "admin", "c.csv", "客户名称,地址\n张三,深圳\n").await;
    let got: Vec<(usize, &str, &str)> = r.errors.iter().map(|e| (e.row, e.field.as_str(), e.code)).collect();
    assert_eq!(got, [(1, "phone", "missing_column"), (1, "region_code", "missing_column")]);

    // An import is an administrator's job.
    let table = sheets::read_rows("c.csv", CUSTOMERS.as_bytes()).unwrap();
    for who in ["mgr.a", "eng.a"] {
        let e = imports::import_customers(&t.app, &ctx_of(&t, who).await, &table, |_, _| {}).await;
        assert!(matches!(e, Err(AppError::Forbidden)), "{who}: {e:?}");
    }
    assert_eq!(count(&t, "customers").await, 0);
}

async fn a_good_file_imports_every_row_and_the_screen_pop_finds_them(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let mut seen = vec![];
    let table = sheets::read_rows("客户.csv", CUSTOMERS.as_bytes()).unwrap();
    let r =
        imports::import_customers(&t.app, &ctx_of(&t, "admin").await, &table, |done, total| seen.push((done, total)))
            .await
            .unwrap();
    assert_eq!((r.rows, r.imported), (4, 4), "{:?}", r.errors);
    assert!(r.is_ok());
    assert_eq!(seen.first(), Some(&(0, 4)));
    assert_eq!(seen.last(), Some(&(4, 4)));
    assert_eq!(count(&t, "customers").await, 4);

    let pop: Value = get(&t, &o.admin, "/api/v1/screen-pop?phone=13812345678").await.json().await.unwrap();
    assert_eq!(pop["customer"]["name"], "张三");
    assert_eq!(pop["customer"]["tier"], "vip");
    assert_eq!(pop["customer"]["station_id"], o.a);
    let pop: Value = get(&t, &o.admin, "/api/v1/screen-pop?phone=0755-26581234").await.json().await.unwrap();
    assert_eq!(pop["customer"]["kind"], "company");
    assert_eq!(pop["customer"]["credit_code"], "91350100M000100Y43");
    assert_eq!(pop["customer"]["tier"], "key");
    // Station scope applies to imported customers like any other.
    let eng_b = login(&t, "eng.b").await;
    problem(get(&t, &eng_b, "/api/v1/screen-pop?phone=13812345678").await, StatusCode::NOT_FOUND, "not_found").await;
    let pop: Value = get(&t, &eng_b, "/api/v1/screen-pop?phone=13998765432").await.json().await.unwrap();
    assert_eq!(pop["customer"]["name"], "李*");

    let a = audit(&t, &o.admin, "customer.import").await;
    assert_eq!(a["total"], 1, "one entry for the whole import");
    assert_eq!(a["items"][0]["detail"], json!({"count": 4, "file": "客户.csv"}));

    // The same file again: every row is there already, and nothing is written twice.
    let r = import_customers(&t, "admin", "客户.csv", CUSTOMERS).await;
    assert_eq!(r.imported, 0);
    let codes: Vec<(usize, &str, &str)> = r.errors.iter().map(|e| (e.row, e.field.as_str(), e.code)).collect();
    assert!(codes.contains(&(2, "phone", "already_exists")), "{codes:?}");
    assert!(codes.contains(&(3, "credit_code", "already_exists")), "{codes:?}");
    assert_eq!(r.errors.iter().filter(|e| e.field == "phone").count(), 4);
    assert_eq!(count(&t, "customers").await, 4);
}

async fn devices_are_imported_and_linked_to_their_customers_by_phone(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    for code in ["XG-5000", "XG-7000"] {
        let r =
            post(&t, &o.admin, "/api/v1/product-models", json!({"code": code, "name": code, "product_line": "光传输"}))
                .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    assert!(import_customers(&t, "admin", "c.csv", CUSTOMERS).await.is_ok());
    let admin = ctx_of(&t, "admin").await;
    let import = |csv: &'static str| {
        let admin = admin.clone();
        let app = t.app.clone();
        async move {
            let table = sheets::read_rows("设备.csv", csv.as_bytes()).unwrap();
            imports::import_devices(&app, &admin, &table, |_, _| {}).await.unwrap()
        }
    };

    // Bad rows: an unknown customer, an unknown model, a serial twice, a future sale.
    let r = import(
        "序列号,产品型号,客户手机,销售日期,安装地址\n\
         XG5K-0001,XG-5000,13812345678,2025/1/31,深圳市南山区科技园\n\
         XG5K-0002,XG-5000,13000000000,2025-02-01,\n\
         XG5K-0003,XG-9999,13812345678,2025-02-01,\n\
         xg5k-0001,xg-5000,18600001111,2025-02-01,\n\
         XG5K-0004,XG-5000,18600001111,2999-01-01,\n",
    )
    .await;
    let got: Vec<(usize, &str, &str)> = r.errors.iter().map(|e| (e.row, e.field.as_str(), e.code)).collect();
    assert_eq!(
        got,
        [
            (3, "customer_phone", "unknown_customer"),
            (4, "model_code", "unknown_model"),
            (5, "serial_number", "duplicate_in_file"),
            (6, "sale_date", "in_future"),
        ]
    );
    assert_eq!(r.errors[0].value, "130****0000");
    assert_eq!(count(&t, "devices").await, 0);

    let r = import(
        "serial_number,model_code,customer_phone,sale_date,install_region_code,install_address,dealer_name,contract_until\n\
         XG5K-0001,XG-5000,138 1234 5678,2025/1/31,440305,深圳市南山区科技园,深圳经销商,\n\
         XG5K-0001,XG-7000,0755-26581234,2025-03-01,,,,2028-12-31\n\
         XG5K-0002,XG-5000,18600001111,2025年6月1日,,,,\n",
    )
    .await;
    assert_eq!((r.rows, r.imported), (3, 3), "{:?}", r.errors);
    assert_eq!(count(&t, "devices").await, 3);
    let pop: Value = get(&t, &o.admin, "/api/v1/screen-pop?serial_number=XG5K-0002").await.json().await.unwrap();
    assert_eq!(pop["customer"]["name"], "王五");
    let pop: Value = get(&t, &o.admin, "/api/v1/screen-pop?phone=13812345678").await.json().await.unwrap();
    assert_eq!(pop["devices"][0]["serial_number"], "XG5K-0001");
    assert_eq!(pop["devices"][0]["sale_date"], "2025-01-31");
    assert_eq!(pop["devices"][0]["install_address"], "深圳市南山区科技园");
    let pop: Value = get(&t, &o.admin, "/api/v1/screen-pop?phone=0755-26581234").await.json().await.unwrap();
    assert_eq!(pop["devices"][0]["model_code"], "XG-7000");
    assert_eq!(pop["devices"][0]["warranty"]["status"], "extended");
    // A device belongs to its customer's station: engineers of A see it, of B do not.
    let eng_b = login(&t, "eng.b").await;
    problem(get(&t, &eng_b, "/api/v1/screen-pop?serial_number=XG5K-0001").await, StatusCode::NOT_FOUND, "not_found")
        .await;
    assert_eq!(audit(&t, &o.admin, "device.import").await["total"], 1);

    // Already registered: refused, nothing written.
    let r = import("序列号,产品型号,客户手机,销售日期\nXG5K-0002,XG-5000,18600001111,2025-06-01\n").await;
    assert_eq!(r.errors[0].code, "already_exists");
    assert_eq!(count(&t, "devices").await, 3);
}

async fn an_export_is_masked_for_an_engineer_and_clear_and_audited_for_an_admin(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    assert!(import_customers(&t, "admin", "c.csv", CUSTOMERS).await.is_ok());

    let bytes = exports::export_customers_xlsx(&t.app, &ctx_of(&t, "eng.a").await).await.unwrap();
    let sheet = cells(&bytes);
    assert_eq!(sheet[0][..4], ["客户编号", "客户名称", "类型", "手机"]);
    let phones: Vec<&str> = sheet[1..].iter().map(|r| r[3].as_str()).collect();
    assert!(phones.contains(&"138****5678"), "{phones:?}");
    assert!(!phones.contains(&"139****5432"), "a customer of station B is not exported to A");
    assert_eq!(sheet.len(), 1 + 2, "A's two customers; the one of no station is headquarters'");
    let zhang = sheet.iter().find(|r| r[3] == "138****5678").unwrap();
    assert_eq!(zhang[1], "张*");
    assert_eq!(zhang[5], "4403**********1236");
    assert_eq!(zhang[8], "深圳市南山区****");
    assert_eq!(zhang[9], "VIP");
    assert_eq!(zhang[10], "SZ-A");
    assert_eq!(audit(&t, &o.admin, "customer.export").await["total"], 0, "a masked export reads no personal data");

    let bytes = exports::export_customers_xlsx(&t.app, &ctx_of(&t, "admin").await).await.unwrap();
    let sheet = cells(&bytes);
    assert_eq!(sheet.len(), 1 + 4);
    let zhang = sheet.iter().find(|r| r[3] == "13812345678").expect("the admin's export is in clear");
    assert_eq!(zhang[1], "张三");
    assert_eq!(zhang[5], "440305199003071236");
    assert_eq!(zhang[8], "深圳市南山区科技园南区 18 栋");
    let a = audit(&t, &o.admin, "customer.export").await;
    assert_eq!(a["total"], 1);
    assert_eq!(a["items"][0]["actor_name"], "admin");
    assert_eq!(a["items"][0]["detail"]["count"], 4);
    // What the admin exported in clear can be imported again, header for header.
    let table = sheets::read_rows("export.xlsx", &bytes).unwrap();
    assert_eq!(table.rows.len(), 4);

    // Requests of a queue, with the customer masked likewise.
    let r = post(&t, &o.admin, "/api/v1/service-requests", json!({"customer_id": zhang[0].parse::<i64>().unwrap(), "type": "repair", "channel": "phone", "urgency": "normal", "description": "告警灯常亮"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let number = r.json::<Value>().await.unwrap()["number"].as_str().unwrap().to_string();
    let masked = cells(&exports::export_requests_xlsx(&t.app, &ctx_of(&t, "eng.a").await, "all").await.unwrap());
    assert_eq!(masked[0][0], "工单号");
    assert_eq!(masked[1][..7], [number.as_str(), "报修", "电话", "一般", "新建", "张*", "138****5678"]);
    let clear = cells(&exports::export_requests_xlsx(&t.app, &ctx_of(&t, "admin").await, "all").await.unwrap());
    assert_eq!(clear[1][5..7], ["张三", "13812345678"]);
    assert_eq!(audit(&t, &o.admin, "request.export").await["total"], 1);
    let e = exports::export_requests_xlsx(&t.app, &ctx_of(&t, "admin").await, "nonsense").await;
    assert!(matches!(e, Err(AppError::Validation(_))));
}

crate::on_both_backends!(
    a_file_with_one_bad_row_imports_nothing_and_names_that_row_and_field,
    a_good_file_imports_every_row_and_the_screen_pop_finds_them,
    devices_are_imported_and_linked_to_their_customers_by_phone,
    an_export_is_masked_for_an_engineer_and_clear_and_audited_for_an_admin,
);
