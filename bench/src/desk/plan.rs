//! What the generated data set looks like beyond one row (phones, device owners, stations,
//! regions, tiers), built from the seed alone; the word lists the rows are made of; and the
//! reference rows (stations, users, product models) created through the use cases.
use crate::rng::{Rng, S_CONTACTS, S_CUSTOMERS, S_DEVICES, S_PHONES};
use crate::{PASSWORD, place::bootstrap_admin};
use anyhow::{anyhow, ensure};
use shouhou_app::App;
use shouhou_app::products::{self, ProductModelForm};
use shouhou_app::stations::StationForm;
use shouhou_app::users::UserForm;
use shouhou_domain::requests::{RequestType, Urgency};
use shouhou_testkit::demo::STATIONS;
use std::collections::HashSet;

pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于",
    "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆",
    "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛",
    "闫", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武",
    "戴", "莫", "孔", "向", "汤", "欧阳", "司马", "诸葛", "上官", "慕容",
];
pub const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红建文辉力鹏宇浩然子涵欣怡梓轩雨博佳琪思远晨阳嘉一诺俊诗婷雪梅海燕志永春金凤立新国庆丹晓东小瑞祥福林波斌宁蕾颖倩慧琳莉雯露瑶璐晶鑫淼彤昊泽睿铭航凯鸿飞振宏峰亮健龙翔";
pub const BRANDS: &[&str] = &[
    "华信", "鼎盛", "恒通", "宏远", "金桥", "东方", "瑞丰", "中联", "天成", "新锐", "博远", "汇通", "盛达", "长城",
    "万达", "永信", "启明", "星河", "海纳", "云帆",
];
pub const INDUSTRIES: &[&str] = &[
    "通信工程",
    "网络科技",
    "电子",
    "信息技术",
    "电力设备",
    "建设工程",
    "数据服务",
    "安防科技",
    "物业管理",
    "智能科技",
];
pub const STREETS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "胜利路",
    "朝阳路",
    "长江路",
    "黄河路",
    "文化路",
    "青年路",
    "工业大道",
    "科技园路",
    "世纪大道",
    "滨江路",
    "学府路",
    "光明街",
    "幸福路",
    "复兴路",
];
pub const COMMUNITIES: &[&str] =
    &["阳光花园", "碧桂园", "万科城", "金色家园", "翠苑小区", "幸福里", "锦绣华庭", "书香门第", "御景湾", "东方明珠苑"];
pub const DEALERS: &[&str] = &[
    "深圳华强电子有限公司",
    "广州天河通信器材有限公司",
    "北京中关村科技贸易有限公司",
    "上海浦东网络设备有限公司",
    "成都天府通信技术有限公司",
    "武汉光谷电子有限公司",
    "杭州西湖数码有限公司",
    "南京新街口电器有限公司",
];
pub const FAULT_CODES: &[&str] = &["E101", "E205", "LOS", "PWR-01", "FAN-02", "TEMP-03", "LINK-04"];

/// (code, name, product line, warranty months, serial prefix)
pub const MODELS: &[(&str, &str, &str, i64, &str)] = &[
    ("XG-5000", "光传输设备", "光传输", 12, "21XG5K"),
    ("XG-8800", "核心路由器", "数据通信", 24, "21XG88"),
    ("HW-S5735", "园区交换机", "数据通信", 12, "2102S57"),
    ("ZX-OLT600", "光线路终端", "宽带接入", 12, "ZXOLT6"),
    ("ZX-ONU20", "家庭光猫", "宽带接入", 12, "ZXONU2"),
    ("PD-UPS10K", "不间断电源", "动力配套", 18, "PDU10K"),
    ("PD-UPS3K", "小型不间断电源", "动力配套", 18, "PDU03K"),
    ("XG-2200", "接入路由器", "数据通信", 12, "21XG22"),
    ("HW-AP7060", "无线接入点", "无线局域网", 12, "21AP76"),
    ("HW-AC6805", "无线控制器", "无线局域网", 24, "21AC68"),
    ("ZX-BBU5216", "基站基带单元", "无线接入", 24, "ZXBBU5"),
    ("ZX-RRU8861", "射频拉远单元", "无线接入", 24, "ZXRRU8"),
    ("DH-NVR4216", "网络硬盘录像机", "视频监控", 12, "DHNVR4"),
    ("DH-IPC2431", "网络摄像机", "视频监控", 12, "DHIPC2"),
    ("HK-DS7808", "安防控制主机", "视频监控", 12, "HKDS78"),
    ("PD-BAT100", "蓄电池组", "动力配套", 36, "PDB100"),
    ("PD-AC12K", "精密空调", "动力配套", 24, "PDAC12"),
    ("XG-FW600", "防火墙", "网络安全", 12, "21FW60"),
    ("XG-LB300", "负载均衡器", "网络安全", 12, "21LB30"),
    ("SV-R2288", "机架服务器", "服务器", 36, "SVR228"),
    ("SV-T1100", "塔式服务器", "服务器", 36, "SVT110"),
    ("ST-OS5500", "存储阵列", "存储", 36, "STOS55"),
    ("ZX-ONU60", "企业光网关", "宽带接入", 12, "ZXONU6"),
    ("HW-S1720", "接入交换机", "数据通信", 12, "21S172"),
];

