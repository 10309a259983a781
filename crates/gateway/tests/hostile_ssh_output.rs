//! Hostile SSH servers after the log-in: a real SSH server (russh's, scripted by
//! common/hostile_ssh.rs) that floods its output or stderr, plays with the flow-control window
//! (RFC 4254 §5.2), sends escape sequences a terminal must not obey (xterm ctlseqs: OSC 52,
//! XTWINOPS, REP; ECMA-48 §5.6 control strings; C1 forms; split anywhere), invalid UTF-8, an
//! exit status it does not stop after, a close without EOF, channels opened back to the gateway
//! and floods of global and keepalive requests.
//!
//! What the gateway absorbs, the session survives: the hostile shell still echoes a command
//! afterwards. What it cannot absorb ends the session with a named outcome. Either way the
//! gateway's memory stays bounded, `/healthz` answers and a session on a real sshd beside it
//! keeps echoing (common/hostile_ssh.rs's Stage).

mod common;

use std::time::Duration;

use common::hostile_ssh::{self as ssh, Options, SESSION_CLOSED, SUCCESS, Shell, Stage};
use common::terminal::Terminal;
use common::tunnel::ended_session;
use serde_json::Value;

/// A script that sends `payload` in the pieces given, 50 ms apart (so each is its own read at
/// the gateway), then runs the echo shell.
fn sends(
    pieces: Vec<Vec<u8>>,
) -> impl Fn(Shell) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync + 'static {
    move |shell: Shell| {
        let pieces = pieces.clone();
        Box::pin(async move {
            for piece in &pieces {
                if !shell.send(piece).await {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            shell.echo().await;
        })
    }
}

/// The session survives: the hostile shell still answers a command.
async fn still_answers(term: &mut Terminal, word: &str) {
    term.keys(&format!("echo {word}\r")).await;
    term.wait_line(word).await;
}

/// The session's recording, once sealed: what its output events hold, together.
async fn recorded_output(stage: &Stage, id: &str) -> String {
    ended_session(&stage.gateway, &stage.vendor, id).await;
    let response = stage
        .vendor
        .client
        .get(
            stage
                .gateway
                .url(&format!("/api/v1/sessions/{id}/recording")),
        )
        .send()
        .await
        .expect("recording request");
    assert_eq!(response.status().as_u16(), 200);
    let cast = response.text().await.expect("the recording");
    cast.lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e[1] == "o")
        .filter_map(|e| e[2].as_str().map(str::to_owned))
        .collect()
}

/// The shell prints `pieces`; the terminal then shows its prompt. Returns the stage, the
/// session's id and what the browser was shown before the prompt; the session still answers.
async fn shown(
    name: &'static str,
    extra: &[&str],
    pieces: Vec<Vec<u8>>,
) -> (Stage, String, Terminal) {
    let mut stage = Stage::new(name, extra, ssh::shell(Options::default(), sends(pieces))).await;
    let (id, mut term) = stage.shell().await;
    still_answers(&mut term, &format!("{name}-goes-on")).await;
    stage.assert_memory_bounded();
    stage.assert_healthy().await;
    (stage, id, term)
}

// ---- Floods ----

#[tokio::test]
async fn an_output_flood_is_bounded_and_the_kill_switch_ends_it_within_a_second() {
    let stage = Stage::new(
        "output-flood",
        &[],
        ssh::shell(Options::default(), |shell: Shell| async move {
            let chunk = "hoshu-flood-line 0123456789abcdef\r\n".repeat(1000);
            // 512 MB, more than the gateway could hold.
            for _ in 0..(512 << 20) / chunk.len() {
                if !shell.send(chunk.as_bytes()).await {
                    return;
                }
            }
        }),
    )
    .await;
    let (id, mut bad) = stage.open().await;
    bad.wait_output("hoshu-flood-line").await;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        bad.read_one(Duration::from_millis(100)).await;
    }
    stage.assert_memory_bounded();
    let took = stage.kill(&id, &mut bad).await;
    eprintln!(
        "figure: output-flood: {} bytes delivered in 3 s; kill switch to end message {took:?}",
        bad.bytes
    );
    assert!(took <= Duration::from_secs(1), "the kill took {took:?}");
    stage
        .finish(
            &id,
            &mut bad,
            SESSION_CLOSED,
            &["ended-by-administrator"],
            &["ended by administrator demo-admin"],
        )
        .await;
}

