//! The demo data set: a realistic Chinese service network with a user for every role.
use shouhou_app::users::UserForm;
use shouhou_app::{Actor, App, AppError, Ctx};
use shouhou_app::{stations::StationForm, warehouses::WarehouseForm};
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

    shouhou_app::warehouses::create_warehouse(
        app,
        &ctx,
        &WarehouseForm {
            code: "HQ-CW".into(),
            name: "总部中心备件库".into(),
            station_code: None,
            engineer_username: None,
            region_code: "440306".into(),
            address: "深圳市宝安区福永街道凤凰第四工业区 12 栋".into(),
        },
    )
    .await?;
    for (code, name, region, address, phone) in STATIONS {
        shouhou_app::stations::create_station(
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
        shouhou_app::warehouses::create_warehouse(
            app,
            &ctx,
            &WarehouseForm {
                code: format!("{code}-WH"),
                name: format!("{}备件库", name.trim_end_matches("服务站")),
                station_code: Some((*code).into()),
                engineer_username: None,
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
    seed_service_desk(app, &ctx).await?;
    Ok(())
}

/// (code, name, product line, warranty months)
pub const MODELS: &[(&str, &str, &str, i64)] = &[
    ("XG-5000", "光传输设备", "光传输", 12),
    ("XG-8800", "核心路由器", "数据通信", 24),
    ("HW-S5735", "园区交换机", "数据通信", 12),
    ("ZX-OLT600", "光线路终端", "宽带接入", 12),
    ("ZX-ONU20", "家庭光猫", "宽带接入", 12),
    ("PD-UPS10K", "不间断电源", "动力配套", 18),
];

/// (name, phone, region, address, tier, station code, citizen identity number)
pub const CUSTOMERS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "张卫东",
        "13812345678",
        "440305",
        "深圳市南山区粤海街道科技南十二路 2 号",
        "vip",
        "SZ-NS01",
        "44030519850612231X",
    ),
    (
        "王芳",
        "13923456789",
        "440304",
        "深圳市福田区福华三路 88 号财富大厦 21 楼",
        "key",
        "SZ-NS01",
        "440304199003184226",
    ),
    (
        "李娜",
        "13534567890",
        "440306",
        "深圳市宝安区新安街道创业一路 1003 号",
        "standard",
        "SZ-NS01",
        "44030619921105332X",
    ),
    (
        "刘洋",
        "18645678901",
        "440106",
        "广州市天河区珠江新城华夏路 10 号富力中心 18 楼",
        "vip",
        "GZ-TH01",
        "440106197809231215",
    ),
    ("陈静怡", "15056789012", "440104", "广州市越秀区环市东路 339 号", "standard", "GZ-TH01", "440104199502074426"),
    (
        "杨磊",
        "13667890123",
        "110105",
        "北京市朝阳区建国门外大街 1 号国贸大厦 B 座",
        "key",
        "BJ-CY01",
        "110105198304151713",
    ),
    ("赵敏", "13778901234", "110108", "北京市海淀区中关村大街 27 号", "standard", "BJ-CY01", "110108199107302627"),
    (
        "黄强",
        "18989012345",
        "310115",
        "上海市浦东新区世纪大道 100 号环球金融中心 30 楼",
        "vip",
        "SH-PD01",
        "31011519800101181X",
    ),
    ("周杰", "13390123456", "310104", "上海市徐汇区漕溪北路 398 号", "standard", "SH-PD01", "310104198708221512"),
    ("吴婷", "17701234567", "510107", "成都市武侯区人民南路四段 12 号", "standard", "CD-WH01", "510107199306142628"),
    ("徐明", "15812340987", "420111", "武汉市洪山区珞瑜路 1037 号", "key", "WH-HS01", "420111198603091714"),
    ("孙丽", "13698761234", "440305", "深圳市南山区蛇口望海路 1177 号", "standard", "SZ-NS01", "440305199402282823"),
];

/// Product models, customers with devices, and requests in every state of the lifecycle.
pub async fn seed_service_desk(app: &App, ctx: &Ctx) -> Result<(), AppError> {
    use shouhou_app::requests::RequestForm;
    use shouhou_app::{customers::CustomerForm, devices::DeviceForm, products::ProductModelForm};
    for (code, name, line, months) in MODELS {
        let f = ProductModelForm {
            code: (*code).into(),
            name: (*name).into(),
            product_line: (*line).into(),
            warranty_months: Some(*months),
            ..Default::default()
        };
        shouhou_app::products::create_product_model(app, ctx, &f).await?;
    }
    let company = CustomerForm {
        kind: Some("company".into()),
        name: "深圳市鹏城通信工程有限公司".into(),
        phone: "0755-86091234".into(),
        credit_code: Some("91350100M000100Y43".into()),
        id_number: None,
        region_code: "440305".into(),
        address: "深圳市南山区高新南七道 18 号".into(),
        tier: Some("key".into()),
        station_code: Some("SZ-NS01".into()),
        contacts: vec![shouhou_app::customers::ContactForm {
            role: "operator".into(),
            name: "马国栋".into(),
            phone: "13500001111".into(),
        }],
    };
    let mut customer_ids = vec![shouhou_app::customers::create_customer(app, ctx, &company).await?];
    for (name, phone, region, address, tier, station, id_number) in CUSTOMERS {
        let f = CustomerForm {
            name: (*name).into(),
            phone: (*phone).into(),
            id_number: Some((*id_number).into()),
            region_code: (*region).into(),
            address: (*address).into(),
            tier: Some((*tier).into()),
            station_code: Some((*station).into()),
            ..Default::default()
        };
        customer_ids.push(shouhou_app::customers::create_customer(app, ctx, &f).await?);
    }
    // Devices: sold over the last three years, so some are out of warranty.
    let sale_dates = ["2023-03-15", "2024-01-31", "2024-11-20", "2025-06-30", "2025-12-01", "2026-02-28", "2026-08-18"];
    let mut serials = vec![];
    for (i, cid) in customer_ids.iter().enumerate() {
        for k in 0..(1 + i % 2) {
            let (model, ..) = MODELS[(i + k) % MODELS.len()];
            let serial = format!("{}-{:05}", model.split('-').next_back().unwrap_or("SN"), 10_000 + i * 7 + k);
            let f = DeviceForm {
                serial_number: serial.clone(),
                model_code: model.into(),
                customer_id: *cid,
                sale_date: sale_dates[(i + k) % sale_dates.len()].into(),
                ..Default::default()
            };
            shouhou_app::devices::create_device(app, ctx, &f).await?;
            serials.push((*cid, serial));
        }
    }
    // Requests in every state: (description, type, urgency, actions to apply)
    let stories: &[(&str, &str, &str, &[&str])] = &[
        ("光传输设备 LOS 告警，业务中断", "repair", "urgent", &[]),
        ("核心路由器风扇噪音大", "repair", "normal", &["accept"]),
        ("咨询交换机 VLAN 配置方法", "consultation", "normal", &["respond"]),
        ("光猫频繁掉线，需上门检测", "repair", "high", &["accept", "respond", "start_work"]),
        ("UPS 电池鼓包，等待客户提供现场照片", "repair", "normal", &["accept", "respond", "wait_for_customer"]),
        ("新购 OLT 安装调试", "installation", "normal", &["accept", "respond", "start_work", "resolve"]),
        ("设备年度保养", "maintenance", "low", &["accept", "respond", "start_work", "resolve", "confirm"]),
        ("系统升级到 V3.2", "upgrade", "normal", &["accept", "respond", "start_work", "resolve", "confirm", "close"]),
        ("维修后故障再次出现", "repair", "high", &["accept", "respond", "resolve", "reopen"]),
        ("客户误报，已取消", "repair", "low", &["cancel"]),
        ("投诉工程师上门迟到", "complaint", "high", &["accept", "respond"]),
        ("建议增加微信报修入口", "suggestion", "low", &[]),
    ];
    for (i, (desc, kind, urgency, actions)) in stories.iter().enumerate() {
        let (cid, serial) = &serials[i % serials.len()];
        let f = RequestForm {
            customer_id: *cid,
            serial_number: Some(serial.clone()),
            request_type: (*kind).into(),
            channel: ["phone", "wechat", "web", "qr_code"][i % 4].into(),
            urgency: (*urgency).into(),
            description: (*desc).into(),
            ..Default::default()
        };
        let r = shouhou_app::requests::create_request(app, ctx, &f).await?;
        let mut version = 2;
        for a in *actions {
            if *a == "close" {
                // A resolved request is closed by its return visit.
                visit_back(app, ctx, r.id, [5, 5, 5, 5], true, "升级后运行稳定，客户很满意").await?;
                continue;
            }
            let note = if *a == "cancel" { "客户来电说明是误报" } else { "" };
            version = shouhou_app::requests::transition(app, ctx, r.id, version, a, note).await?.version;
        }
    }
    // One request solved during the call (first-contact resolution).
    let f = RequestForm {
        customer_id: customer_ids[1],
        request_type: "consultation".into(),
        channel: "phone".into(),
        urgency: "normal".into(),
        description: "咨询保修期如何计算".into(),
        resolve_now: Some("已告知：自销售日起 12 个月，合同延保另计".into()),
        ..Default::default()
    };
    shouhou_app::requests::create_request(app, ctx, &f).await?;
    seed_breach(app, ctx, customer_ids[0], &serials[0].1).await?;
    seed_parts(app, ctx).await?;
    seed_field_service(app, ctx, &serials).await?;
    seed_warranty_cards(app, ctx, &serials).await?;
    seed_recall(app, ctx).await?;
    seed_stock_work(app, ctx).await?;
    seed_follow_up(app, ctx, &serials).await
}

/// A repair visit of request `id` by Nanshan's engineer 赵磊, from dispatch to the customer's signature.
async fn repaired_on_site(app: &App, ctx: &Ctx, id: i64) -> Result<(), AppError> {
    use shouhou_app::work_orders::{self as wo, StepForm, WorkOrderForm};
    let station = {
        let mut rd = app.db.read().await?;
        shouhou_store::stations::station_by_code(&mut rd.conn(), "SZ-NS01").await?.ok_or(AppError::NotFound)?.id
    };
    let (manager, engineer) = (actor_ctx(app, "station").await?, actor_ctx(app, "engineer").await?);
    let f = WorkOrderForm { service_request_id: Some(id), kind: "repair".into(), ..Default::default() };
    let c = wo::create_work_order(app, ctx, &f).await?;
    let mut v = wo::dispatch(app, ctx, c.id, c.version, station).await?.version;
    v = wo::assign(app, &manager, c.id, v, engineer.actor_id().unwrap_or_default()).await?.version;
    for action in ["accept", "depart", "check_in"] {
        let f = StepForm { action: action.into(), lat: Some(22.5405), lng: Some(113.9345), ..Default::default() };
        v = wo::step(app, &engineer, c.id, v, &f).await?.version;
    }
    let f = StepForm {
        action: "diagnose".into(),
        fault_code: Some("E-LOS".into()),
        cause: Some("尾纤弯折，收光功率低".into()),
        ..Default::default()
    };
    v = wo::step(app, &engineer, c.id, v, &f).await?.version;
    wo::add_file(app, &engineer, c.id, "signature", "签字.png", SIGNATURE_PNG, None).await?;
    let f = StepForm {
        action: "complete".into(),
        work_done: Some("更换尾纤，清洁端面，业务恢复".into()),
        labour_minutes: Some(45),
        customer_confirmed: Some(true),
        ..Default::default()
    };
    wo::step(app, &engineer, c.id, v, &f).await?;
    Ok(())
}

/// Record the open return visit of request `id` as reached, by the agent.
async fn visit_back(app: &App, ctx: &Ctx, id: i64, s: [i64; 4], solved: bool, comment: &str) -> Result<(), AppError> {
    use shouhou_app::return_visits as rv;
    let (visits, _) = rv::of_request(app, ctx, id).await?;
    let Some(v) = visits.iter().find(|v| v.status == "open") else { return Ok(()) };
    let agent = actor_ctx(app, "agent").await?;
    let f = rv::RecordForm {
        outcome: "reached".into(),
        satisfaction: Some(s[0]),
        attitude: Some(s[1]),
        skill: Some(s[2]),
        timeliness: Some(s[3]),
        solved: Some(solved),
        comment: Some(comment.into()),
        version: None,
    };
    rv::record_visit(app, &agent, v.id, &f).await?;
    Ok(())
}

/// Follow-up (回访, 投诉, 建议): requests resolved and visited back with real scores (content,
/// a low score and "not solved" opening follow-ups, one customer not reached yet, some still due),
/// a sample drawn for the quality check, complaints in every state (a major one reported to
/// management, an escalated one, a repeat), and suggestions from received to answered.
async fn seed_follow_up(app: &App, ctx: &Ctx, serials: &[(i64, String)]) -> Result<(), AppError> {
    use shouhou_app::complaints::{self as cp, ComplaintForm, ComplaintStep};
    use shouhou_app::requests::RequestForm;
    use shouhou_app::suggestions::{self as sg, SuggestionForm, SuggestionStep};
    let agent = actor_ctx(app, "agent").await?;
    // (description, scores, solved, comment), each visited back. The queue of visits still to make
    // has the demo's other resolved requests.
    let visits: &[(&str, [i64; 4], bool, &str)] = &[
        ("交换机端口批量 down", [5, 5, 5, 5], true, "工程师很专业，半小时恢复"),
        ("光模块收光弱", [5, 5, 4, 5], true, ""),
        ("路由器重启后配置丢失", [4, 5, 4, 4], true, "希望下次提前电话告知到达时间"),
        ("OLT 板卡告警", [5, 4, 5, 5], true, ""),
        ("机房 UPS 告警", [3, 4, 4, 2], true, "等了两天才上门"),
        ("光猫无法注册", [2, 3, 3, 3], false, "问题依旧，仍然掉线"),
        ("无线 AP 覆盖差", [5, 5, 5, 4], true, "调整信道后明显改善"),
    ];
    for (i, (desc, s, solved, comment)) in visits.iter().enumerate() {
        // The first ones are Shenzhen customers' repairs done on site by 赵磊, so the results
        // credit an engineer; the others were solved on the phone.
        let (cid, serial) = if i < 3 { &serials[i] } else { &serials[(i + 3) % serials.len()] };
        let f = RequestForm {
            customer_id: *cid,
            serial_number: Some(serial.clone()),
            request_type: "repair".into(),
            channel: ["phone", "wechat", "web"][i % 3].into(),
            urgency: "normal".into(),
            description: (*desc).into(),
            ..Default::default()
        };
        let r = shouhou_app::requests::create_request(app, ctx, &f).await?;
        let mut version = 2;
        for a in ["accept", "respond", "start_work"] {
            version = shouhou_app::requests::transition(app, ctx, r.id, version, a, "").await?.version;
        }
        if i < 3 {
            repaired_on_site(app, ctx, r.id).await?;
            version = shouhou_app::requests::get_request(app, ctx, r.id).await?.request.version;
        }
        shouhou_app::requests::transition(app, ctx, r.id, version, "resolve", "").await?;
        visit_back(app, ctx, r.id, *s, *solved, comment).await?;
        if !solved {
            // Reopened by the visit, solved again, and this time the customer is content: the
            // follow-up ends satisfied and the request closes.
            let now = shouhou_app::requests::get_request(app, ctx, r.id).await?;
            let v = now.request.version;
            let v = shouhou_app::requests::transition(app, ctx, r.id, v, "start_work", "").await?.version;
            shouhou_app::requests::transition(app, ctx, r.id, v, "resolve", "更换光猫后恢复").await?;
            visit_back(app, ctx, r.id, [5, 5, 5, 5], true, "换新后一直正常").await?;
        }
    }
    // One customer not reached on the first try.
    if let Some(v) = shouhou_app::return_visits::queue(app, &agent, "open").await?.first() {
        let f = shouhou_app::return_visits::RecordForm {
            outcome: "unreachable".into(),
            comment: Some("无人接听".into()),
            ..Default::default()
        };
        shouhou_app::return_visits::record_visit(app, &agent, v.visit.id, &f).await?;
    }
    let manager = actor_ctx(app, "manager").await?;
    shouhou_app::return_visits::sample(app, &manager, 3, "", "").await?;

    // Complaints in every state.
    let me = ctx.actor.as_ref().map(|a| a.id.0);
    let customer = serials[0].0;
    let complain = |severity: &str, category: &str, description: &str| ComplaintForm {
        customer_id: customer,
        severity: severity.into(),
        category: category.into(),
        description: description.into(),
        ..Default::default()
    };
    let step = |action: &str, note: &str| ComplaintStep {
        action: action.into(),
        note: (!note.is_empty()).then(|| note.to_string()),
        ..Default::default()
    };
    cp::register(app, &agent, &complain("major", "quality", "设备电源模块冒烟，客户要求全面检查并赔偿")).await?;
    let k = cp::register(app, &agent, &complain("serious", "timeliness", "报修三天无人上门")).await?;
    cp::step(app, &agent, k.complaint.id, &step("contact", "已致电客户致歉，承诺今天安排工程师")).await?;
    cp::step(app, &agent, k.complaint.id, &step("escalate", "站点未按承诺上门，升级服务部长")).await?;
    let k = cp::register(app, &agent, &complain("ordinary", "charges", "上门费收取标准不清楚")).await?;
    cp::step(app, &agent, k.complaint.id, &step("contact", "已向客户解释收费标准")).await?;
    cp::step(app, &agent, k.complaint.id, &step("investigate", "")).await?;
    let k = cp::register(app, &agent, &complain("ordinary", "attitude", "工程师态度生硬")).await?;
    cp::step(app, &agent, k.complaint.id, &step("contact", "已致歉")).await?;
    let resolve = ComplaintStep {
        action: "resolve".into(),
        note: Some("站长上门致歉，并减免本次上门费".into()),
        root_cause: Some("attitude".into()),
        measure: Some("工程师服务规范再培训，站长每周抽查回访录音".into()),
        measure_owner_id: me,
        measure_due: Some(shouhou_app::devices::today(app).saturating_add(jiff::Span::new().days(30)).to_string()),
        ..Default::default()
    };
    cp::step(app, &agent, k.complaint.id, &resolve).await?;
    let k = cp::register(app, &agent, &complain("ordinary", "attitude", "电话客服多次转接")).await?;
    cp::step(app, &agent, k.complaint.id, &step("contact", "已致歉并说明原因")).await?;
    cp::step(app, &agent, k.complaint.id, &ComplaintStep { action: "resolve".into(), ..resolve.clone() }).await?;
    let close = ComplaintStep {
        action: "close".into(),
        customer_ack: Some(true),
        note: Some("客户接受".into()),
        ..Default::default()
    };
    cp::step(app, &agent, k.complaint.id, &close).await?;

    // Suggestions from received to answered.
    let suggest = |d: &str, c: &str| SuggestionForm {
        description: d.into(),
        category: c.into(),
        customer_id: None,
        channel: None,
    };
    let sstep = |a: &str, dep: Option<&str>, note: &str| SuggestionStep {
        action: a.into(),
        department: dep.map(str::to_string),
        note: Some(note.into()),
        version: None,
    };
    sg::create(app, &agent, &suggest("希望报修后能收到工程师到达时间的短信", "service")).await?;
    let s = sg::create(app, &agent, &suggest("设备面板增加中文告警提示", "product")).await?;
    sg::step(app, &agent, s.id, &sstep("route", Some("product"), "")).await?;
    sg::step(app, &agent, s.id, &sstep("study", None, "评估固件改动量")).await?;
    let s = sg::create(app, &agent, &suggest("开通微信报修入口", "service")).await?;
    sg::step(app, &agent, s.id, &sstep("route", Some("service"), "")).await?;
    sg::step(app, &agent, s.id, &sstep("adopt", None, "已纳入下季度计划")).await?;
    sg::step(app, &agent, s.id, &sstep("answer", None, "感谢建议，微信报修将于下季度上线")).await?;
    let s = sg::create(app, &agent, &suggest("希望免费延长保修到三年", "other")).await?;
    sg::step(app, &agent, s.id, &sstep("route", Some("sales"), "")).await?;
    sg::step(app, &agent, s.id, &sstep("decline", None, "延保可通过购买服务合同实现")).await?;
    sg::step(app, &agent, s.id, &sstep("answer", None, "可选购延保服务合同，详情请咨询客服")).await?;
    Ok(())
}

/// The warehouse's paperwork in flight: an application for power modules waiting for headquarters,
/// one for fibre patch cords waiting for the station's manager, and a count of Guangzhou's shelf
/// handed in for approval.
async fn seed_stock_work(app: &App, ctx: &Ctx) -> Result<(), AppError> {
    use shouhou_app::part_applications as pa;
    let warehouses =
        shouhou_app::warehouses::list_warehouses(app, ctx, None, shouhou_store::PageRequest::new(Some(1), Some(100)))
            .await?;
    let id_of = |code: &str| warehouses.items.iter().find(|w| w.code == code).map(|w| w.id).unwrap_or_default();
    let (station, engineer) = (actor_ctx(app, "station").await?, actor_ctx(app, "engineer").await?);
    let line = |code: &str, n: i64| pa::LineForm { part_code: code.into(), quantity: n.into() };
    let big = pa::ApplicationForm {
        warehouse_id: id_of("SZ-NS01-WH"),
        work_order_id: None,
        reason: "XG-5000 电源批次召回，需备 3 块电源模块".into(),
        lines: vec![line("PSU-XG5-AC", 3)],
    };
    let d = pa::apply(app, &station, &big).await?;
    let f = pa::DecisionForm { decision: "approve".into(), reason: None, version: None };
    pa::decide(app, &station, d.application.id, d.application.version, &f).await?;
    let small = pa::ApplicationForm {
        warehouse_id: id_of("SZ-NS01-WH"),
        work_order_id: None,
        reason: "跳纤随车备货".into(),
        lines: vec![line("LC-PC-3M", 10)],
    };
    pa::apply(app, &engineer, &small).await?;
    // Guangzhou counts its shelf: one power module short.
    let keeper = actor_ctx(app, "warehouse").await?;
    use shouhou_app::stocktakes as st;
    let sheet =
        st::open(app, &keeper, &st::NewStocktake { warehouse_id: id_of("GZ-TH01-WH"), note: Some("月末盘点".into()) })
            .await?;
    let counts = sheet
        .lines
        .iter()
        .map(|l| st::CountLine {
            part_code: l.part_code.clone(),
            counted: ((l.expected - if l.part_code == "PSU-XG5-AC" { 1_000 } else { 0 }) / 1_000).into(),
        })
        .collect();
    let s = st::step(
        app,
        &keeper,
        sheet.stocktake.id,
        sheet.stocktake.version,
        &st::StepForm { action: "count".into(), counts: Some(counts), ..Default::default() },
    )
    .await?;
    st::step(
        app,
        &keeper,
        s.stocktake.id,
        s.stocktake.version,
        &st::StepForm { action: "submit".into(), ..Default::default() },
    )
    .await?;
    Ok(())
}

/// A recall in progress: XG-5000 units of one serial batch, their work orders made, one done by
/// hand and one customer unreachable.
async fn seed_recall(app: &App, ctx: &Ctx) -> Result<(), AppError> {
    use shouhou_app::recalls as rc;
    let f = rc::RecallForm {
        name: "XG-5000 电源模块批次召回".into(),
        model_code: "XG-5000".into(),
        serial_from: "5000-10000".into(),
        serial_to: "5000-10099".into(),
        reason: Some("2024 年第三批电源模块电容存在鼓包风险，免费更换".into()),
    };
    let d = rc::create_recall(app, ctx, &f).await?;
    let devices = rc::devices(app, ctx, d.recall.id).await?;
    rc::make_work_orders(app, ctx, d.recall.id).await?;
    if let Some(first) = devices.first() {
        let f = rc::StateForm { state: "done".into(), note: Some("客户自行送修，已在服务站更换".into()) };
        rc::record_state(app, ctx, d.recall.id, first.device_id, &f).await?;
    }
    if let Some(last) = devices.get(1) {
        let f = rc::StateForm { state: "unreachable".into(), note: Some("电话三次无人接听".into()) };
        rc::record_state(app, ctx, d.recall.id, last.device_id, &f).await?;
    }
    Ok(())
}

/// (code, name, specification, unit, divisible, price in fen, models it fits)
type DemoPart = (&'static str, &'static str, &'static str, &'static str, bool, i64, &'static [&'static str]);
const PARTS: &[DemoPart] = &[
    ("OM-10G-LR", "10G 光模块", "SFP+ 1310nm 10km", "个", false, 128_000, &["XG-5000", "XG-8800"]),
    ("FAN-XG5", "风扇模块", "XG-5000 机框风扇", "个", false, 46_000, &["XG-5000"]),
    ("PSU-XG5-AC", "交流电源模块", "220V AC 1200W", "个", false, 215_000, &["XG-5000"]),
    ("LC-PC-3M", "单模跳纤", "LC/PC-LC/PC 3 米", "根", false, 1_800, &[]),
    ("FIBRE-G652", "单模光缆", "G.652D 4 芯", "米", true, 350, &[]),
    ("BAT-12V100", "蓄电池", "12V 100Ah 阀控铅酸", "块", false, 98_000, &["PD-UPS10K"]),
];

