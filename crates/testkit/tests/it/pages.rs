#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::auth::hidden;
use crate::helpers::*;
use reqwest::{Client, StatusCode};
use shouhou_store::Backend;
use shouhou_testkit::TestApp;

pub(crate) async fn web_login(t: &TestApp, username: &str) -> (Client, String) {
    let web = client();
    let page = web.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "_csrf");
    let r = web
        .post(t.url("/login"))
        .form(&[("username", username), ("password", PASSWORD), ("_csrf", &csrf), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("shouhou_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let home = web.get(t.url("/")).send().await.unwrap().text().await.unwrap();
    (web, hidden(&home, "_csrf"))
}

async fn a_form_without_the_session_csrf_token_is_refused_and_changes_nothing(b: Backend) {
    let t = app(b).await;
    let _o = org(&t).await;
    let (web, csrf) = web_login(&t, "admin").await;
    let before = count(&t, "stations").await;
    let form = [("code", "HZ-X"), ("name", "杭州西湖服务站"), ("region_code", "330106"), ("address", "文三路 1 号")];
    let r = web.post(t.url("/stations")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("表单已过期"));
    let mut wrong = form.to_vec();
    wrong.push(("_csrf", "forged"));
    assert_eq!(web.post(t.url("/stations")).form(&wrong).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&t, "stations").await, before);
    // Another site's page cannot log the user out either.
    assert_eq!(
        web.post(t.url("/logout")).form(&[("_csrf", "x")]).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // With the token the same form goes through.
    let mut good = form.to_vec();
    good.push(("_csrf", &csrf));
    let r = web.post(t.url("/stations")).form(&good).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&t, "stations").await, before + 1);
    // The login form is protected too (double-submit cookie).
    let fresh = client();
    let _ = fresh.get(t.url("/login")).send().await.unwrap();
    let r = fresh
        .post(t.url("/login"))
        .form(&[("username", "admin"), ("password", PASSWORD), ("_csrf", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn a_wrong_password_on_the_login_page_says_so_in_chinese_and_english(b: Backend) {
    let t = app(b).await;
    add_user(&t.app, "admin", &["admin"], &[]).await;
    let web = client();
    let page = web.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("售后服务管理系统"));
    let csrf = hidden(&page, "_csrf");
    let r = web
        .post(t.url("/login"))
        .form(&[("username", "admin"), ("password", "nope-nope"), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.unwrap();
    assert!(body.contains("用户名或密码错误，请重新输入。"));
    assert!(body.contains("value=\"admin\""), "the username is kept");
    let r = web.get(t.url("/lang/en?next=/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = web.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "_csrf");
    let body = web
        .post(t.url("/login"))
        .form(&[("username", "admin"), ("password", "nope-nope"), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Wrong username or password. Please try again."));
}

async fn pages_need_a_login_and_administrators_manage_users_through_them(b: Backend) {
    let t = app(b).await;
    let _o = org(&t).await;
    let r = client().get(t.url("/stations")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers().get("location").unwrap(), "/login?next=/stations");
    let (web, csrf) = web_login(&t, "admin").await;
    let users = web.get(t.url("/users")).send().await.unwrap().text().await.unwrap();
    assert!(users.contains("eng.a"));
    let form = [
        ("_csrf", csrf.as_str()),
        ("username", "zhao.lei"),
        ("display_name", "赵磊"),
        ("password", "Zhao-Lei-2026"),
        ("locale", "zh-CN"),
        ("roles", "engineer"),
        ("stations", ""),
    ];
    let r = web.post(t.url("/users")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("工程师和站长必须属于某个服务站"));
    let mut form = form.to_vec();
    form.retain(|(k, _)| *k != "stations");
    form.push(("stations", "SZ-A"));
    form.push(("roles", "agent"));
    let r = web.post(t.url("/users")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let list = web.get(t.url("/users?q=zhao")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("赵磊") && list.contains("客服坐席") && list.contains("工程师"));
    // The user's language is theirs: switching to English changes the pages.
    let r = web
        .post(t.url("/account/language"))
        .form(&[("_csrf", csrf.as_str()), ("locale", "en"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = web.get(t.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Service stations") && home.contains("lang=\"en\""));
}

/// An expired session under an htmx request (the screen pop, the inbox counter) sends the whole
/// page to the login page and back to where the user was, rather than the login page into a fragment.
async fn an_htmx_request_without_a_session_is_sent_to_the_login_page_as_a_whole(b: Backend) {
    let t = app(b).await;
    let r = client()
        .get(t.url("/desk/lookup?q=13812345678"))
        .header("hx-request", "true")
        .header("hx-current-url", format!("{}/desk?q=138", t.url("")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers().get("hx-redirect").unwrap(), "/login?next=/desk%3Fq%3D138");
    let r = client().get(t.url("/requests?queue=mine")).header("hx-request", "true").send().await.unwrap();
    assert_eq!(r.headers().get("hx-redirect").unwrap(), "/login", "no page known: the login page alone");
    // A plain request keeps its redirect.
    let r = client().get(t.url("/desk/lookup?q=13812345678")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers().get("hx-redirect").is_none());
}

/// Pages and API answers carry the security headers.
async fn every_answer_carries_the_security_headers(b: Backend) {
    let t = app(b).await;
    for path in ["/login", "/api/v1/stations", "/static/app.js", "/no-such-page"] {
        let r = client().get(t.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h.get("content-security-policy").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY", "{path}");
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff", "{path}");
        assert_eq!(h.get("referrer-policy").unwrap(), "same-origin", "{path}");
    }
}

/// A form sent twice with its key (a double click, a retry) writes once, and the second answer is
/// the first's: the redirect to the request registered, not a second request nor a 409.
async fn a_form_sent_twice_with_its_key_registers_one_request_and_steps_once(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let c = post(
        &t,
        &o.admin,
        "/api/v1/customers",
        serde_json::json!({
            "name": "张三", "phone": "13812345678", "region_code": "440305", "address": "深圳市南山区科技园"
        }),
    )
    .await;
    assert_eq!(c.status(), StatusCode::CREATED);
    let customer = c.json::<serde_json::Value>().await.unwrap()["id"].to_string();
    let (web, csrf) = web_login(&t, "admin").await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("_idem", "5f1c0a9e4b7d4e2a9c3b8d7e6f5a4b3c"),
        ("customer_id", customer.as_str()),
        ("type", "repair"),
        ("channel", "phone"),
        ("urgency", "normal"),
        ("description", "设备告警灯常亮"),
    ];
    let (first, second) = tokio::join!(
        web.post(t.url("/desk/requests")).form(&form).send(),
        web.post(t.url("/desk/requests")).form(&form).send()
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!((first.status(), second.status()), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    let location = first.headers().get("location").unwrap().to_str().unwrap().to_string();
    assert!(location.starts_with("/requests/"), "{location}");
    assert_eq!(second.headers().get("location").unwrap().to_str().unwrap(), location);
    assert_eq!(count(&t, "service_requests").await, 1, "one request for two submissions");
    // What is kept for the replay is encrypted like personal data: answers may show some.
    let stored: Vec<(Option<String>, Option<String>)> = {
        let mut rd = t.app.db.read().await.unwrap();
        shouhou_store::both!(&mut rd.conn(), c => sqlx::query_as(
            "SELECT response_body, location FROM idempotency_keys WHERE status_code IS NOT NULL").fetch_all(c).await)
        .unwrap()
    };
    assert!(!stored.is_empty());
    for (body, location) in &stored {
        assert!(body.as_deref().is_some_and(|b| b.starts_with("v1:")), "{body:?}");
        assert!(location.as_deref().is_none_or(|l| l.starts_with("v1:")), "{location:?}");
    }
    // A later submission of the same form, as a retry, gets the same answer too.
    let again = web.post(t.url("/desk/requests")).form(&form).send().await.unwrap();
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.headers().get("location").unwrap().to_str().unwrap(), location);
    assert_eq!(count(&t, "service_requests").await, 1);

    // A double-clicked step: both answers are the step's redirect, the second is not "changed by someone else".
    let step = [("_csrf", csrf.as_str()), ("_idem", "0b5e"), ("action", "accept"), ("version", "2"), ("note", "")];
    let path = format!("{location}/transitions");
    let (a, b2) = tokio::join!(web.post(t.url(&path)).form(&step).send(), web.post(t.url(&path)).form(&step).send());
    let (a, b2) = (a.unwrap(), b2.unwrap());
    assert_eq!((a.status(), b2.status()), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    assert_eq!(a.headers().get("location"), b2.headers().get("location"));
    let events = count(&t, "request_events").await;
    assert_eq!(events, 2, "created and accepted, once each");
    // An upload carries its key in the action's query: sent twice, one attachment.
    let upload = || {
        let part = reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-fake-but-png".to_vec())
            .file_name("现场照片.png");
        let form = reqwest::multipart::Form::new().text("_csrf", csrf.clone()).part("file", part);
        web.post(t.url(&format!("{location}/attachments?_idem=up-1"))).multipart(form).send()
    };
    let (u1, u2) = tokio::join!(upload(), upload());
    assert_eq!((u1.unwrap().status(), u2.unwrap().status()), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    assert_eq!(count(&t, "attachments").await, 1, "one attachment for two uploads");

    // Without a key, forms work as before.
    let plain: Vec<(&str, &str)> = form.iter().filter(|(k, _)| *k != "_idem").copied().collect();
    assert_eq!(web.post(t.url("/desk/requests")).form(&plain).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&t, "service_requests").await, 2);
}

/// A form whose process dies once the registration ran, before the redirect: sending it again
/// registers one request and answers with its page.
async fn a_form_sent_again_after_a_crash_registers_one_request(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let c = post(
        &t,
        &o.admin,
        "/api/v1/customers",
        serde_json::json!({"name": "李四", "phone": "13912345678", "region_code": "440305", "address": "深圳市南山区"}),
    )
    .await;
    let customer = c.json::<serde_json::Value>().await.unwrap()["id"].to_string();
    let (web, csrf) = web_login(&t, "admin").await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("_idem", "3c2b1a09f8e7d6c5b4a3928170f6e5d4"),
        ("customer_id", customer.as_str()),
        ("type", "repair"),
        ("channel", "phone"),
        ("urgency", "normal"),
        ("description", "屏幕花屏"),
    ];
    t.faults.lose_next_answer.store(true, std::sync::atomic::Ordering::SeqCst);
    let lost = web.post(t.url("/desk/requests")).form(&form).send().await.unwrap();
    assert!(lost.status().is_server_error(), "{}", lost.status());
    let again = web.post(t.url("/desk/requests")).form(&form).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let location = again.headers().get("location").unwrap().to_str().unwrap().to_string();
    let third = web.post(t.url("/desk/requests")).form(&form).send().await.unwrap();
    assert_eq!(third.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(third.headers().get("location").unwrap().to_str().unwrap(), location);
    assert_eq!(count(&t, "service_requests").await, 1);
}

/// A form whose command commits before its answer is known (the desk creates the customer, then
/// renders their pop, which reads them and audits the read) and whose process dies before the
/// answer is stored: sending it again creates no second customer and is not kept waiting — it is
/// sent back to the page it came from, where the customer now is.
async fn a_form_that_renders_after_its_command_is_answered_after_a_crash_too(b: Backend) {
    let t = app(b).await;
    let _o = org(&t).await;
    let (web, csrf) = web_login(&t, "admin").await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("_idem", "7d6c5b4a39281706f5e4d3c2b1a09f8e"),
        ("name", "赵六"),
        ("phone", "13612345678"),
        ("region_code", "440305"),
        ("address", "深圳市南山区科技园"),
    ];
    let referer = t.url("/desk?q=13612345678");
    t.faults.lose_next_answer.store(true, std::sync::atomic::Ordering::SeqCst);
    let lost = web.post(t.url("/desk/customers")).header("referer", &referer).form(&form).send().await.unwrap();
    assert!(lost.status().is_server_error(), "{}", lost.status());
    let started = std::time::Instant::now();
    let again = web.post(t.url("/desk/customers")).header("referer", &referer).form(&form).send().await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "answered at once, not after waiting");
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.headers().get("location").unwrap().to_str().unwrap(), "/desk?q=13612345678");
    assert_eq!(count(&t, "customers").await, 1, "one customer for two submissions");
}

/// 当场解决 is a checkbox with a note: ticked without the note is refused and writes nothing; a
/// note without the tick registers an open request (the note alone decides nothing).
async fn solved_during_the_call_is_a_checkbox_with_its_note(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let c = post(&t, &o.admin, "/api/v1/customers",
        serde_json::json!({"name": "张三", "phone": "13812345678", "region_code": "440305", "address": "深圳市南山区科技园"}))
    .await;
    let customer = c.json::<serde_json::Value>().await.unwrap()["id"].to_string();
    let (web, csrf) = web_login(&t, "admin").await;
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut f: Vec<(&str, String)> = vec![
            ("_csrf", csrf.clone()),
            ("customer_id", customer.clone()),
            ("type", "consultation".into()),
            ("channel", "phone".into()),
            ("urgency", "normal".into()),
            ("description", "咨询保修期".into()),
        ];
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let r = web.post(t.url("/desk/requests")).form(&base(&[("solved_now", "1")])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&t, "service_requests").await, 0);
    let r = web.post(t.url("/desk/requests")).form(&base(&[("resolve_now", "已告知")])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = web
        .post(t.url("/desk/requests"))
        .form(&base(&[("solved_now", "1"), ("resolve_now", "已告知：自销售日起 12 个月")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let statuses: Vec<String> = {
        let mut rd = t.app.db.read().await.unwrap();
        shouhou_store::both!(&mut rd.conn(), c => sqlx::query_scalar("SELECT status FROM service_requests ORDER BY id").fetch_all(c).await).unwrap()
    };
    assert_eq!(statuses, ["new", "resolved"]);
}

/// A division is chosen province → city → district: the pages offer each level's options, an
/// edit form opens with the station's own division chosen at every level, and the deepest level
/// chosen is what is stored (a city without a district chosen is the city).
async fn regions_are_picked_province_city_district(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let r = client().get(t.url("/regions/options?parent=440300")).send().await.unwrap();
    // GB/T 2260 is public: the customer portal's report form picks a region without an account.
    assert_eq!(r.status(), StatusCode::OK, "no session is needed");
    let (web, csrf) = web_login(&t, "admin").await;
    let html = web.get(t.url("/regions/options?parent=440300&label=区/县")).send().await.unwrap().text().await.unwrap();
    assert!(html.starts_with(r#"<option value="">区/县</option>"#), "{html}");
    assert!(html.contains(r#"<option value="440305">南山区</option>"#));
    assert!(!html.contains("440000"), "only the divisions under the parent");
    let provinces = web.get(t.url("/regions/options")).send().await.unwrap().text().await.unwrap();
    assert_eq!(provinces.matches("<option").count(), 32, "31 provinces and the empty choice");

    let edit = web.get(t.url(&format!("/stations/{}/edit", o.a))).send().await.unwrap().text().await.unwrap();
    for code in ["440000", "440300", "440305"] {
        assert!(edit.contains(&format!(r#"<option value="{code}" selected>"#)), "{code} chosen");
    }
    let form = [
        ("_csrf", csrf.as_str()),
        ("code", "SZ-C"),
        ("name", "深圳市区服务站"),
        ("region_province", "440000"),
        ("region_city", "440300"),
        ("region_district", ""),
        ("address", "深南大道 1 号"),
    ];
    let r = web.post(t.url("/stations")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id: i64 = r.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().parse().unwrap();
    let v: serde_json::Value = get(&t, &o.admin, &format!("/api/v1/stations/{id}")).await.json().await.unwrap();
    assert_eq!(v["region_code"], "440300");
    assert_eq!(v["region_name"], "广东省 深圳市");
}

/// An administrator sets a station's coverage with the region picker and an engineer's skills and
/// leave on the pages; the API reads back what the pages wrote.
async fn coverage_skills_and_leave_are_kept_on_the_pages(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let r = post(
        &t,
        &o.admin,
        "/api/v1/product-models",
        serde_json::json!({"code": "XG-5000", "name": "光传输设备", "product_line": "光传输"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let (web, csrf) = web_login(&t, "admin").await;
    let form = |extra: Vec<(&'static str, String)>| {
        let mut v = vec![("_csrf", csrf.clone())];
        v.extend(extra);
        v
    };
    let url = t.url(&format!("/stations/{}/coverage", o.a));
    let r = web
        .post(&url)
        .form(&form(vec![("region_province", "440000".into()), ("region_city", "440300".into())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    web.post(&url).form(&form(vec![("region_province", "440000".into())])).send().await.unwrap();
    let html = web.get(t.url(&format!("/stations/{}", o.a))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("广东省 深圳市") && html.contains("440000"), "both listed");
    web.post(&url).form(&form(vec![("remove", "440000".into())])).send().await.unwrap();
    let html = web.get(t.url(&format!("/stations/{}", o.a))).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("440300")
            && !html.contains(r#"value="440000">"#.replace("value=", "name=\"remove\" value=").as_str())
    );

    let users: serde_json::Value = get(&t, &o.admin, "/api/v1/users?q=eng.a").await.json().await.unwrap();
    let eng = users["items"][0]["id"].as_i64().unwrap();
    let r = web
        .post(t.url(&format!("/users/{eng}/skills")))
        .form(&form(vec![("product_lines", "光传输".into())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = web
        .post(t.url(&format!("/users/{eng}/leave")))
        .form(&form(vec![("day", "2031-03-02".into()), ("reason", "婚假".into())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = web
        .post(t.url(&format!("/users/{eng}/leave")))
        .form(&form(vec![("day", "2001-03-02".into())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a day in the past is refused on the page");
    let html = web.get(t.url(&format!("/users/{eng}/field"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("2031-03-02") && html.contains("婚假"));
    assert!(html.contains(r#"value="光传输" checked"#));
}

crate::on_both_backends!(
    coverage_skills_and_leave_are_kept_on_the_pages,
    regions_are_picked_province_city_district,
    solved_during_the_call_is_a_checkbox_with_its_note,
    a_form_sent_twice_with_its_key_registers_one_request_and_steps_once,
    a_form_that_renders_after_its_command_is_answered_after_a_crash_too,
    a_form_sent_again_after_a_crash_registers_one_request,
    an_htmx_request_without_a_session_is_sent_to_the_login_page_as_a_whole,
    every_answer_carries_the_security_headers,
    a_form_without_the_session_csrf_token_is_refused_and_changes_nothing,
    a_wrong_password_on_the_login_page_says_so_in_chinese_and_english,
    pages_need_a_login_and_administrators_manage_users_through_them,
);
