use super::*;
use crate::Encoding;
use crate::handshake::vnc_auth_response;

fn with_password(password: &str) -> ClientConfig {
    ClientConfig {
        password: Some(password.into()),
        ..ClientConfig::default()
    }
}

/// SetPixelFormat + SetEncodings (default list) + a full update request.
fn session_start(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![
        0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0,
    ];
    out.extend_from_slice(&[2, 0, 0, Encoding::PREFERRED.len() as u8]);
    for e in Encoding::PREFERRED {
        out.extend_from_slice(&e.code().to_be_bytes());
    }
    out.extend_from_slice(&[3, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    out
}

#[test]
fn version_3_8_with_none() {
    let mut client = Client::new(ClientConfig::default());
    client.receive(b"RFB 003.008\n").unwrap();
    assert_eq!(client.take_output(), b"RFB 003.008\n");
    client.receive(&[2, 2, 1]).unwrap(); // VncAuth, None: no password, so None
    assert_eq!(client.take_output(), [1]);
    client.receive(&[0, 0, 0, 0]).unwrap();
    assert_eq!(client.take_output(), [1], "ClientInit, shared");
    assert!(!client.is_connected());
    client.key_event(0x61, true);
    client.pointer_event(1, 1, 0);
    client.request_update(true);
    assert!(
        client.take_output().is_empty(),
        "input before Connected is ignored"
    );

    client
        .receive(&server_init(640, 480, "ünï".as_bytes()))
        .unwrap();
    assert!(client.is_connected());
    assert_eq!(
        drain(&mut client),
        [Event::Connected {
            width: 640,
            height: 480,
            name: "ünï".into()
        }]
    );
    assert_eq!(client.take_output(), session_start(640, 480));
    let fb = client.framebuffer().unwrap();
    assert_eq!((fb.width(), fb.height()), (640, 480));
    assert_eq!(fb.pixel(639, 479), [0, 0, 0, 255]);
}

#[test]
fn version_3_7_sends_no_security_result_for_none() {
    let mut client = Client::new(ClientConfig {
        shared: false,
        ..ClientConfig::default()
    });
    client.receive(b"RFB 003.007\n").unwrap();
    assert_eq!(client.take_output(), b"RFB 003.007\n");
    client.receive(&[1, 1]).unwrap();
    assert_eq!(
        client.take_output(),
        [1, 0],
        "type None, then ClientInit not shared"
    );
    client.receive(&server_init(8, 8, b"")).unwrap();
    assert!(client.is_connected());
}

#[test]
fn version_3_3_server_decides() {
    let mut client = Client::new(ClientConfig::default());
    client.receive(b"RFB 003.003\n").unwrap();
    assert_eq!(client.take_output(), b"RFB 003.003\n");
    client.receive(&[0, 0, 0, 1]).unwrap();
    assert_eq!(client.take_output(), [1], "ClientInit only");
    client.receive(&server_init(8, 8, b"\xe9t\xe9")).unwrap();
    assert_eq!(
        client.next_event(),
        Some(Event::Connected {
            width: 8,
            height: 8,
            name: "été".into()
        }),
        "not UTF-8, so Latin-1"
    );
}

#[test]
fn vnc_auth_answers_the_challenge() {
    let challenge = *b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10";
    for version in [&b"RFB 003.003\n"[..], b"RFB 003.008\n"] {
        let mut client = Client::new(with_password("s3cret!"));
        client.receive(version).unwrap();
        client.take_output();
        if version == b"RFB 003.003\n" {
            client.receive(&[0, 0, 0, 2]).unwrap();
            assert!(client.take_output().is_empty());
        } else {
            client.receive(&[2, 1, 2]).unwrap(); // None first, but we have a password
            assert_eq!(client.take_output(), [1], "server's order wins");
            continue;
        }
        client.receive(&challenge).unwrap();
        assert_eq!(
            client.take_output(),
            vnc_auth_response("s3cret!", &challenge)
        );
        client.receive(&[0, 0, 0, 0]).unwrap();
        assert_eq!(client.take_output(), [1]);
    }
    let mut client = Client::new(with_password("pw"));
    client.receive(b"RFB 003.008\n").unwrap();
    client.receive(&[1, 2]).unwrap();
    assert_eq!(
        client.take_output(),
        [b"RFB 003.008\n".as_slice(), &[2]].concat()
    );
    client.receive(&challenge).unwrap();
    assert_eq!(client.take_output(), vnc_auth_response("pw", &challenge));
}

#[test]
fn vnc_auth_without_a_password_is_password_required() {
    let mut client = Client::new(ClientConfig::default());
    client.receive(b"RFB 003.008\n").unwrap();
    let err = fails(&mut client, &[1, 2]);
    assert_eq!(err, RfbError::PasswordRequired);
    assert!(err.to_string().contains("requires a password"), "{err}");

    let mut client = Client::new(ClientConfig::default());
    client.receive(b"RFB 003.003\n").unwrap();
    assert_eq!(
        fails(&mut client, &[0, 0, 0, 2]),
        RfbError::PasswordRequired
    );
}

#[test]
fn authentication_failure_carries_the_reason() {
    let mut client = Client::new(with_password("wrong"));
    client.receive(b"RFB 003.008\n").unwrap();
    client.receive(&[1, 2]).unwrap();
    client.receive(&[7; 16]).unwrap();
    let mut result = vec![0, 0, 0, 1, 0, 0, 0, 22];
    result.extend_from_slice(b"Authentication failure");
    let err = fails(&mut client, &result);
    assert_eq!(
        err,
        RfbError::AuthenticationFailed("Authentication failure".into())
    );
    assert_eq!(
        err.to_string(),
        "VNC authentication failed: Authentication failure"
    );

    // 3.7 gives no reason; the message still says what to check.
    let mut client = Client::new(with_password("wrong"));
    client.receive(b"RFB 003.007\n").unwrap();
    client.receive(&[1, 2]).unwrap();
    client.receive(&[7; 16]).unwrap();
    let err = fails(&mut client, &[0, 0, 0, 1]);
    assert!(err.to_string().contains("check the password"), "{err}");
}

#[test]
fn refusals_and_unsupported_security() {
    let mut client = Client::new(ClientConfig::default());
    client.receive(b"RFB 003.008\n").unwrap();
    let mut refusal = vec![0, 0, 0, 0, 9];
    refusal.extend_from_slice(b"too many!");
    let err = fails(&mut client, &refusal);
    assert_eq!(
        err.to_string(),
        "the VNC server refused the connection: too many!"
    );

    let mut client = Client::new(ClientConfig::default());
    client.receive(b"RFB 003.003\n").unwrap();
    let mut refusal = vec![0, 0, 0, 0, 0, 0, 0, 4];
    refusal.extend_from_slice(b"busy");
    assert_eq!(
        fails(&mut client, &refusal),
        RfbError::ConnectionRefused("busy".into())
    );

    let mut client = Client::new(with_password("pw"));
    client.receive(b"RFB 003.008\n").unwrap();
    assert_eq!(
        fails(&mut client, &[2, 16, 19]),
        RfbError::NoCommonSecurityType(vec![16, 19])
    );
}

#[test]
fn not_a_vnc_server() {
    let mut client = Client::new(ClientConfig::default());
    let err = fails(&mut client, b"SSH-2.0-OpenSSH_9.2\r\n");
    assert!(
        err.to_string().contains("did not answer like a VNC server"),
        "{err}"
    );
}