/// The catalog, stock at the central warehouse and two stations' (Nanshan's low on fans), and a
/// transfer on its way to Nanshan.
async fn seed_parts(app: &App, ctx: &Ctx) -> Result<(), AppError> {
    use shouhou_app::parts::{MovementForm, PartForm};
    for (code, name, spec, unit, divisible, price, models) in PARTS {
        let f = PartForm {
            code: (*code).into(),
            name: (*name).into(),
            unit: (*unit).into(),
            specification: Some((*spec).into()),
            divisible: Some(*divisible),
            price_fen: Some(*price),
            serialised: Some(false),
            model_codes: Some(models.iter().map(|m| m.to_string()).collect()),
            // A power module carries a fresh year of its own; consumables none.
            warranty_policy: Some(
                match *code {
                    "PSU-XG5-AC" => "fresh",
                    "LC-PC-3M" | "FIBRE-G652" => "none",
                    _ => "device",
                }
                .into(),
            ),
            warranty_months: Some(if *code == "PSU-XG5-AC" { 12 } else { 0 }),
        };
        shouhou_app::parts::create_part(app, ctx, &f).await?;
    }
    let warehouses =
        shouhou_app::warehouses::list_warehouses(app, ctx, None, shouhou_store::PageRequest::new(Some(1), Some(100)))
            .await?;
    let id_of = |code: &str| warehouses.items.iter().find(|w| w.code == code).map(|w| w.id).unwrap_or_default();
    let (hq, ns, th) = (id_of("HQ-CW"), id_of("SZ-NS01-WH"), id_of("GZ-TH01-WH"));
    let stock: &[(i64, &str, &str)] = &[
        (hq, "OM-10G-LR", "60"),
        (hq, "FAN-XG5", "40"),
        (hq, "PSU-XG5-AC", "12"),
        (hq, "LC-PC-3M", "500"),
        (hq, "FIBRE-G652", "2000"),
        (hq, "BAT-12V100", "32"),
        (ns, "OM-10G-LR", "20"),
        (ns, "PSU-XG5-AC", "3"),
        (ns, "FAN-XG5", "1"),
        (ns, "LC-PC-3M", "40"),
        (ns, "FIBRE-G652", "150.5"),
        (th, "OM-10G-LR", "5"),
        (th, "PSU-XG5-AC", "2"),
        (th, "BAT-12V100", "8"),
    ];
    for (warehouse, part, quantity) in stock {
        let f = MovementForm {
            kind: "receipt".into(),
            warehouse_id: *warehouse,
            part_code: Some((*part).into()),
            quantity: Some(quantity.parse().map_err(|e| AppError::Internal(format!("demo quantity: {e}")))?),
            note: Some("期初入库".into()),
            ..Default::default()
        };
        shouhou_app::parts::record_movement(app, ctx, &f).await?;
    }
    let f = MovementForm {
        kind: "transfer_out".into(),
        warehouse_id: hq,
        to_warehouse_id: Some(ns),
        part_code: Some("FAN-XG5".into()),
        quantity: Some(6.into()),
        note: Some("南山站风扇模块低于安全库存，补货".into()),
        ..Default::default()
    };
    shouhou_app::parts::record_movement(app, ctx, &f).await?;
    // The Shenzhen engineer's van, loaded from the station's shelf (the load arrived).
    let van = shouhou_app::warehouses::create_warehouse(
        app,
        ctx,
        &shouhou_app::warehouses::WarehouseForm {
            code: "SZ-NS01-VAN1".into(),
            name: "赵工的工程车".into(),
            station_code: Some("SZ-NS01".into()),
            engineer_username: Some("engineer".into()),
            region_code: "440305".into(),
            address: "粤B·D12345".into(),
        },
    )
    .await?;
    for (part, quantity) in [("LC-PC-3M", 6), ("OM-10G-LR", 2)] {
        let f = MovementForm {
            kind: "transfer_out".into(),
            warehouse_id: ns,
            to_warehouse_id: Some(van.0),
            part_code: Some(part.into()),
            quantity: Some(quantity.into()),
            note: Some("随车备件".into()),
            ..Default::default()
        };
        let done = shouhou_app::parts::record_movement(app, ctx, &f).await?;
        let f = MovementForm {
            kind: "transfer_in".into(),
            warehouse_id: van.0,
            transfer_id: done.transfer_id,
            ..Default::default()
        };
        shouhou_app::parts::record_movement(app, ctx, &f).await?;
    }
    Ok(())
}

