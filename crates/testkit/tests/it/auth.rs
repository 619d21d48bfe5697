#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shouhou_store::Backend;

async fn login_gives_a_token_that_names_the_user_and_their_rights(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let me: Value = get(&t, &o.admin, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["username"], "admin");
    assert!(me["permissions"].as_array().unwrap().iter().any(|p| p == "user_write"));
    let eng = login(&t, "eng.a").await;
    let me: Value = get(&t, &eng, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["roles"], json!(["engineer"]));
    assert_eq!(me["station_ids"], json!([o.a]));
    assert_eq!(count(&t, "auth_tokens").await, 2);
}

async fn a_wrong_password_is_refused_with_a_clear_problem_and_logged(b: Backend) {
    let t = app(b).await;
    add_user(&t.app, "admin", &["admin"], &[]).await;
    let r = client()
        .post(t.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    let body = problem(r, StatusCode::UNAUTHORIZED, "bad_credentials").await;
    assert_eq!(body["title"], "用户名或密码错误");
    let r = client()
        .post(t.url("/api/v1/auth/login"))
        .json(&json!({"username": "nobody", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "bad_credentials").await;
    assert_eq!(count(&t, "auth_tokens").await, 0);
    assert_eq!(count(&t, "login_attempts").await, 2);
    let admin = login(&t, "admin").await;
    let audit: Value = get(&t, &admin, "/api/v1/audit?action=auth.login_failed").await.json().await.unwrap();
    assert_eq!(audit["total"], 2, "both failures stay in the audit trail after the login cleared the throttle");
}

async fn repeated_failures_throttle_the_username_even_with_the_right_password(b: Backend) {
    let t = app(b).await;
    add_user(&t.app, "agent.li", &["agent"], &[]).await;
    for _ in 0..5 {
        let r = client()
            .post(t.url("/api/v1/auth/login"))
            .json(&json!({"username": "agent.li", "password": "guess-guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = client()
        .post(t.url("/api/v1/auth/login"))
        .json(&json!({"username": "agent.li", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("retry-after").is_some());
    problem(r, StatusCode::TOO_MANY_REQUESTS, "throttled").await;
    assert_eq!(count(&t, "auth_tokens").await, 0);
}

async fn a_revoked_token_no_longer_opens_anything(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    assert_eq!(get(&t, &o.admin, "/api/v1/stations").await.status(), StatusCode::OK);
    let r = client().post(t.url("/api/v1/auth/logout")).bearer_auth(&o.admin).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(get(&t, &o.admin, "/api/v1/stations").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    problem(get(&t, "not-a-token", "/api/v1/stations").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

async fn changing_the_password_ends_other_sessions(b: Backend) {
    let t = app(b).await;
    let o = org(&t).await;
    let other = login(&t, "admin").await;
    // Through the web page: sign in, then change the password with the session's CSRF token.
    let web = client();
    let page = web.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "_csrf");
    let r = web
        .post(t.url("/login"))
        .form(&[("username", "admin"), ("password", PASSWORD), ("_csrf", &csrf), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let account = web.get(t.url("/account")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&account, "_csrf");
    let r = web
        .post(t.url("/account/password"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "New-Passw0rd!"),
            ("confirm_password", "New-Passw0rd!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("密码已修改"));
    problem(get(&t, &other, "/api/v1/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    problem(get(&t, &o.admin, "/api/v1/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(
        web.get(t.url("/account")).send().await.unwrap().status(),
        StatusCode::OK,
        "the session that changed it stays"
    );
}

/// The value of a hidden input in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no hidden {name} in page")) + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// A client whose requests come from another loopback address (another office, a guesser).
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder().local_address(std::net::IpAddr::from(ip)).build().unwrap()
}

/// 99 guesses at once, spread over two instances, then the right password: attempts are counted
/// before the password is checked, so exactly five are checked and the rest answer 429 — the right
/// password too, no login gets through on the back of a race; one audit entry says the throttle
/// closed, the refused attempts are a counter, not 95 rows. (A success clears its address's count.)
async fn parallel_guesses_cannot_outrun_the_throttle(b: Backend) {
    let t = app(b).await;
    add_user(&t.app, "agent.li", &["agent"], &[]).await;
    // Every other guess goes to a second instance with its own pool on the same database.
    let second = shouhou_testkit::second_instance(&t).await.unwrap();
    let urls = [t.url("/api/v1/auth/login"), format!("http://{}/api/v1/auth/login", second.0)];
    let web = client();
    let turn = std::sync::atomic::AtomicUsize::new(0);
    let attempt = |password: &'static str| {
        let i = turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (web, url) = (web.clone(), urls[i % 2].clone());
        tokio::spawn(async move {
            web.post(url).json(&json!({"username": "agent.li", "password": password})).send().await.unwrap().status()
        })
    };
    let tasks: Vec<_> = (0..99).map(|_| attempt("guess-guess")).collect();
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for task in tasks {
        *by_status.entry(task.await.unwrap().as_u16()).or_default() += 1;
    }
    assert_eq!(by_status.get(&401), Some(&5), "exactly five passwords were checked: {by_status:?}");
    assert_eq!(by_status.get(&429), Some(&94), "{by_status:?}");
    assert_eq!(
        attempt(PASSWORD).await.unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right password last is throttled too"
    );
    add_user(&t.app, "auditor", &["admin"], &[]).await;
    let admin = client_from([127, 0, 0, 9]);
    let r = admin.post(t.url("/api/v1/auth/login")).json(&json!({"username": "auditor", "password": PASSWORD})).send();
    let token = r.await.unwrap().json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let failed: Value = get(&t, &token, "/api/v1/audit?action=auth.login_failed").await.json().await.unwrap();
    assert!(failed["total"].as_i64().unwrap() <= 5, "{failed}");
    let throttled: Value = get(&t, &token, "/api/v1/audit?action=auth.login_throttled").await.json().await.unwrap();
    assert_eq!(throttled["total"], 1, "one entry when the throttle closed, not one per refused attempt");
}

/// Throttling is per account and client address: a guesser elsewhere locks only themselves out,
/// the owner signs in from their own address; the login page's 429 says when to retry.
async fn a_guesser_elsewhere_does_not_lock_the_owner_out(b: Backend) {
    let t = app(b).await;
    add_user(&t.app, "agent.li", &["agent"], &[]).await;
    let guesser = client_from([127, 0, 0, 2]);
    for _ in 0..8 {
        let r = guesser.post(t.url("/api/v1/auth/login")).json(&json!({"username": "agent.li", "password": "guess"}));
        let status = r.send().await.unwrap().status();
        assert!(matches!(status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS));
    }
    let r = guesser.post(t.url("/api/v1/auth/login")).json(&json!({"username": "agent.li", "password": PASSWORD}));
    assert_eq!(r.send().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS, "the guesser stays blocked");
    let owner = client_from([127, 0, 0, 3]);
    let r = owner.post(t.url("/api/v1/auth/login")).json(&json!({"username": "agent.li", "password": PASSWORD}));
    assert_eq!(r.send().await.unwrap().status(), StatusCode::OK, "the owner signs in from their own address");
    // The web form of the guesser's address: 429 with Retry-After as well.
    let web = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = web.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "_csrf");
    let r = web
        .post(t.url("/login"))
        .form(&[("username", "agent.li"), ("password", PASSWORD), ("_csrf", &csrf), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = r.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
}

crate::on_both_backends!(
    login_gives_a_token_that_names_the_user_and_their_rights,
    a_wrong_password_is_refused_with_a_clear_problem_and_logged,
    repeated_failures_throttle_the_username_even_with_the_right_password,
    a_revoked_token_no_longer_opens_anything,
    changing_the_password_ends_other_sessions,
    parallel_guesses_cannot_outrun_the_throttle,
    a_guesser_elsewhere_does_not_lock_the_owner_out,
);
