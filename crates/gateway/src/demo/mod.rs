//! `hoshu demo`: the gateway on its embedded defaults with two demo users whose credentials are
//! printed, so a first login works with nothing else set up.

pub mod target;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use hoshu_domain::{ApplicationState, AuditEvent, AuditKind, Role};
use hoshu_storage::{NewUser, Store};
use rand::rngs::OsRng;

use crate::app::config::{Config, SessionSettings};
use crate::app::services::Services;
use crate::app::state::unix_now;
use crate::login::{new_registration_code, registration_code_hash};

struct DemoUser {
    login: &'static str,
    name: &'static str,
    role: Role,
    vendor: Option<&'static str>,
    cells: &'static [u8],
    fixed: &'static str,
    insert: usize,
}

/// Demo credentials are public by design; they exist only in a demo data directory.
const DEMO_USERS: [DemoUser; 2] = [
    DemoUser {
        login: "demo-admin",
        name: "デモ管理者 Demo Admin",
        role: Role::Admin,
        vendor: None,
        cells: &[1, 18, 35, 52, 7, 30, 41, 60],
        fixed: "hoshu",
        insert: 4,
    },
    DemoUser {
        login: "demo-vendor",
        name: "保守 太郎 Taro Hoshu",
        role: Role::Vendor,
        vendor: Some(DEMO_VENDOR),
        cells: &[9, 14, 27, 33, 44, 50, 58, 3],
        fixed: "demo",
        insert: 0,
    },
];

pub async fn run(
    data: PathBuf,
    listen: SocketAddr,
    session: SessionSettings,
) -> anyhow::Result<ExitCode> {
    let data = std::path::absolute(&data).unwrap_or(data);
    let mut config = Config::embedded(data.clone(), listen);
    config.session = session;
    // Before anything is set up: a second demo on this directory must not touch the first's.
    let lock = crate::app::server::DataDirLock::take(&data)?;
    let store = Store::open(&data)
        .await
        .with_context(|| format!("opening demo data directory {}", data.display()))?;
    ensure_demo_vendor(&store).await?;
    for user in &DEMO_USERS {
        ensure_user(&store, &config, user).await?;
    }
    // The demo vendor's engineer is a demo user (seed §6): demo targets only, renewed on
    // every start so the demo keeps working.
    let vendor_user = store.existing_user("demo-vendor").await?;
    store
        .set_demo_until(vendor_user.id, Some(unix_now() + DEMO_DAYS * 86_400))
        .await?;
    let mut services = Services::new();
    let target = target::start("Hoshu demo target", &mut services).await?;
    ensure_demo_target(&store, target).await?;
    let banner = format!(
        "{}  target: {DEMO_TARGET} (built-in VNC desktop on {target}; open it from the portal)\n\n",
        banner(&data)
    );
    crate::app::server::serve(config, store, lock, services, move |_| print!("{banner}")).await
}

/// The built-in target's name in the portal.
pub const DEMO_TARGET: &str = "demo-desktop";

const DEMO_VENDOR: &str = "デモ保守株式会社 Demo Maintenance Co.";
const DEMO_DAYS: i64 = 30;

/// The demo vendor, its application moved to the demo step through the same flow as any.
async fn ensure_demo_vendor(store: &Store) -> anyhow::Result<()> {
    if store.vendor_by_name(DEMO_VENDOR).await?.is_some() {
        return Ok(());
    }
    let sheet = crate::vendors::HearingSheet {
        contacts: "保守 太郎 Taro Hoshu, 03-0000-0000".to_owned(),
        systems: vec!["デモ Demo".to_owned()],
        tools: "Web browser".to_owned(),
        protocols: vec![hoshu_domain::Protocol::Vnc],
        frequency: "monthly".to_owned(),
    };
    let id = crate::vendors::add_vendor(store, DEMO_VENDOR, sheet, "demo").await?;
    let today = time::OffsetDateTime::now_utc().date();
    for (to, note) in [
        (ApplicationState::BriefingHeld, "demo briefing"),
        (ApplicationState::Demo, "demo user demo-vendor"),
    ] {
        crate::vendors::move_application(store, id, to, note, "demo", today).await?;
    }
    Ok(())
}