/// (station code, regions it covers): its own city, and the Guangdong stations the whole province
/// between them, so a visit in Shenzhen ranks Nanshan's own station first and Guangzhou second.
pub const COVERAGE: &[(&str, &[&str])] = &[
    ("SZ-NS01", &["440300"]),
    ("GZ-TH01", &["440100", "440000"]),
    ("BJ-CY01", &["110000"]),
    ("SH-PD01", &["310000"]),
    ("CD-WH01", &["510100"]),
    ("WH-HS01", &["420100"]),
];

/// (engineer, product lines they are certified for)
pub const SKILLS: &[(&str, &[&str])] = &[
    ("engineer", &["光传输", "数据通信", "宽带接入"]),
    ("engineer2", &["光传输", "宽带接入", "动力配套"]),
    ("engineer3", &["数据通信"]),
];

/// A PNG of 1 × 1 pixel: the demo's customer signature.
const SIGNATURE_PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn actor_ctx(app: &App, username: &str) -> Result<Ctx, AppError> {
    let u = {
        let mut rd = app.db.read().await?;
        users::user_by_username(&mut rd.conn(), username).await?.ok_or(AppError::NotFound)?
    };
    Ok(Ctx { actor: Some(Actor::from_user(&u)), source: "demo".into(), request_id: String::new() })
}

