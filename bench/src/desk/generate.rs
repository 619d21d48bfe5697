//! The rows of the four big tables, generated on threads of their own and streamed in batches to
//! the loader.
use crate::plan::{
    BRANDS, CHANNELS, COMMUNITIES, DEALERS, FAULT_CODES, GIVEN, INDUSTRIES, OPEN_STATUSES, Plan, REQUEST_TYPES, Refs,
    Region, STREETS, SURNAMES, TIERS, URGENCIES, descriptions,
};
use crate::rng::{Rng, S_BIG_REQUESTS, S_CONTACT_ROWS, S_CUSTOMER_ROWS, S_DEVICE_ROWS, S_REQUESTS};
use crate::{DAY_MS, YEAR_MS};
use anyhow::anyhow;
use shouhou_domain::customers::CustomerTier;
use shouhou_domain::mask::{mask_name, mask_phone};
use shouhou_domain::requests::{RequestType, business_day, format_request_number};
use shouhou_store::crypto::Keyring;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A value of a generated row.
pub enum V {
    I(i64),
    NI(Option<i64>),
    S(String),
    St(&'static str),
    NS(Option<String>),
    NSt(Option<&'static str>),
    B(bool),
}

pub struct Table {
    pub name: &'static str,
    pub cols: &'static [&'static str],
}

pub const T_CUSTOMERS: Table = Table {
    name: "customers",
    cols: &[
        "kind",
        "name_enc",
        "name_mask",
        "phone_enc",
        "phone_idx",
        "phone_mask",
        "credit_code",
        "region_code",
        "address_enc",
        "tier",
        "station_id",
        "created_by",
        "version",
        "created_at",
        "updated_at",
    ],
};
pub const T_CONTACTS: Table = Table {
    name: "customer_contacts",
    cols: &["customer_id", "role", "name_enc", "name_mask", "phone_enc", "phone_idx", "phone_mask", "created_at"],
};
pub const T_DEVICES: Table = Table {
    name: "devices",
    cols: &[
        "serial_number",
        "model_id",
        "customer_id",
        "sale_date",
        "install_region_code",
        "install_address_enc",
        "dealer_name",
        "contract_until",
        "station_id",
        "version",
        "created_at",
        "updated_at",
    ],
};
pub const T_REQUESTS: Table = Table {
    name: "service_requests",
    cols: &[
        "number",
        "customer_id",
        "device_id",
        "request_type",
        "channel",
        "urgency",
        "status",
        "description",
        "fault_code",
        "station_id",
        "assignee_id",
        "created_by",
        "first_contact_resolution",
        "promised_reply_at",
        "calendar_code",
        "policy_id",
        "response_target_min",
        "resolution_target_min",
        "response_due_at",
        "resolution_due_at",
        "response_state",
        "resolution_state",
        "version",
        "created_at",
        "updated_at",
        "closed_at",
        "response_warn_at",
        "resolution_warn_at",
    ],
};
pub const T_COUNTERS: Table = Table { name: "request_counters", cols: &["day", "last"] };
pub const BULK_TABLES: &[&str] = &["customers", "customer_contacts", "devices", "service_requests"];

pub struct Batch {
    pub rows: usize,
    pub vals: Vec<V>,
}

/// Streams rows of one table in batches to the loader.
pub struct Out {
    pub tx: mpsc::Sender<Batch>,
    pub batch_rows: usize,
    pub cur: Batch,
    pub width: usize,
}

impl Out {
    pub fn new(tx: mpsc::Sender<Batch>, batch_rows: usize, width: usize) -> Out {
        Out { tx, batch_rows, cur: Batch { rows: 0, vals: Vec::with_capacity(batch_rows * width) }, width }
    }
    pub fn push(&mut self, v: V) {
        self.cur.vals.push(v);
    }
    pub fn end_row(&mut self) -> anyhow::Result<()> {
        self.cur.rows += 1;
        if self.cur.rows >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }
    pub fn flush(&mut self) -> anyhow::Result<()> {
        if self.cur.rows > 0 {
            let b = std::mem::replace(
                &mut self.cur,
                Batch { rows: 0, vals: Vec::with_capacity(self.batch_rows * self.width) },
            );
            self.tx.blocking_send(b).map_err(|_| anyhow!("the loader stopped"))?;
        }
        Ok(())
    }
}

/// What the generators share.
pub struct Gen {
    pub plan: Arc<Plan>,
    pub refs: Refs,
    pub keys: Keyring,
    pub now: i64,
}

pub fn person_name(rng: &mut Rng, given: &[char]) -> String {
    let skew = rng.below(SURNAMES.len()) + 1;
    let s = SURNAMES[rng.below(skew)];
    let mut n = s.to_string();
    for _ in 0..(if rng.percent(30) { 1 } else { 2 }) {
        n.push(*rng.pick(given));
    }
    n
}

pub fn address(rng: &mut Rng, r: &Region) -> String {
    format!(
        "{}{}{}号{}{}栋{}单元{}室",
        r.full,
        rng.pick(STREETS),
        rng.range(1, 999),
        rng.pick(COMMUNITIES),
        rng.range(1, 30),
        rng.range(1, 6),
        rng.range(1, 33) * 100 + rng.range(1, 5)
    )
}

/// A valid unified social credit code (GB 32100-2015), unique per company index.
pub fn credit_code(i: usize, region: &str) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let body = format!("91{region}{:09}", 100_000_000 + i);
    let sum: u32 = body.bytes().zip(W).map(|(b, w)| CHARS.iter().position(|&c| c == b).unwrap_or(0) as u32 * w).sum();
    let check = CHARS[((31 - sum % 31) % 31) as usize] as char;
    format!("{body}{check}")
}