#[tokio::test]
async fn a_stderr_flood_reaches_the_terminal_and_the_session_goes_on() {
    const TOTAL: usize = 32 << 20;
    let (_stage, _id, term) = shown_with(
        "stderr-flood",
        ssh::shell(Options::default(), |shell: Shell| async move {
            let chunk = vec![b'e'; 32 * 1024];
            for _ in 0..TOTAL / chunk.len() {
                if shell
                    .handle
                    .extended_data(shell.channel, 1, chunk.clone())
                    .await
                    .is_err()
                {
                    return;
                }
            }
            shell.echo().await;
        }),
    )
    .await;
    assert!(term.bytes >= TOTAL, "{} bytes of stderr shown", term.bytes);
}

/// As [`shown`], for a serve function of its own.
async fn shown_with<F, Fut>(name: &'static str, serve: F) -> (Stage, String, Terminal)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    let mut stage = Stage::new(name, &[], serve).await;
    let (id, mut term) = stage.shell().await;
    still_answers(&mut term, &format!("{name}-goes-on")).await;
    stage.assert_memory_bounded();
    stage.assert_healthy().await;
    (stage, id, term)
}

#[tokio::test]
async fn a_window_raised_to_u32_max_is_absorbed() {
    // The server grants a 64-byte window, then raises it to u32::MAX (RFC 4254 §5.2's largest)
    // with its next adjust: the gateway's keys go on flowing.
    let (_stage, _id, mut term) = shown_with(
        "window-max",
        ssh::shell(
            Options {
                window: Some(64),
                adjust_to: Some(u32::MAX),
                ..Options::default()
            },
            ssh::echo,
        ),
    )
    .await;
    for i in 0..30 {
        still_answers(&mut term, &format!("window-{i}")).await;
    }
}

#[tokio::test]
async fn a_keepalive_request_flood_is_answered_and_the_session_goes_on() {
    shown_with(
        "keepalive-flood",
        ssh::shell(
            Options {
                keepalives: 100_000,
                ..Options::default()
            },
            ssh::echo,
        ),
    )
    .await;
}

#[tokio::test]
async fn a_global_request_flood_is_refused_and_the_session_goes_on() {
    // tcpip-forward asked of the gateway (RFC 4254 §7.1), 5000 times, 250 at once.
    let (stage, _id, term) = shown_with(
        "global-flood",
        ssh::shell(Options::default(), |shell: Shell| async move {
            let mut refused = 0;
            for round in 0..20u32 {
                let asks = (0..250u32).map(|i| {
                    shell
                        .handle
                        .forward_tcpip("0.0.0.0".to_owned(), 10_000 + round * 250 + i)
                });
                refused += futures_util::future::join_all(asks)
                    .await
                    .iter()
                    .filter(|r| r.is_err())
                    .count();
            }
            shell
                .send(format!("global requests refused: {refused}\r\n").as_bytes())
                .await;
            shell.echo().await;
        }),
    )
    .await;
    assert!(
        term.has_line("global requests refused: 5000"),
        "{}",
        term.tail()
    );
    // A line per request would let a target fill the gateway's disk through its log.
    let log = stage.gateway.log();
    assert!(
        log.lines().count() < 200,
        "the gateway logged {} lines for 5000 global requests",
        log.lines().count()
    );
}