/// Field service: coverage, skills, a day of leave, and work orders in every state, so that the
/// dispatcher's board and the engineer's day show something real.
async fn seed_field_service(app: &App, ctx: &Ctx, serials: &[(i64, String)]) -> Result<(), AppError> {
    use shouhou_app::work_orders::{self as wo, StepForm, WorkOrderForm};
    let station_ids: std::collections::HashMap<String, i64> = {
        let mut rd = app.db.read().await?;
        let mut c = rd.conn();
        let mut m = std::collections::HashMap::new();
        for (code, ..) in STATIONS {
            if let Some(st) = shouhou_store::stations::station_by_code(&mut c, code).await? {
                m.insert((*code).to_string(), st.id);
            }
        }
        m
    };
    for (code, regions) in COVERAGE {
        let regions: Vec<String> = regions.iter().map(|r| r.to_string()).collect();
        wo::set_coverage(app, ctx, station_ids[*code], &regions).await?;
    }
    for (username, lines) in SKILLS {
        let id = actor_ctx(app, username).await?.actor_id().unwrap_or_default();
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        wo::set_skills(app, ctx, id, &lines).await?;
    }
    // The Beijing engineer is away tomorrow.
    {
        let id = actor_ctx(app, "engineer3").await?.actor_id().unwrap_or_default();
        let tomorrow =
            shouhou_domain::requests::business_day(jiff::Timestamp::from_millisecond(app.now()).unwrap_or_default())
                .tomorrow()
                .ok();
        if let Some(day) = tomorrow {
            let mut tx = app.db.begin().await?;
            shouhou_store::work_orders::set_leave(&mut tx.conn(), UserId(id), &day.to_string(), Some("年假")).await?;
            tx.commit().await?;
        }
    }
    let engineer = actor_ctx(app, "engineer").await?;
    let station = actor_ctx(app, "station").await?;
    let shelves =
        shouhou_app::warehouses::list_warehouses(app, ctx, None, shouhou_store::PageRequest::new(Some(1), Some(100)))
            .await?;
    let nanshan_shelf = shelves.items.iter().find(|w| w.code == "SZ-NS01-WH").map(|w| w.id).unwrap_or_default();
    let engineer_id = engineer.actor_id().unwrap_or_default();
    // Visits of Shenzhen customers (the devices of the first customers), each taken as far as its
    // story goes: (kind, the steps after dispatch and assignment, a note)
    let stories: &[(&str, &[&str])] = &[
        ("repair", &[]),
        ("maintenance", &["dispatch"]),
        ("repair", &["dispatch", "assign"]),
        ("installation", &["dispatch", "assign", "accept"]),
        ("repair", &["dispatch", "assign", "accept", "depart"]),
        ("repair", &["dispatch", "assign", "accept", "depart", "check_in", "diagnose"]),
        ("repair", &["dispatch", "assign", "accept", "depart", "check_in", "diagnose", "wait_for_parts"]),
        ("inspection", &["dispatch", "assign", "accept", "depart", "check_in", "complete"]),
        ("maintenance", &["dispatch", "assign", "accept", "depart", "check_in", "complete", "close"]),
        ("repair", &["dispatch", "cancel"]),
    ];
    let shenzhen: Vec<&(i64, String)> = serials.iter().take(4).collect();
    let now = jiff::Timestamp::from_millisecond(app.now()).unwrap_or_default();
    for (i, (kind, steps)) in stories.iter().enumerate() {
        let (customer, serial) = shenzhen[i % shenzhen.len()];
        let hour = 9 + (i as i64 % 8);
        let day = shouhou_domain::requests::business_day(now);
        let from = format!("{day}T{hour:02}:00:00+08:00");
        let to = format!("{day}T{:02}:00:00+08:00", hour + 2);
        // A repair comes from a customer's call: its request first, the visit from it (its
        // report is filed on the request at completion). The other kinds are planned visits.
        let service_request_id = if *kind == "repair" {
            let f = shouhou_app::requests::RequestForm {
                customer_id: *customer,
                serial_number: Some(serial.clone()),
                request_type: "repair".into(),
                channel: "phone".into(),
                urgency: if i % 3 == 0 { "high" } else { "normal" }.into(),
                description: ["设备告警，需上门检查", "首次保养", "更换风扇模块", "新设备安装调试", "光模块收光异常"]
                    [i % 5]
                    .into(),
                ..Default::default()
            };
            Some(shouhou_app::requests::create_request(app, ctx, &f).await?.id)
        } else {
            None
        };
        let f = WorkOrderForm {
            service_request_id,
            customer_id: Some(*customer),
            serial_number: Some(serial.clone()),
            kind: (*kind).into(),
            appointment_from: (i > 0).then_some(from),
            appointment_to: (i > 0).then_some(to),
            description: Some(
                ["设备告警，需上门检查", "首次保养", "更换风扇模块", "新设备安装调试", "光模块收光异常"][i % 5].into(),
            ),
        };
        let c = wo::create_work_order(app, ctx, &f).await?;
        let mut v = c.version;
        for step in *steps {
            let moved = match *step {
                "dispatch" => wo::dispatch(app, ctx, c.id, v, station_ids["SZ-NS01"]).await?,
                "assign" => wo::assign(app, &station, c.id, v, engineer_id).await?,
                "check_in" => {
                    let f = StepForm {
                        action: (*step).into(),
                        lat: Some(22.5405),
                        lng: Some(113.9345),
                        ..Default::default()
                    };
                    wo::step(app, &engineer, c.id, v, &f).await?
                }
                "diagnose" => {
                    let f = StepForm {
                        action: (*step).into(),
                        fault_code: Some("E-LOS".into()),
                        cause: Some("光模块老化，收光功率低于 -28 dBm".into()),
                        ..Default::default()
                    };
                    wo::step(app, &engineer, c.id, v, &f).await?
                }
                "wait_for_parts" => {
                    let f = StepForm {
                        action: (*step).into(),
                        note: Some("等待 10G 光模块到货".into()),
                        ..Default::default()
                    };
                    wo::step(app, &engineer, c.id, v, &f).await?
                }
                "complete" => {
                    wo::add_part(
                        app,
                        &engineer,
                        c.id,
                        &wo::PartForm {
                            part_code: "OM-10G-LR".into(),
                            part_name: "10G 光模块".into(),
                            quantity: 1,
                            old_serial: Some(format!("OM-{:04}", 100 + i)),
                            new_serial: Some(format!("OM-{:04}", 900 + i)),
                            // Taken from Nanshan's shelf (the stock is seeded first).
                            warehouse_id: Some(nanshan_shelf),
                        },
                    )
                    .await?;
                    wo::add_file(app, &engineer, c.id, "signature", "签字.png", SIGNATURE_PNG, None).await?;
                    let f = StepForm {
                        action: (*step).into(),
                        work_done: Some("更换光模块，清洁尾纤，业务恢复".into()),
                        labour_minutes: Some(75),
                        customer_confirmed: Some(true),
                        ..Default::default()
                    };
                    wo::step(app, &engineer, c.id, v, &f).await?
                }
                "close" => {
                    wo::step(app, &station, c.id, v, &StepForm { action: (*step).into(), ..Default::default() }).await?
                }
                "cancel" => {
                    let f = StepForm {
                        action: (*step).into(),
                        note: Some("客户已自行恢复，取消上门".into()),
                        ..Default::default()
                    };
                    wo::step(app, ctx, c.id, v, &f).await?
                }
                _ => {
                    wo::step(app, &engineer, c.id, v, &StepForm { action: (*step).into(), ..Default::default() })
                        .await?
                }
            };
            v = moved.version;
        }
    }
    // First maintenance falling due in two days for one device, and the sweep that turns it into a
    // work order, so the board shows what is due this week.
    let today =
        shouhou_domain::requests::business_day(jiff::Timestamp::from_millisecond(app.now()).unwrap_or_default());
    let (_, serial) = shenzhen[1];
    let device = {
        let mut rd = app.db.read().await?;
        shouhou_store::devices::devices_by_serial(&mut rd.conn(), &app.keys, serial).await?.into_iter().next()
    };
    if let Some(d) = device
        && let Ok(sale) = d.sale_date.parse::<jiff::civil::Date>()
        && let Ok(span) = sale.until(today)
    {
        let plan = shouhou_app::maintenance::PlanForm {
            serial_number: Some(serial.clone()),
            kind: "maintenance".into(),
            first_after_days: Some(i64::from(span.get_days()) + 2),
            every_days: Some(180),
            lead_days: Some(7),
            ..Default::default()
        };
        shouhou_app::maintenance::create_plan(app, ctx, &plan).await?;
        shouhou_app::maintenance::sweep(app, "demo").await?;
    }
    Ok(())
}