pub fn date_of(ms: i64) -> anyhow::Result<jiff::civil::Date> {
    Ok(business_day(jiff::Timestamp::from_millisecond(ms)?))
}

pub fn gen_customers(g: &Gen, out: &mut Out) -> anyhow::Result<()> {
    let p = &g.plan;
    let given: Vec<char> = GIVEN.chars().collect();
    let mut rng = Rng::new(p.seed, S_CUSTOMER_ROWS);
    let span = 5 * YEAR_MS;
    for i in 0..p.customers {
        let r = &p.regions[p.region[i] as usize];
        let company = i < p.key_accounts;
        let name = if company {
            format!("{}{}{}有限公司", r.city, rng.pick(BRANDS), rng.pick(INDUSTRIES))
        } else {
            person_name(&mut rng, &given)
        };
        let phone = p.phone[i].to_string();
        let created = g.now - span + (i as i64) * (span / p.customers as i64);
        out.push(V::St(if company { "company" } else { "person" }));
        out.push(V::S(g.keys.encrypt(&name)?));
        out.push(V::S(mask_name(&name)));
        out.push(V::S(g.keys.encrypt(&phone)?));
        out.push(V::S(g.keys.blind_index(&phone)));
        out.push(V::S(mask_phone(&phone)));
        out.push(V::NS(company.then(|| credit_code(i, r.code))));
        out.push(V::St(r.code));
        out.push(V::S(g.keys.encrypt(&address(&mut rng, r))?));
        out.push(V::St(TIERS[p.tier[i] as usize]));
        out.push(V::NI(g.refs.station(p.station[i])));
        out.push(V::NI(None));
        out.push(V::I(1));
        out.push(V::I(created));
        out.push(V::I(created));
        out.end_row()?;
    }
    out.flush()
}

pub fn gen_contacts(g: &Gen, out: &mut Out) -> anyhow::Result<()> {
    let p = &g.plan;
    let given: Vec<char> = GIVEN.chars().collect();
    let mut rng = Rng::new(p.seed, S_CONTACT_ROWS);
    for &(c, phone) in &p.contacts {
        let name = person_name(&mut rng, &given);
        let phone = phone.to_string();
        out.push(V::I(i64::from(c) + 1));
        out.push(V::St(if (c as usize) < p.key_accounts { "operator" } else { "contact" }));
        out.push(V::S(g.keys.encrypt(&name)?));
        out.push(V::S(mask_name(&name)));
        out.push(V::S(g.keys.encrypt(&phone)?));
        out.push(V::S(g.keys.blind_index(&phone)));
        out.push(V::S(mask_phone(&phone)));
        out.push(V::I(g.now - rng.range(0, 3 * YEAR_MS)));
        out.end_row()?;
    }
    out.flush()
}