#[tokio::test]
async fn channels_the_gateway_never_asked_for_are_refused() {
    let (_stage, _id, term) = shown_with(
        "channels-back",
        ssh::shell(Options::default(), |shell: Shell| async move {
            let h = &shell.handle;
            let results = [
                ("x11", h.channel_open_x11("127.0.0.1", 6010).await.err()),
                (
                    "forwarded-tcpip",
                    h.channel_open_forwarded_tcpip("127.0.0.1", 8080, "127.0.0.1", 5555)
                        .await
                        .err(),
                ),
                ("agent", h.channel_open_agent().await.err()),
                ("session", h.channel_open_session().await.err()),
                (
                    "direct-tcpip",
                    h.channel_open_direct_tcpip("10.0.0.1", 22, "127.0.0.1", 5555)
                        .await
                        .err(),
                ),
            ];
            for (kind, error) in results {
                let said = match error {
                    Some(russh::Error::ChannelOpenFailure(
                        russh::ChannelOpenFailure::AdministrativelyProhibited,
                    )) => format!("{kind}: refused\r\n"),
                    other => format!("{kind}: {other:?}\r\n"),
                };
                shell.send(said.as_bytes()).await;
            }
            shell.echo().await;
        }),
    )
    .await;
    for kind in ["x11", "forwarded-tcpip", "agent", "session", "direct-tcpip"] {
        assert!(
            term.has_line(&format!("{kind}: refused")),
            "{kind}: {}",
            term.tail()
        );
    }
}

// ---- Escape sequences (xterm ctlseqs, ECMA-48) ----

#[tokio::test]
async fn a_clipboard_write_is_dropped_when_copying_out_is_not_allowed() {
    let (stage, id, term) = shown(
        "osc52-off",
        &[],
        vec![b"before\x1b]52;c;aG9zaHUtc2VjcmV0\x07after\r\n".to_vec()],
    )
    .await;
    assert!(term.has_line("beforeafter"), "{}", term.tail());
    assert!(!term.output.contains("]52;"), "{:?}", term.output);
    // The recording holds what the browser was shown.
    drop(term);
    let recorded = recorded_output(&stage, &id).await;
    assert!(recorded.contains("beforeafter"), "{recorded:?}");
    assert!(!recorded.contains("aG9zaHUtc2VjcmV0"), "{recorded:?}");
}

#[tokio::test]
async fn a_clipboard_write_passes_when_the_policy_lets_text_out() {
    let (_stage, _id, term) = shown(
        "osc52-both",
        &["--clipboard", "both"],
        vec![b"before\x1b]52;c;aG9zaHU=\x07after\r\n".to_vec()],
    )
    .await;
    assert!(
        term.output.contains("before\x1b]52;c;aG9zaHU=\x07after"),
        "{:?}",
        term.tail()
    );
}

#[tokio::test]
async fn window_operations_are_dropped() {
    let (_stage, _id, term) = shown(
        "xtwinops",
        &[],
        vec![b"a\x1b[8;10000;10000tb\x1b[3;0;0tc\x1b[21td\r\n".to_vec()],
    )
    .await;
    assert!(term.has_line("abcd"), "{:?}", term.tail());
}

#[tokio::test]
async fn a_huge_repeat_count_is_clamped() {
    let (_stage, _id, term) = shown("rep", &[], vec![b"x\x1b[4294967296b\r\n".to_vec()]).await;
    assert!(term.output.contains("x\x1b[9999b"), "{:?}", term.tail());
    assert!(!term.output.contains("4294967296"));
}

#[tokio::test]
async fn a_ten_megabyte_title_is_dropped_whole() {
    let mut title = b"\x1b]0;".to_vec();
    title.extend(std::iter::repeat_n(b'T', 10 << 20));
    title.extend_from_slice(b"\x07title-done\r\n");
    let (_stage, _id, term) = shown("huge-title", &[], vec![title]).await;
    assert!(term.has_line("title-done"), "{:?}", term.tail());
    assert!(term.bytes < 64 * 1024, "{} bytes shown", term.bytes);
}

#[tokio::test]
async fn an_endless_sixel_image_is_dropped_with_memory_bounded() {
    // A DCS (ECMA-48 §8.3.27) sixel image of 20 MB; only its end lets the rest through.
    let mut pieces = vec![b"\x1bPq#0;2;0;0;0".to_vec()];
    for _ in 0..20 {
        pieces.push(vec![b'~'; 1 << 20]);
    }
    pieces.push(b"\x1b\\sixel-done\r\n".to_vec());
    let (_stage, _id, term) = shown("endless-sixel", &[], pieces).await;
    assert!(term.has_line("sixel-done"), "{:?}", term.tail());
    assert!(term.bytes < 64 * 1024, "{} bytes shown", term.bytes);
}