/// An urgent request registered ten days ago, accepted and assigned to the Shenzhen engineer but
/// never answered: its response clock has breached, so the sweep warns the engineer and escalates
/// to the station manager (the inbox of `engineer` and `station` shows it), and the queues show a
/// breached request.
async fn seed_breach(app: &App, ctx: &Ctx, customer_id: i64, serial: &str) -> Result<(), AppError> {
    use shouhou_app::requests::RequestForm;
    const TEN_DAYS_MS: i64 = 10 * 24 * 3600 * 1000;
    let past = app.with_clock(std::sync::Arc::new(shouhou_app::FixedClock::new(app.now() - TEN_DAYS_MS)));
    let f = RequestForm {
        customer_id,
        serial_number: Some(serial.into()),
        request_type: "repair".into(),
        channel: "phone".into(),
        urgency: "urgent".into(),
        description: "核心机房光传输设备宕机，全网业务中断，客户要求立即到场".into(),
        ..Default::default()
    };
    let r = shouhou_app::requests::create_request(&past, ctx, &f).await?;
    let engineer = {
        let mut rd = app.db.read().await?;
        users::user_by_username(&mut rd.conn(), "engineer").await?.ok_or(AppError::NotFound)?
    };
    let v = shouhou_app::requests::transition(&past, ctx, r.id, 2, "accept", "").await?.version;
    shouhou_app::requests::assign(&past, ctx, r.id, v, Some(engineer.id)).await?;
    shouhou_app::alerts::sweep(app, "demo").await?;
    Ok(())
}