/// Registers the built-in target, or points it at this run's port.
async fn ensure_demo_target(store: &Store, addr: SocketAddr) -> anyhow::Result<()> {
    let host = addr.ip().to_string();
    if let Some(target) = store.target_by_name(DEMO_TARGET).await? {
        store
            .set_target_address(target.id, &host, addr.port())
            .await?;
        store.set_target_demo(target.id, true).await?;
        return Ok(());
    }
    let new = hoshu_storage::NewTarget {
        name: DEMO_TARGET,
        protocol: hoshu_domain::Protocol::Vnc,
        host: &host,
        port: addr.port(),
        username: None,
        password: None,
        private_key: None,
        host_key: None,
        system: Some("デモ Demo"),
        clipboard: hoshu_domain::ClipboardPolicy::PasteIn,
        standing_access: true,
        demo: true,
        idle_timeout_secs: 900,
        max_duration_secs: 8 * 3600,
        keyboard: "us",
        rdp_security: "any",
    };
    store.ensure_system("デモ Demo", "", unix_now()).await?;
    store.add_target(&new, unix_now()).await?;
    store
        .append_audit(
            &AuditEvent::new(AuditKind::TargetAdded)
                .actor("demo")
                .subject(DEMO_TARGET)
                .detail("protocol", "vnc"),
        )
        .await?;
    Ok(())
}

/// Creates the user and registers the demo pattern, unless that is already done.
async fn ensure_user(store: &Store, config: &Config, demo: &DemoUser) -> anyhow::Result<()> {
    let now = unix_now();
    let user = match store.user_by_login(demo.login).await? {
        Some(user) if user.registered => return Ok(()),
        Some(user) => user,
        None => {
            let new = NewUser {
                login: demo.login,
                name: demo.name,
                role: demo.role,
                vendor: demo.vendor,
            };
            store.create_user(&new, now).await?;
            store
                .append_audit(
                    &AuditEvent::new(AuditKind::UserAdded)
                        .actor("demo")
                        .subject(demo.login)
                        .detail("role", demo.role.as_str()),
                )
                .await?;
            store.existing_user(demo.login).await?
        }
    };
    let secret =
        hoshu_otp::enrol(&config.otp, demo.cells, Some(demo.fixed), demo.insert).map_err(|v| {
            anyhow::anyhow!(
                "demo pattern of {} breaks the default policy: {v:?}",
                demo.login
            )
        })?;
    let hash = hoshu_otp::hash_fixed(demo.fixed, &mut OsRng)?;
    // Registration goes through a code like everyone's, so the demo exercises the same path.
    let code_hash = registration_code_hash(&new_registration_code());
    store
        .issue_registration_code(user.id, &code_hash, now + 60)
        .await?;
    store
        .register(&code_hash, now, &secret, &hash)
        .await?
        .context("registering the demo pattern")?;
    store
        .append_audit(
            &AuditEvent::new(AuditKind::Registration)
                .actor("demo")
                .subject(demo.login)
                .detail("cells", demo.cells.len())
                .detail("fixed_password", true),
        )
        .await?;
    Ok(())
}

/// The demo users' credentials with a picture of each pattern, in both languages.
fn banner(data: &std::path::Path) -> String {
    let mut out = String::new();
    out.push_str("Hoshu demo / Hoshu デモ\n");
    out.push_str(&format!("data directory / データ: {}\n\n", data.display()));
    out.push_str(
        "Demo users (cells 0-63: block by block, row by row; type the digits under the cells in order,\n\
         with the fixed password inserted after the given number of digits)\n\
         デモユーザー(マス目の数字を順に読み、固定パスワードを指定の桁数の後に挟んで入力)\n\n",
    );
    for user in &DEMO_USERS {
        let cells: Vec<String> = user.cells.iter().map(u8::to_string).collect();
        out.push_str(&format!(
            "  login ID: {:<12} role: {:<7} cells: {}  fixed password: \"{}\" after digit {}\n",
            user.login,
            user.role.as_str(),
            cells.join(" "),
            user.fixed,
            user.insert
        ));
        out.push_str(&pattern_picture(user.cells));
        out.push('\n');
    }
    out
}

/// Four 4×4 blocks side by side; each cell shows its place in the pattern (1-based) or `.`.
fn pattern_picture(cells: &[u8]) -> String {
    let mut out = String::new();
    for row in 0..4u8 {
        out.push_str("    ");
        for block in 0..4u8 {
            for col in 0..4u8 {
                let index = block * 16 + row * 4 + col;
                match cells.iter().position(|&c| c == index) {
                    Some(order) => out.push_str(&format!("{:>3}", order + 1)),
                    None => out.push_str("  ."),
                }
            }
            out.push_str("   ");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_patterns_pass_the_default_policy() {
        for user in &DEMO_USERS {
            assert!(
                hoshu_otp::enrol(
                    &hoshu_otp::Policy::default(),
                    user.cells,
                    Some(user.fixed),
                    user.insert
                )
                .is_ok(),
                "{}",
                user.login
            );
        }
    }

    #[test]
    fn the_picture_numbers_cells_in_order() {
        let picture = pattern_picture(&[0, 21, 63]);
        let lines: Vec<&str> = picture.lines().collect();
        assert!(lines[0].trim_start().starts_with('1'));
        assert!(lines[1].contains('2'));
        assert!(lines[3].trim_end().ends_with('3'));
    }
}