pub fn gen_devices(g: &Gen, out: &mut Out) -> anyhow::Result<()> {
    let p = &g.plan;
    let mut rng = Rng::new(p.seed, S_DEVICE_ROWS);
    for d in 0..p.devices {
        let c = p.dev_customer[d] as usize;
        let r = &p.regions[p.region[c] as usize];
        let sale = g.now - rng.range(30 * DAY_MS, 5 * YEAR_MS);
        let sale_date = date_of(sale)?;
        let contract = if rng.percent(15) { Some(date_of(sale + 3 * YEAR_MS)?.to_string()) } else { None };
        let install = if rng.percent(30) { Some(g.keys.encrypt(&address(&mut rng, r))?) } else { None };
        let dealer = if rng.percent(50) { Some(*rng.pick(DEALERS)) } else { None };
        let created = sale + rng.range(0, 20 * DAY_MS);
        out.push(V::S(p.serial(d)));
        out.push(V::I(g.refs.model_ids[p.dev_model[d] as usize]));
        out.push(V::I(c as i64 + 1));
        out.push(V::S(sale_date.to_string()));
        out.push(V::St(r.code));
        out.push(V::NS(install));
        out.push(V::NSt(dealer));
        out.push(V::NS(contract));
        out.push(V::NI(g.refs.station(p.station[c])));
        out.push(V::I(1));
        out.push(V::I(created));
        out.push(V::I(created));
        out.end_row()?;
    }
    out.flush()
}

/// The policy the service would pick, by (type, urgency, tier), as static values.
#[derive(Clone, Copy)]
pub struct Pick {
    pub id: i64,
    pub calendar: &'static str,
    pub response_min: i64,
    pub resolution_min: i64,
}