/// A past repair visit of the Shenzhen engineer, completed `days_ago` with `part` replaced from
/// Nanshan's shelf; answers its id.
#[allow(clippy::too_many_arguments)]
async fn past_repair(
    app: &App,
    ctx: &Ctx,
    (customer, serial): (i64, &str),
    days_ago: i64,
    fault: (&str, &str),
    part: (&str, Option<(String, String)>),
    labour: i64,
    at: (f64, f64),
) -> Result<i64, AppError> {
    use shouhou_app::work_orders::{self as wo, StepForm, WorkOrderForm};
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let past = app.with_clock(std::sync::Arc::new(shouhou_app::FixedClock::new(app.now() - days_ago * DAY_MS)));
    let (station, engineer) = (actor_ctx(app, "station").await?, actor_ctx(app, "engineer").await?);
    let station_id = {
        let mut rd = app.db.read().await?;
        shouhou_store::stations::station_by_code(&mut rd.conn(), "SZ-NS01").await?.ok_or(AppError::NotFound)?.id
    };
    let shelves =
        shouhou_app::warehouses::list_warehouses(app, ctx, None, shouhou_store::PageRequest::new(Some(1), Some(100)))
            .await?;
    let shelf = shelves.items.iter().find(|w| w.code == "SZ-NS01-WH").map(|w| w.id).ok_or(AppError::NotFound)?;
    let f = WorkOrderForm {
        customer_id: Some(customer),
        serial_number: Some(serial.into()),
        kind: "repair".into(),
        description: Some("设备告警，需上门检查".into()),
        ..Default::default()
    };
    let c = wo::create_work_order(&past, ctx, &f).await?;
    let mut v = wo::dispatch(&past, ctx, c.id, c.version, station_id).await?.version;
    v = wo::assign(&past, &station, c.id, v, engineer.actor_id().unwrap_or_default()).await?.version;
    for action in ["accept", "depart"] {
        v = wo::step(&past, &engineer, c.id, v, &StepForm { action: action.into(), ..Default::default() })
            .await?
            .version;
    }
    let f = StepForm { action: "check_in".into(), lat: Some(at.0), lng: Some(at.1), ..Default::default() };
    v = wo::step(&past, &engineer, c.id, v, &f).await?.version;
    let f = StepForm {
        action: "diagnose".into(),
        fault_code: Some(fault.0.into()),
        cause: Some(fault.1.into()),
        ..Default::default()
    };
    v = wo::step(&past, &engineer, c.id, v, &f).await?.version;
    let (old_serial, new_serial) = part.1.unzip();
    let p = wo::PartForm {
        part_code: part.0.into(),
        quantity: 1,
        old_serial,
        new_serial,
        warehouse_id: Some(shelf),
        ..Default::default()
    };
    wo::add_part(&past, &engineer, c.id, &p).await?;
    wo::add_file(&past, &engineer, c.id, "signature", "签字.png", SIGNATURE_PNG, None).await?;
    let f = StepForm {
        action: "complete".into(),
        work_done: Some("更换故障件，测试业务恢复".into()),
        labour_minutes: Some(labour),
        customer_confirmed: Some(true),
        ..Default::default()
    };
    wo::step(&past, &engineer, c.id, v, &f).await?;
    Ok(c.id)
}

