//! The demo data set: a realistic Chinese service network with a user for every role.
use shouhou_app::org::{StationForm, WarehouseForm};
use shouhou_app::users::UserForm;
use shouhou_app::{Actor, App, AppError, Ctx};
use shouhou_domain::ids::UserId;
use shouhou_store::users;

/// The password of every demo login.
pub const DEMO_PASSWORD: &str = "Shouhou@2026";

/// (code, name, region, address, phone)
pub const STATIONS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "SZ-NS01",
        "深圳南山服务站",
        "440305",
        "深圳市南山区科技园南区高新南七道 18 号深港产学研基地 2 楼",
        "0755-26581234",
    ),
    ("GZ-TH01", "广州天河服务站", "440106", "广州市天河区天河北路 233 号中信广场 15 楼 1502 室", "020-38771256"),
    ("BJ-CY01", "北京朝阳服务站", "110105", "北京市朝阳区建国路 88 号 SOHO 现代城 B 座 1206 室", "010-85803321"),
    ("SH-PD01", "上海浦东服务站", "310115", "上海市浦东新区张江高科技园区碧波路 690 号 3 号楼", "021-50801178"),
    ("CD-WH01", "成都武侯服务站", "510107", "成都市武侯区天府大道北段 1700 号环球中心 E2 区 8 楼", "028-85336610"),
    ("WH-HS01", "武汉洪山服务站", "420111", "武汉市洪山区珞喻路 1037 号光谷创业街 6 栋", "027-87541902"),
];

/// (username, name, roles, station codes)
pub const USERS: &[(&str, &str, &[&str], &[&str])] = &[
    ("admin", "王建国", &["admin"], &[]),
    ("manager", "李秀英", &["manager"], &[]),
    ("dispatcher", "张伟", &["dispatcher"], &[]),
    ("agent", "刘芳", &["agent"], &[]),
    ("agent2", "陈静", &["agent"], &[]),
    ("engineer", "赵磊", &["engineer"], &["SZ-NS01"]),
    ("engineer2", "孙涛", &["engineer"], &["GZ-TH01"]),
    ("engineer3", "马超", &["engineer"], &["BJ-CY01"]),
    ("station", "周敏", &["station_manager"], &["SZ-NS01"]),
    ("station2", "胡军", &["station_manager"], &["GZ-TH01"]),
    ("warehouse", "吴强", &["warehouse"], &[]),
    ("finance", "郑丽", &["finance"], &[]),
    ("dealer", "深圳华强电子有限公司", &["dealer"], &[]),
    ("customer", "黄小明", &["customer"], &[]),
];

/// One line per demo login, for the start-up banner and the README.
pub fn logins() -> Vec<(String, String, String)> {
    USERS.iter().map(|(u, n, r, _)| (u.to_string(), n.to_string(), r.join(","))).collect()
}

/// Load the demo data into an empty database.
pub async fn seed(app: &App) -> Result<(), AppError> {
    let cli = Ctx::system();
    let (admin_name, admin_display, _, _) = USERS[0];
    let admin_id = shouhou_app::users::create_user(
        app,
        &cli,
        &UserForm {
            username: admin_name.into(),
            display_name: admin_display.into(),
            password: DEMO_PASSWORD.into(),
            locale: "zh-CN".into(),
            roles: vec!["admin".into()],
            stations: vec![],
        },
    )
    .await?;
    let admin = {
        let mut rd = app.db.read().await?;
        users::get_user(&mut rd.conn(), UserId(admin_id.0)).await?.ok_or(AppError::NotFound)?
    };
    let ctx = Ctx { actor: Some(Actor::from_user(&admin)), source: "demo".into(), request_id: String::new() };

    shouhou_app::org::create_warehouse(
        app,
        &ctx,
        &WarehouseForm {
            code: "HQ-CW".into(),
            name: "总部中心备件库".into(),
            station_code: None,
            region_code: "440306".into(),
            address: "深圳市宝安区福永街道凤凰第四工业区 12 栋".into(),
        },
    )
    .await?;
    for (code, name, region, address, phone) in STATIONS {
        shouhou_app::org::create_station(
            app,
            &ctx,
            &StationForm {
                code: (*code).into(),
                name: (*name).into(),
                region_code: (*region).into(),
                address: (*address).into(),
                phone: Some((*phone).into()),
            },
        )
        .await?;
        shouhou_app::org::create_warehouse(
            app,
            &ctx,
            &WarehouseForm {
                code: format!("{code}-WH"),
                name: format!("{}备件库", name.trim_end_matches("服务站")),
                station_code: Some((*code).into()),
                region_code: (*region).into(),
                address: (*address).into(),
            },
        )
        .await?;
    }
    for (username, name, roles, stations) in &USERS[1..] {
        shouhou_app::users::create_user(
            app,
            &ctx,
            &UserForm {
                username: (*username).into(),
                display_name: (*name).into(),
                password: DEMO_PASSWORD.into(),
                locale: "zh-CN".into(),
                roles: roles.iter().map(|r| r.to_string()).collect(),
                stations: stations.iter().map(|s| s.to_string()).collect(),
            },
        )
        .await?;
    }
    Ok(())
}
