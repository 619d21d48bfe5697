//! The service desk's records: product models, customers and their devices, and the screen pop an
//! agent sees when a phone rings. Personal data is shown in clear only to those with the right,
//! and every read in clear is written to the audit trail; everyone else sees it masked.
use crate::customers::CustomerView;
use crate::customers::log_clear_read;
use crate::customers::view;
use crate::devices::DeviceView;
use crate::devices::device_view;
use crate::devices::today;
use crate::{App, Ctx, Result};
use shouhou_domain::ValidationErrors;
use shouhou_domain::auth::Permission;
use shouhou_domain::requests::Request;
use shouhou_domain::{customers::Phone, devices::SerialNumber};
use shouhou_store::requests::{self};
use shouhou_store::{
    customers::{self, Customer},
    devices::{self},
};

// ---------- screen pop ----------

/// What an agent sees the moment a call comes in.
#[derive(Debug, Clone)]
pub struct ScreenPop {
    pub customer: CustomerView,
    pub devices: Vec<DeviceView>,
    pub open_requests: Vec<Request>,
    pub history: Vec<Request>,
    /// Other customers with the same phone (a shared company switchboard, say).
    pub also_matching: Vec<CustomerView>,
}

pub enum Lookup<'a> {
    Phone(&'a str),
    Serial(&'a str),
}

/// Find the customer by phone (blind index) or serial number; `None` when nobody matches.
#[tracing::instrument(skip_all)]
pub async fn screen_pop(app: &App, ctx: &Ctx, by: Lookup<'_>) -> Result<Option<ScreenPop>> {
    let actor = ctx.require_read(Permission::CustomerRead)?;
    let mut rd = app.db.read().await?;
    let mut c = rd.conn();
    let mut customers = match by {
        Lookup::Phone(p) => {
            let phone = Phone::parse("phone", p).map_err(ValidationErrors::from)?;
            customers::customers_by_phone(&mut c, &app.keys, phone.as_str(), &actor.scope).await?
        }
        Lookup::Serial(s) => {
            let serial = SerialNumber::parse("serial_number", s).map_err(ValidationErrors::from)?;
            let mut out = vec![];
            for d in devices::devices_by_serial(&mut c, &app.keys, serial.as_str()).await? {
                if let Some(cu) =
                    customers::get_customer_in_scope(&mut c, &app.keys, d.customer_id, &actor.scope).await?
                    && !out.iter().any(|o: &Customer| o.id == cu.id)
                {
                    out.push(cu);
                }
            }
            out
        }
    };
    if customers.is_empty() {
        return Ok(None);
    }
    let first = customers.remove(0);
    let devices = devices::devices_of_customer(&mut c, &app.keys, first.id).await?;
    let open_requests = requests::requests_of_customer(&mut c, first.id, &actor.scope, true, 50).await?;
    let history = requests::requests_of_customer(&mut c, first.id, &actor.scope, false, 20).await?;
    drop(rd);
    let clear = actor.can(Permission::PersonalDataRead);
    if clear {
        let mut ids = vec![first.id];
        ids.extend(customers.iter().map(|c| c.id));
        log_clear_read(app, ctx, "screen_pop", &ids).await?;
    }
    let today = today(app);
    Ok(Some(ScreenPop {
        customer: view(first, clear),
        devices: devices.into_iter().map(|d| device_view(d, today, clear)).collect(),
        open_requests,
        history,
        also_matching: customers.into_iter().map(|c| view(c, clear)).collect(),
    }))
}