/// Mobile prefixes in use in mainland China (1[3-9]x).
pub const MOBILE_PREFIXES: &[u64] = &[
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 149, 150, 151, 152, 153, 155, 156, 157, 158, 159, 166,
    170, 171, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 193, 195, 196, 197, 198,
    199,
];

pub const REQUEST_TYPES: &[(RequestType, usize)] = &[
    (RequestType::Repair, 45),
    (RequestType::Consultation, 20),
    (RequestType::Maintenance, 8),
    (RequestType::Installation, 7),
    (RequestType::Upgrade, 5),
    (RequestType::Complaint, 4),
    (RequestType::Delivery, 3),
    (RequestType::ReturnExchange, 3),
    (RequestType::Suggestion, 3),
    (RequestType::Training, 2),
];
pub const CHANNELS: &[(&str, usize)] = &[
    ("phone", 50),
    ("wechat", 20),
    ("web", 10),
    ("qr_code", 8),
    ("chat", 4),
    ("email", 3),
    ("dealer", 3),
    ("walk_in", 2),
];
pub const URGENCIES: &[(Urgency, usize)] =
    &[(Urgency::Normal, 60), (Urgency::High, 20), (Urgency::Low, 12), (Urgency::Urgent, 8)];
pub const OPEN_STATUSES: &[(&str, usize)] = &[
    ("new", 15),
    ("accepted", 20),
    ("responded", 20),
    ("in_progress", 25),
    ("waiting_customer", 10),
    ("resolved", 7),
    ("reopened", 3),
];
pub const TIERS: &[&str] = &["standard", "key", "vip"];

pub fn descriptions(t: RequestType) -> &'static [&'static str] {
    match t {
        RequestType::Repair => &[
            "设备无法开机，电源指示灯不亮",
            "光模块 LOS 告警，业务中断",
            "风扇噪音异常，伴有温度告警",
            "端口频繁 up/down，用户掉线",
            "设备重启后无法进入系统",
            "电池鼓包，需要更换",
            "屏幕花屏，按键无响应",
        ],
        RequestType::Consultation => {
            &["咨询保修期如何计算", "咨询 VLAN 配置方法", "咨询固件升级步骤", "咨询备件价格与到货时间"]
        }
        RequestType::Installation => &["新购设备上门安装调试", "机房搬迁后重新安装"],
        RequestType::Maintenance => &["年度例行保养", "首次保养预约"],
        RequestType::Upgrade => &["系统升级到 V3.2", "固件版本升级"],
        RequestType::Delivery => &["备件配送进度查询"],
        RequestType::Complaint => &["投诉工程师上门迟到", "投诉维修后故障复现"],
        RequestType::Suggestion => &["建议增加微信报修入口"],
        RequestType::ReturnExchange => &["新机到货即损坏，申请换货"],
        RequestType::Training => &["申请设备操作培训"],
    }
}

pub struct Region {
    pub code: &'static str,
    /// "广东省深圳市南山区"
    pub full: String,
    /// "深圳市"
    pub city: String,
}

pub fn regions() -> Vec<Region> {
    const AREAS: &str = include_str!("../../../data/regions-cn/areas.csv");
    AREAS
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|code| {
            let name = shouhou_domain::regions::region_name(code);
            if name == code {
                return None;
            }
            let parts: Vec<&str> = name.split(' ').collect();
            let city = if parts.len() >= 2 { parts[parts.len() - 2] } else { parts[0] }.to_string();
            Some(Region { code, full: parts.concat(), city })
        })
        .collect()
}