#[tokio::test]
async fn apc_pm_and_sos_strings_are_dropped() {
    let (_stage, _id, term) = shown(
        "apc-pm-sos",
        &[],
        vec![
            b"a\x1b_Gf=100;AAAA\x1b\\b\x1b^private\x1b\\c\x1bXstart of string\x1b\\d\r\n".to_vec(),
        ],
    )
    .await;
    assert!(term.has_line("abcd"), "{:?}", term.tail());
}

#[tokio::test]
async fn c1_forms_of_the_introducers_are_filtered_too() {
    // U+009B CSI, U+009D OSC, U+009C ST in UTF-8, as xterm.js reads them.
    let (_stage, _id, term) = shown(
        "c1-forms",
        &[],
        vec![
            "a\u{9b}8;1;1tb\u{9d}52;c;eA==\u{9c}c\u{9b}99999999Cd\r\n"
                .as_bytes()
                .to_vec(),
        ],
    )
    .await;
    assert!(term.output.contains("abc\u{9b}9999Cd"), "{:?}", term.tail());
}

#[tokio::test]
async fn sequences_split_across_reads_are_filtered_whole() {
    let pieces: Vec<Vec<u8>> = [
        &b"a\x1b"[..],
        b"]5",
        b"2;c;eA",
        b"==\x07b\x1b[",
        b"8;10",
        b"00;1000t",
        b"c\xc2",
        b"\x9b4294967296",
        b"Xd\r\n",
    ]
    .iter()
    .map(|p| p.to_vec())
    .collect();
    let (_stage, _id, term) = shown("split", &[], pieces).await;
    assert!(term.output.contains("abc\u{9b}9999Xd"), "{:?}", term.tail());
}

#[tokio::test]
async fn invalid_utf8_passes_and_the_session_goes_on() {
    let (_stage, _id, term) = shown(
        "bad-utf8",
        &[],
        vec![b"bad: \xff\xfe\xc3( \xed\xa0\x80 \xc2 end\r\n".to_vec()],
    )
    .await;
    assert!(
        term.output.contains("bad: \u{fffd}\u{fffd}\u{fffd}("),
        "{:?}",
        term.tail()
    );
    assert!(term.output.contains(" end"), "{:?}", term.tail());
}

// ---- How a shell ends ----

#[tokio::test]
async fn output_after_the_exit_status_ends_the_session_within_seconds() {
    let stage = Stage::new(
        "exit-then-more",
        &[],
        ssh::shell(Options::default(), |shell: Shell| async move {
            shell.send(ssh::PROMPT.as_bytes()).await;
            let _ = shell.handle.exit_status_request(shell.channel, 7).await;
            while shell.send(b"still here\r\n").await {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }),
    )
    .await;
    let (id, mut bad) = stage.open().await;
    bad.wait_output("still here").await;
    let started = std::time::Instant::now();
    let end = stage
        .finish(
            &id,
            &mut bad,
            SUCCESS,
            &["shell-ended"],
            &["the shell on exit-then-more ended (exit status 7)"],
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(30), "{end:?}");
}

#[tokio::test]
async fn a_close_without_eof_ends_the_session() {
    let stage = Stage::new(
        "close-no-eof",
        &[],
        ssh::shell(Options::default(), |shell: Shell| async move {
            shell.send(b"bye\r\n").await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = shell.handle.close(shell.channel).await;
            // The connection stays: only the channel is gone.
            tokio::time::sleep(Duration::from_secs(30)).await;
        }),
    )
    .await;
    let (id, mut bad) = stage.open().await;
    let end = stage
        .finish(
            &id,
            &mut bad,
            SUCCESS,
            &["target-ended-session"],
            &["close-no-eof closed the session"],
        )
        .await;
    assert!(bad.has_line("bye"), "{end:?}: {:?}", bad.tail());
}