/// Warranty cards in every state: approved and paid (its old module received and inspected),
/// approved waiting for its old part, returned for correction, rejected, a flagged one and a clean
/// one waiting for the audit; and a visit whose card is overdue, its station told.
async fn seed_warranty_cards(app: &App, ctx: &Ctx, serials: &[(i64, String)]) -> Result<(), AppError> {
    use shouhou_app::warranty_cards as wc;
    const DAY_MS: i64 = 24 * 3600 * 1000;
    // Devices in warranty today (their cards are warranty work; the flagged one shows the rest).
    let mut covered = vec![];
    for (customer, serial) in serials {
        let found = {
            let mut rd = app.db.read().await?;
            shouhou_store::devices::devices_by_serial(&mut rd.conn(), &app.keys, serial).await?.into_iter().next()
        };
        if let Some(d) = found
            && shouhou_app::devices::entitlement(app, ctx, d.id, None).await?.coverage
                == shouhou_app::devices::Coverage::InWarranty
        {
            covered.push((*customer, serial.clone()));
        }
    }
    let pool = if covered.len() >= 4 { covered } else { serials.to_vec() };
    let device = |i: usize| (pool[i].0, pool[i].1.as_str());
    let nanshan = (22.5405, 113.9345);
    let los = ("E-LOS", "光模块老化，收光功率低于 -28 dBm");
    let module = |n: i64| ("OM-10G-LR", Some((format!("OM-{:04}", 200 + n), format!("OM-{:04}", 800 + n))));
    let station = actor_ctx(app, "station").await?;
    let keeper = actor_ctx(app, "warehouse").await?;
    let file = |id: i64, days_ago: i64| {
        let past = app.with_clock(std::sync::Arc::new(shouhou_app::FixedClock::new(app.now() - days_ago * DAY_MS)));
        let station = station.clone();
        async move { wc::file_card(&past, &station, id).await }
    };
    let review = |d: wc::CardDetail, decision: &str, reason: &str| {
        let f = wc::ReviewForm { decision: decision.into(), reason: Some(reason.into()), version: None };
        async move { wc::review(app, ctx, d.card.id, d.card.version, &f).await }
    };
    // Approved, its old module back and confirmed faulty: payable.
    let a = past_repair(app, ctx, device(0), 20, los, module(1), 75, nanshan).await?;
    let d = review(file(a, 19).await?, "approve", "").await?;
    if let Some(r) = d.returns.first() {
        let f =
            wc::ReceiveForm { inspection: "confirmed_faulty".into(), note: Some("激光器输出功率衰减".into()) };
        wc::receive_return(app, &keeper, r.id, &f).await?;
    }
    // Approved, its old module still on the way.
    let b = past_repair(app, ctx, device(1), 16, los, module(2), 60, nanshan).await?;
    review(file(b, 15).await?, "approve", "").await?;
    // Returned for correction.
    let c = past_repair(
        app,
        ctx,
        device(2),
        12,
        ("E-PWR", "电源模块输出电压异常"),
        ("PSU-XG5-AC", Some(("PSU-0031".into(), "PSU-0077".into()))),
        90,
        nanshan,
    )
    .await?;
    review(file(c, 11).await?, "return", "请核对新件序列号并补充更换前照片").await?;
    // Rejected.
    let r = past_repair(app, ctx, device(3), 9, ("E-LINK", "跳纤弯折"), ("LC-PC-3M", None), 45, nanshan).await?;
    review(file(r, 8).await?, "reject", "跳纤为耗材，不属于三包范围").await?;
    // Flagged, waiting for the audit: the first device's same fault again, 300 minutes, checked in
    // in Guangzhou, the old module's serial claimed before.
    let f = past_repair(
        app,
        ctx,
        device(0),
        5,
        los,
        ("OM-10G-LR", Some(("OM-0201".into(), "OM-0899".into()))),
        300,
        (23.1291, 113.2644),
    )
    .await?;
    file(f, 4).await?;
    // Clean, waiting for the audit.
    let g = past_repair(app, ctx, device(1), 3, ("E-LINK", "尾纤端面污染"), ("LC-PC-3M", None), 40, nanshan).await?;
    file(g, 2).await?;
    // Completed ten days ago, no card: overdue, the station told.
    past_repair(app, ctx, device(2), 10, los, module(5), 60, nanshan).await?;
    wc::sweep_overdue(app).await?;
    Ok(())
}
