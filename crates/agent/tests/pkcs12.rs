//! The real `hoshu-agent pkcs12` (the same code `enroll` runs after enrolling) writes a
//! PKCS#12 that the tools browsers rely on read: OpenSSL's `pkcs12 -info`, and NSS's `pk12util`
//! (Chromium's and Firefox's certificate store on Linux) importing it into a new database.

use std::path::Path;
use std::process::{Command, Output};

/// Enrolment's files as the gateway's device CA would issue them: a CA, and a device
/// certificate for PC-001 signed by it.
fn enrolled_files(dir: &Path) {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Hoshu device CA");
    let ca = ca.self_signed(&ca_key).expect("the CA certificate");
    let key = rcgen::KeyPair::generate().expect("a device key");
    let mut device = rcgen::CertificateParams::new(Vec::<String>::new()).expect("parameters");
    device
        .distinguished_name
        .push(rcgen::DnType::CommonName, "PC-001");
    device.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let device = device
        .signed_by(&key, &ca, &ca_key)
        .expect("the device certificate");
    std::fs::write(dir.join("device.crt"), device.pem()).expect("device.crt written");
    std::fs::write(dir.join("device.key"), key.serialize_pem()).expect("device.key written");
    std::fs::write(dir.join("device-ca.crt"), ca.pem()).expect("device-ca.crt written");
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (`make deps` installs it): {e}"))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn agent(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_hoshu-agent"), args)
}

#[test]
fn openssl_and_nss_read_the_pkcs12_the_agent_writes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    enrolled_files(dir.path());
    let d = dir.path().to_str().expect("temporary paths are UTF-8");

    // A new password, printed once, in both languages with the import steps of each system.
    let out = agent(&["pkcs12", "--dir", d]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let password = said
        .lines()
        .find_map(|l| l.strip_prefix("パスワード / password (この表示限り / shown only now): "))
        .unwrap_or_else(|| panic!("the password is printed: {said}"))
        .to_owned();
    for needle in [
        "証明書のインポート ウィザード",
        "Certificate Import Wizard",
        "certutil -user -importPFX",
        "login.keychain-db",
        "pk12util -i",
        "Firefox",
    ] {
        assert!(said.contains(needle), "{needle:?} in {said}");
    }
    let p12 = dir.path().join("device.p12");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p12)
            .expect("device.p12")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads the key");
    }

    // The same with a password from a file; OpenSSL reads it with that password.
    let password_file = dir.path().join("p12-password");
    std::fs::write(&password_file, "correct horse battery staple\n").expect("password file");
    let pw = password_file.to_str().expect("UTF-8");
    let out = agent(&["pkcs12", "--dir", d, "--p12-password-file", pw]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !text(&out).contains("correct horse"),
        "a given password is not printed"
    );
    let p12s = p12.to_str().expect("UTF-8");
    let info = run(
        "openssl",
        &[
            "pkcs12",
            "-info",
            "-nokeys",
            "-in",
            p12s,
            "-passin",
            &format!("file:{pw}"),
        ],
    );
    // OpenSSL 3.0 writes "CN = X", later releases "CN=X".
    let info_text = text(&info).replace(" = ", "=");
    assert!(info.status.success(), "{info_text}");
    for needle in [
        "MAC: sha256",
        "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC",
        "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC",
        "PRF hmacWithSHA256",
        "subject=CN=PC-001",
        "subject=CN=Hoshu device CA",
    ] {
        assert!(info_text.contains(needle), "{needle:?} in {info_text}");
    }
    let wrong = run(
        "openssl",
        &[
            "pkcs12",
            "-info",
            "-nokeys",
            "-in",
            p12s,
            "-passin",
            &format!("pass:{password}"),
        ],
    );
    assert!(
        !wrong.status.success(),
        "the old password no longer opens it"
    );

    // NSS: a new database under a temporary HOME, as Chromium keeps it (sql:$HOME/.pki/nssdb).
    let nssdb = dir.path().join("home/.pki/nssdb");
    std::fs::create_dir_all(&nssdb).expect("the NSS directory");
    let db = format!("sql:{}", nssdb.display());
    let made = run("certutil", &["-N", "-d", &db, "--empty-password"]);
    assert!(made.status.success(), "{}", text(&made));
    let imported = run("pk12util", &["-i", p12s, "-d", &db, "-w", pw]);
    assert!(imported.status.success(), "{}", text(&imported));
    let listed = text(&run("certutil", &["-L", "-d", &db]));
    // "u,u,u": a user certificate, with its private key in the database.
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("CN=PC-001") && l.trim_end().ends_with("u,u,u")),
        "{listed}"
    );
    let keys = text(&run("certutil", &["-K", "-d", &db]));
    assert!(keys.contains("CN=PC-001"), "the key came with it: {keys}");
}

#[test]
fn an_empty_password_file_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    enrolled_files(dir.path());
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").expect("file written");
    let out = agent(&[
        "pkcs12",
        "--dir",
        dir.path().to_str().expect("UTF-8"),
        "--p12-password-file",
        empty.to_str().expect("UTF-8"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("first line is empty"), "{}", text(&out));
    assert!(!dir.path().join("device.p12").exists());
}
