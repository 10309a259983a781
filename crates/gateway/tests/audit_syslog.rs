//! The audit chain streamed to a real syslog collector (issue 7): Debian's rsyslogd listening on
//! loopback, over plain TCP and over TLS (RFC 5425, GnuTLS driver), receives RFC 5424 messages
//! with the chain's sequence numbers and hashes; events written while the collector was down
//! arrive once it is up. Also the JSON-lines download and the viewer's verification state.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Credential, Gateway};
use reqwest::StatusCode;

/// An rsyslogd of its own, writing every message it receives, raw, to `out.log`.
struct Collector {
    child: Child,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free a moment ago (rsyslogd cannot be told to pick one and say which).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A CA and a certificate for "localhost" signed by it: (CA PEM, certificate PEM, key PEM).
fn collector_certificates() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Hoshu test collector CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let key = rcgen::KeyPair::generate().expect("collector key");
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("collector params");
    let cert = params
        .signed_by(&key, &ca, &ca_key)
        .expect("collector certificate");
    (ca.pem(), cert.pem(), key.serialize_pem())
}

impl Collector {
    /// `tls`: the certificates the collector presents (CA, certificate, key).
    fn start(port: u16, tls: Option<&(String, String, String)>) -> Collector {
        let dir = tempfile::tempdir().expect("temporary directory");
        let d = dir.path();
        let out = d.join("out.log");
        let mut conf = format!("global(workDirectory=\"{}\"", d.display());
        let mut module = "module(load=\"imtcp\")".to_owned();
        if let Some((ca, cert, key)) = tls {
            for (name, pem) in [("ca.pem", ca), ("cert.pem", cert), ("key.pem", key)] {
                std::fs::write(d.join(name), pem).expect("certificate written");
            }
            conf.push_str(&format!(
                " DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{0}/ca.pem\" \
                 DefaultNetstreamDriverCertFile=\"{0}/cert.pem\" DefaultNetstreamDriverKeyFile=\"{0}/key.pem\"",
                d.display()
            ));
            module = "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" \
                      StreamDriver.AuthMode=\"anon\")"
                .to_owned();
        }
        conf.push_str(&format!(
            ")\n{module}\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\")\n\
             template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n\
             *.* action(type=\"omfile\" file=\"{}\" template=\"raw\")\n",
            out.display()
        ));
        let conf_path = d.join("rsyslog.conf");
        std::fs::write(&conf_path, conf).expect("rsyslog.conf written");
        let child = Command::new("/usr/sbin/rsyslogd")
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(d.join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rsyslogd starts (Debian packages rsyslog and rsyslog-gnutls)");
        // Listening once a connection is accepted.
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Collector {
            child,
            out,
            _dir: dir,
        }
    }

    fn received(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Waits until the collector holds a line containing every one of `needles`.
    fn wait_for(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.received();
            if let Some(line) = text
                .lines()
                .find(|line| needles.iter().all(|n| line.contains(n)))
            {
                return line.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no line with {needles:?} reached the collector; it holds:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("file written");
}

#[tokio::test]
async fn the_chain_streams_to_rsyslog_over_tls_and_nothing_is_lost_while_it_is_down() {
    let certs = collector_certificates();
    let port = free_port();
    let ca_dir = tempfile::tempdir().expect("temporary directory");
    let ca_path = ca_dir.path().join("collector-ca.pem");
    write(&ca_path, &certs.0);
    // The gateway starts first: the collector is down, events queue in the chain.
    let gateway = Gateway::serve(&format!(
        "[audit.syslog]\naddress = \"127.0.0.1:{port}\"\ntls = true\nca = {:?}\nserver_name = \"localhost\"\nhostname = \"hoshu-test\"\n",
        ca_path.to_str().expect("utf-8")
    ));
    let code = gateway.add_user("syslog-admin", "Syslog Admin", "admin", None);
    let admin = Credential::new("syslog-admin", &[5, 22, 47, 60, 33, 10], "tok!", 2);
    gateway.register_ok(&code, &admin).await;
    let failed = gateway.fail_login(&admin).await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    tokio::time::sleep(Duration::from_secs(1)).await;

    let collector = Collector::start(port, Some(&certs));
    let start = collector.wait_for(&["gateway.start", "hoshu@32473 seq=\"1\""]);
    assert!(
        start.starts_with("<109>1 "),
        "facility log audit, notice: {start}"
    );
    assert!(start.contains(" hoshu-test hoshu "), "{start}");
    let failure = collector.wait_for(&["login.failure", "subject=\"syslog-admin\""]);
    assert!(
        failure.starts_with("<108>1 "),
        "failures are warnings: {failure}"
    );
    assert!(failure.contains(" hash=\""), "{failure}");

    // Every event of the chain arrived, in order, once.
    let session = gateway.login_ok(&admin).await;
    collector.wait_for(&["login.success", "subject=\"syslog-admin\""]);
    let seqs: Vec<i64> = collector
        .received()
        .lines()
        .filter_map(|l| l.split("seq=\"").nth(1)?.split('"').next()?.parse().ok())
        .collect();
    let expected: Vec<i64> = (1..=*seqs.last().expect("events")).collect();
    assert_eq!(seqs, expected, "each sequence number once, in order");

    // The viewer's API: verification state and JSON lines.
    let verify: serde_json::Value = session
        .client
        .get(gateway.url("/api/v1/audit/verify"))
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    assert_eq!(verify["intact"], true, "{verify}");
    let lines = gateway.audit_export(&session, "login").await;
    let kinds: Vec<String> = lines
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("each line is JSON");
            v["kind"].as_str().expect("kind").to_owned()
        })
        .collect();
    assert!(kinds.iter().all(|k| k.starts_with("login.")), "{kinds:?}");
    assert!(kinds.contains(&"login.failure".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn plain_tcp_collectors_work_too() {
    let port = free_port();
    let collector = Collector::start(port, None);
    let gateway = Gateway::serve(&format!("[audit.syslog]\naddress = \"127.0.0.1:{port}\"\n"));
    let line = collector.wait_for(&["gateway.start"]);
    assert!(
        line.contains("\u{feff}{\"listen\""),
        "the detail JSON follows a BOM: {line}"
    );
    drop(gateway);
}

#[test]
fn a_tls_collector_without_a_ca_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("hoshu.toml");
    write(
        &config,
        &format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n[audit.syslog]\naddress = \"127.0.0.1:1\"\ntls = true\n",
            dir.path().join("data").to_str().expect("utf-8")
        ),
    );
    let output = common::hoshu(&["serve", "--config", config.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(1), "{}", common::said(&output));
    assert!(
        common::stderr(&output).contains("needs ca"),
        "{}",
        common::said(&output)
    );
}