pub fn policy_picks(refs: &Refs) -> anyhow::Result<Picks> {
    let mut calendars: HashMap<String, &'static str> = HashMap::new();
    let mut out = HashMap::new();
    for &(t, _) in REQUEST_TYPES {
        for &(u, _) in URGENCIES {
            for tier in TIERS {
                let p = shouhou_domain::sla::select_policy(
                    &refs.policies,
                    t,
                    u,
                    CustomerTier::parse("tier", tier).map_err(|e| anyhow!("tier {tier}: {}", e.code))?,
                )
                .ok_or_else(|| anyhow!("no policy"))?;
                let cal = *calendars
                    .entry(p.calendar_code.clone())
                    .or_insert_with(|| Box::leak(p.calendar_code.clone().into_boxed_str()));
                out.insert(
                    (t.as_str(), u.as_str(), *tier),
                    Pick {
                        id: p.id,
                        calendar: cal,
                        response_min: p.response_minutes,
                        resolution_min: p.resolution_minutes,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// Per-day request numbers, for rows generated in time order.
#[derive(Default)]
struct Days {
    counters: Vec<(String, i64)>,
    cur_day: Option<i64>,
    day: Option<jiff::civil::Date>,
    counter: i64,
}

impl Days {
    /// The number of a request created at `t` (ms), `SR-YYYYMMDD-NNNN`.
    fn number(&mut self, t: i64) -> anyhow::Result<String> {
        let d = (t + 8 * 3_600_000).div_euclid(DAY_MS);
        if self.cur_day != Some(d) {
            if let Some(prev) = self.day {
                self.counters.push((prev.to_string(), self.counter));
            }
            self.cur_day = Some(d);
            self.day = Some(date_of(t)?);
            self.counter = 0;
        }
        self.counter += 1;
        Ok(format_request_number(self.day.ok_or_else(|| anyhow!("no day"))?, self.counter as u64))
    }

    fn finish(mut self) -> Vec<(String, i64)> {
        if let Some(prev) = self.day {
            self.counters.push((prev.to_string(), self.counter));
        }
        self.counters
    }
}

type Picks = HashMap<(&'static str, &'static str, &'static str), Pick>;

/// Requests in time order over three years up to now, so that the per-day numbers (and the
/// unique index on them) grow in order. With `--big-open N`, the big customer's N open requests
/// (evenly spread over the last 45 days, from a stream of their own) are interleaved in time
/// order, and neither the big customer nor the customer with none gets any other request.
/// Returns the last counter of every day.
pub fn gen_requests(g: &Gen, out: &mut Out) -> anyhow::Result<Vec<(String, i64)>> {
    let p = &g.plan;
    let picks = policy_picks(&g.refs)?;
    let mut rng = Rng::new(p.seed, S_REQUESTS);
    let mut big_rng = Rng::new(p.seed, S_BIG_REQUESTS);
    let span = 3 * YEAR_MS;
    let start = g.now - span;
    let step = span / p.requests.max(1) as i64;
    let big_span = 45 * DAY_MS;
    let big_start = g.now - big_span;
    let big_step = big_span / p.big_open.max(1) as i64;
    let big_at = |j: usize| big_start + j as i64 * big_step;
    let mut days = Days::default();
    let mut next_big = 0usize;
    for i in 0..p.requests {
        let t = start + i as i64 * step + rng.range(0, step.max(1));
        if let Some(big) = p.big() {
            while next_big < p.big_open && big_at(next_big) <= t {
                request_row(g, &picks, &mut big_rng, &mut days, out, big_at(next_big), big, true)?;
                next_big += 1;
            }
        }
        let mut c = if rng.percent(10) { rng.below(p.key_accounts) } else { rng.below(p.customers) };
        if p.is_special(c) {
            c = p.special_count() + rng.below(p.customers - p.special_count());
        }
        request_row(g, &picks, &mut rng, &mut days, out, t, c, false)?;
    }
    if let Some(big) = p.big() {
        for j in next_big..p.big_open {
            request_row(g, &picks, &mut big_rng, &mut days, out, big_at(j), big, true)?;
        }
    }
    out.flush()?;
    Ok(days.finish())
}

/// One request of customer `c` created at `t`; open as of now by the age rule (the younger the
/// likelier), or always when `force_open`.
#[allow(clippy::too_many_arguments)]
fn request_row(
    g: &Gen,
    picks: &Picks,
    rng: &mut Rng,
    days: &mut Days,
    out: &mut Out,
    t: i64,
    c: usize,
    force_open: bool,
) -> anyhow::Result<()> {
    let p = &g.plan;
    let number = days.number(t)?;
    let devs = p.devices_of(c);
    let device = if !devs.is_empty() && rng.percent(85) { Some(i64::from(*rng.pick(devs)) + 1) } else { None };
    let rtype = rng.weighted(REQUEST_TYPES);
    let descs = descriptions(rtype);
    let urgency = rng.weighted(URGENCIES);
    let tier = TIERS[p.tier[c] as usize];
    let pick = *picks.get(&(rtype.as_str(), urgency.as_str(), tier)).ok_or_else(|| anyhow!("no policy pick"))?;
    let age = g.now - t;
    let open_p = if force_open || age < 2 * DAY_MS {
        if force_open { 100 } else { 70 }
    } else if age < 14 * DAY_MS {
        30
    } else if age < 45 * DAY_MS {
        8
    } else {
        0
    };
    let resp_due = t + pick.response_min * 60_000;
    let resol_due = t + pick.resolution_min * 60_000;
    let fcr = rtype == RequestType::Consultation && rng.percent(30);
    let (status, version, updated, closed, rdue, sdue, rstate, sstate, rwarn, swarn);
    if rng.percent(open_p) {
        status = rng.weighted(OPEN_STATUSES);
        let responded = !matches!(status, "new" | "accepted");
        version = 1 + rng.range(1, 6);
        updated = t + rng.range(0, age.max(1));
        closed = None;
        rdue = (!responded).then_some(resp_due);
        rstate = if responded {
            "met"
        } else if resp_due < g.now {
            "breached"
        } else {
            "running"
        };
        let paused = status == "waiting_customer";
        let stopped = status == "resolved";
        sdue = (!paused && !stopped).then_some(resol_due);
        sstate = if stopped {
            "met"
        } else if resol_due < g.now {
            "breached"
        } else if paused {
            "paused"
        } else {
            "running"
        };
        rwarn = (rstate == "running").then_some(t + pick.response_min * 48_000);
        swarn = (sstate == "running").then_some(t + pick.resolution_min * 48_000);
    } else {
        let cancelled = rng.percent(4);
        status = if cancelled { "cancelled" } else { "closed" };
        version = if cancelled { 3 } else { 7 };
        let done = (t + rng.range(3_600_000, 10 * DAY_MS)).min(g.now);
        updated = done;
        closed = Some(done);
        rdue = None;
        sdue = None;
        rstate = if rng.percent(92) { "met" } else { "missed" };
        sstate = if rng.percent(85) { "met" } else { "missed" };
        rwarn = None;
        swarn = None;
    }
    out.push(V::S(number));
    out.push(V::I(c as i64 + 1));
    out.push(V::NI(device));
    out.push(V::St(rtype.as_str()));
    out.push(V::St(rng.weighted(CHANNELS)));
    out.push(V::St(urgency.as_str()));
    out.push(V::St(status));
    out.push(V::St(descs[rng.below(descs.len())]));
    out.push(V::NSt((rtype == RequestType::Repair && rng.percent(60)).then(|| *rng.pick(FAULT_CODES))));
    out.push(V::NI(g.refs.station(p.station[c])));
    out.push(V::NI(None));
    out.push(V::NI(Some(g.refs.agent_id)));
    out.push(V::B(fcr));
    out.push(V::NI(None));
    out.push(V::St(pick.calendar));
    out.push(V::NI(Some(pick.id)));
    out.push(V::I(pick.response_min));
    out.push(V::I(pick.resolution_min));
    out.push(V::NI(rdue));
    out.push(V::NI(sdue));
    out.push(V::St(rstate));
    out.push(V::St(sstate));
    out.push(V::I(version));
    out.push(V::I(t));
    out.push(V::I(updated));
    out.push(V::NI(closed));
    out.push(V::NI(rwarn));
    out.push(V::NI(swarn));
    out.end_row()
}

pub fn gen_counters(counters: &[(String, i64)], out: &mut Out) -> anyhow::Result<()> {
    for (day, last) in counters {
        out.push(V::S(day.clone()));
        out.push(V::I(*last));
        out.end_row()?;
    }
    out.flush()
}

#[derive(Clone, Copy)]
pub enum Kind {
    Customers,
    Contacts,
    Devices,
    Requests,
}

impl Kind {
    pub fn table(self) -> &'static Table {
        match self {
            Kind::Customers => &T_CUSTOMERS,
            Kind::Contacts => &T_CONTACTS,
            Kind::Devices => &T_DEVICES,
            Kind::Requests => &T_REQUESTS,
        }
    }
    pub fn rows(self, p: &Plan) -> usize {
        match self {
            Kind::Customers => p.customers,
            Kind::Contacts => p.contacts.len(),
            Kind::Devices => p.devices,
            Kind::Requests => p.total_requests(),
        }
    }
}

/// Start the generator of a table on a thread of its own; its rows come out of the receiver.
pub type GenHandle = std::thread::JoinHandle<anyhow::Result<Vec<(String, i64)>>>;

pub fn spawn_gen(g: Arc<Gen>, kind: Kind, batch_rows: usize) -> (mpsc::Receiver<Batch>, GenHandle) {
    let (tx, rx) = mpsc::channel(8);
    let h = std::thread::spawn(move || {
        let mut out = Out::new(tx, batch_rows, kind.table().cols.len());
        match kind {
            Kind::Customers => gen_customers(&g, &mut out).map(|_| vec![]),
            Kind::Contacts => gen_contacts(&g, &mut out).map(|_| vec![]),
            Kind::Devices => gen_devices(&g, &mut out).map(|_| vec![]),
            Kind::Requests => gen_requests(&g, &mut out),
        }
    });
    (rx, h)
}

pub fn join_gen(h: GenHandle) -> anyhow::Result<Vec<(String, i64)>> {
    h.join().map_err(|_| anyhow!("generator thread panicked"))?
}