/// Everything about the data set that is needed beyond one row: phones (for look-ups and misses),
/// who owns which device, stations, regions and tiers (for the requests). Built from the seed alone.
pub struct Plan {
    pub seed: u64,
    pub customers: usize,
    pub devices: usize,
    /// Requests generated at random (the big customer's come on top).
    pub requests: usize,
    /// Open requests of the big customer (`--big-open`); 0 for none, and then no customer is special.
    pub big_open: usize,
    /// The first customers are companies, the key accounts with many devices and requests.
    pub key_accounts: usize,
    pub phone: Vec<u64>,
    pub phone_set: HashSet<u64>,
    /// (customer index, phone), ordered by customer.
    pub contacts: Vec<(u32, u64)>,
    /// Index into `STATIONS` + 1; 0 for none.
    pub station: Vec<u8>,
    pub region: Vec<u16>,
    pub tier: Vec<u8>,
    pub dev_customer: Vec<u32>,
    pub dev_model: Vec<u8>,
    pub dev_serial: Vec<u32>,
    /// Devices of a customer: `cust_dev[cust_dev_start[c]..cust_dev_start[c + 1]]`.
    pub cust_dev_start: Vec<u32>,
    pub cust_dev: Vec<u32>,
    pub regions: Vec<Region>,
}

impl Plan {
    pub fn build(
        seed: u64,
        customers: usize,
        devices: usize,
        requests: usize,
        big_open: usize,
    ) -> anyhow::Result<Plan> {
        ensure!(customers > 0 && devices > 0, "at least one customer and one device");
        ensure!(big_open == 0 || customers >= 200, "--big-open needs at least 200 customers (two key accounts)");
        ensure!(customers < u32::MAX as usize && devices < u32::MAX as usize, "too many rows");
        let regions = regions();
        ensure!(regions.len() < u16::MAX as usize && !regions.is_empty(), "region table");
        let key_accounts = (customers / 100).max(1);
        let n_contacts = customers / 10;

        let mut rng = Rng::new(seed, S_PHONES);
        let mut phone_set = HashSet::with_capacity(customers + n_contacts);
        let mut fresh_phone = |rng: &mut Rng| loop {
            let p = rng.pick(MOBILE_PREFIXES) * 100_000_000 + rng.below(100_000_000) as u64;
            if phone_set.insert(p) {
                break p;
            }
        };
        let phone: Vec<u64> = (0..customers).map(|_| fresh_phone(&mut rng)).collect();
        // Contacts: an operator (机手) for every key account, other contacts of random customers.
        let mut crng = Rng::new(seed, S_CONTACTS);
        let mut contacts: Vec<(u32, u64)> = (0..n_contacts)
            .map(|k| {
                let c = if k < key_accounts { k } else { crng.below(customers) };
                (c as u32, fresh_phone(&mut rng))
            })
            .collect();
        contacts.sort_by_key(|c| c.0);

        // Station and region: two thirds of customers live in a station's city and are its customers.
        let by_station: Vec<Vec<u16>> = STATIONS
            .iter()
            .map(|s| {
                regions.iter().enumerate().filter(|(_, r)| r.code[..4] == s.2[..4]).map(|(i, _)| i as u16).collect()
            })
            .collect();
        let mut rng = Rng::new(seed, S_CUSTOMERS);
        let mut station = Vec::with_capacity(customers);
        let mut region = Vec::with_capacity(customers);
        let mut tier = Vec::with_capacity(customers);
        for i in 0..customers {
            if rng.percent(65) {
                let s = rng.below(STATIONS.len());
                station.push(s as u8 + 1);
                region.push(*rng.pick(&by_station[s]));
            } else {
                station.push(0);
                region.push(rng.below(regions.len()) as u16);
            }
            tier.push(if i < key_accounts {
                if rng.percent(70) { 1 } else { 2 }
            } else {
                rng.weighted(&[(0u8, 92), (1, 5), (2, 3)])
            });
        }

        // Devices: one per customer first, the rest to key accounts (30 %) or anyone.
        let mut rng = Rng::new(seed, S_DEVICES);
        let mut dev_customer = Vec::with_capacity(devices);
        let mut dev_model = Vec::with_capacity(devices);
        let mut dev_serial = Vec::with_capacity(devices);
        let mut per_model = vec![0u32; MODELS.len()];
        for d in 0..devices {
            let c = if d < customers {
                d
            } else if rng.percent(30) {
                rng.below(key_accounts)
            } else {
                rng.below(customers)
            };
            let m = if c < key_accounts { rng.below(MODELS.len()) } else { rng.below(MODELS.len().min(8)) };
            per_model[m] += 1;
            dev_customer.push(c as u32);
            dev_model.push(m as u8);
            dev_serial.push(per_model[m]);
        }
        let mut counts = vec![0u32; customers + 1];
        for &c in &dev_customer {
            counts[c as usize + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let mut cust_dev = vec![0u32; devices];
        for (d, &c) in dev_customer.iter().enumerate() {
            cust_dev[fill[c as usize] as usize] = d as u32;
            fill[c as usize] += 1;
        }
        Ok(Plan {
            seed,
            customers,
            devices,
            requests,
            big_open,
            key_accounts,
            phone,
            phone_set,
            contacts,
            station,
            region,
            tier,
            dev_customer,
            dev_model,
            dev_serial,
            cust_dev_start: counts,
            cust_dev,
            regions,
        })
    }

    /// All request rows: the random ones and the big customer's.
    pub fn total_requests(&self) -> usize {
        self.requests + self.big_open
    }

    /// With `--big-open`: the big customer (the first key account, a company), whose only requests
    /// are its `big_open` open ones.
    pub fn big(&self) -> Option<usize> {
        (self.big_open > 0).then_some(0)
    }

    /// With `--big-open`: the customer with no request at all (the second key account, a company
    /// like the big one, with a similar number of devices).
    pub fn none(&self) -> Option<usize> {
        (self.big_open > 0).then_some(1)
    }

    /// How many customers (the first ones) get no random request.
    pub fn special_count(&self) -> usize {
        if self.big_open > 0 { 2 } else { 0 }
    }

    pub fn is_special(&self, c: usize) -> bool {
        c < self.special_count()
    }

    pub fn devices_of(&self, c: usize) -> &[u32] {
        &self.cust_dev[self.cust_dev_start[c] as usize..self.cust_dev_start[c + 1] as usize]
    }

    pub fn serial(&self, d: usize) -> String {
        format!("{}{:08}", MODELS[self.dev_model[d] as usize].4, self.dev_serial[d])
    }
}

/// Ids of the reference rows created through the application.
#[derive(Clone)]
pub struct Refs {
    pub model_ids: Vec<i64>,
    pub station_ids: Vec<i64>,
    pub agent_id: i64,
    pub policies: Vec<shouhou_store::sla::Policy>,
}

impl Refs {
    pub fn station(&self, s: u8) -> Option<i64> {
        (s > 0).then(|| self.station_ids[s as usize - 1])
    }
}

pub async fn seed_reference(app: &App) -> anyhow::Result<()> {
    let ctx = bootstrap_admin(app).await?;
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
    }
    for (username, name, role) in [("agent", "刘芳", "agent"), ("finance", "郑丽", "finance")] {
        shouhou_app::users::create_user(
            app,
            &ctx,
            &UserForm {
                username: username.into(),
                display_name: name.into(),
                password: PASSWORD.into(),
                locale: "zh-CN".into(),
                roles: vec![role.into()],
                stations: vec![],
            },
        )
        .await?;
    }
    for (code, name, line, months, _) in MODELS {
        products::create_product_model(
            app,
            &ctx,
            &ProductModelForm {
                code: (*code).into(),
                name: (*name).into(),
                product_line: (*line).into(),
                warranty_months: Some(*months),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

pub async fn load_refs(app: &App) -> anyhow::Result<Refs> {
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let mut model_ids = vec![];
    for (code, ..) in MODELS {
        let m = shouhou_store::products::model_by_code(&mut c, code).await?.ok_or_else(|| anyhow!("model {code}"))?;
        model_ids.push(m.id);
    }
    let mut station_ids = vec![];
    for (code, ..) in STATIONS {
        let s =
            shouhou_store::stations::station_by_code(&mut c, code).await?.ok_or_else(|| anyhow!("station {code}"))?;
        station_ids.push(s.id);
    }
    let agent = shouhou_store::users::user_by_username(&mut c, "agent").await?.ok_or_else(|| anyhow!("agent"))?;
    let policies = shouhou_store::sla::active_policies(&mut c).await?;
    Ok(Refs { model_ids, station_ids, agent_id: agent.id, policies })
}
