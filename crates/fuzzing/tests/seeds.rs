//! The hand-written seeds of every fuzz target, in `fuzz/seeds/<target>/`: realistic inputs
//! (a lent Debian laptop's posture report, a bash session with readline's echo, a VNC server's
//! updates in each encoding…) that start libFuzzer deep inside each format. libFuzzer reads
//! them beside `fuzz/corpus/<target>/` (see fuzz/Cargo.toml) and `corpora.rs` replays them.
//!
//! They are written here, as code, because most are binary or hold escape sequences. This test
//! checks that the committed files are what the code below makes; after changing a seed, run
//! `HOSHU_WRITE_SEEDS=1 cargo test -p hoshu-fuzzing --test seeds` and commit `fuzz/seeds/`.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use hoshu_guac::{RecordingWriter, WriterConfig};

struct Seed {
    target: &'static str,
    name: &'static str,
    bytes: Vec<u8>,
}

fn seed(target: &'static str, name: &'static str, bytes: impl Into<Vec<u8>>) -> Seed {
    Seed {
        target,
        name,
        bytes: bytes.into(),
    }
}

// --- posture_report: JSON as hoshu-agent sends it (serde_json, compact) or prints it (pretty).

/// SHA-256 fingerprints of the form the agent computes (the values are made up).
const FP_LINUX: &str = "5d0f3c8a9b71e2f64c13a8d7e05b9f2a6c4e81d3b7a09f5e2c6d8b1a4f3e7c90";
const FP_WINDOWS: &str = "a3e1b7c94d2f08e6b5a1c3d7e9f20486b1d3f5a7c9e0b2d4f6a8c1e3b5d7f9a2";
const FP_MAC: &str = "0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d";

fn posture_seeds() -> Vec<Seed> {
    let t = "posture_report";
    // Collected 2025-11-18 08:31:09 UTC; ClamAV's daily.cvd 27440 built a day before.
    let linux = format!(
        r#"{{"fingerprint":"{FP_LINUX}","os":{{"name":"Debian GNU/Linux","version":"12 (bookworm)"}},"antivirus":[{{"name":"ClamAV","running":true,"real_time_protection":true,"signatures_updated_at":1763362800,"signatures_up_to_date":null,"signature_version":"27440"}}],"firewall":"on","collected_at":1763454669}}"#
    );
    let linux_pretty = format!(
        r#"{{
  "fingerprint": "{FP_LINUX}",
  "os": {{
    "name": "Debian GNU/Linux",
    "version": "12 (bookworm)"
  }},
  "antivirus": [
    {{
      "name": "ClamAV",
      "running": true,
      "real_time_protection": false,
      "signatures_updated_at": 1762412400,
      "signatures_up_to_date": null,
      "signature_version": "27428"
    }}
  ],
  "firewall": "off",
  "collected_at": 1763454669
}}
"#
    );
    let windows = format!(
        r#"{{"fingerprint":"{FP_WINDOWS}","os":{{"name":"Microsoft Windows 11 Pro","version":"10.0.22631"}},"antivirus":[{{"name":"Microsoft Defender Antivirus","running":true,"real_time_protection":true,"signatures_updated_at":1763420455,"signatures_up_to_date":null,"signature_version":"1.421.112.0"}}],"firewall":"on","collected_at":1763454700}}"#
    );
    // Defender switched off by a third-party product that gives a verdict but no date.
    let windows_third_party = format!(
        r#"{{"fingerprint":"{FP_WINDOWS}","os":{{"name":"Microsoft Windows 11 Pro","version":"10.0.22631"}},"antivirus":[{{"name":"Windows Defender","running":false,"real_time_protection":false,"signatures_updated_at":null,"signatures_up_to_date":true,"signature_version":null}},{{"name":"Trend Micro Apex One","running":true,"real_time_protection":true,"signatures_updated_at":null,"signatures_up_to_date":true,"signature_version":null}}],"firewall":"on","collected_at":1763454710}}"#
    );
    let mac = format!(
        r#"{{"fingerprint":"{FP_MAC}","os":{{"name":"macOS","version":"14.6.1"}},"antivirus":[{{"name":"XProtect","running":true,"real_time_protection":true,"signatures_updated_at":1762905600,"signatures_up_to_date":null,"signature_version":"5297"}}],"firewall":"unknown","collected_at":1763454720}}"#
    );
    // Optional product fields left out; a name with escapes and non-ASCII text.
    let minimal = format!(
        r#"{{"fingerprint":"{FP_WINDOWS}","os":{{"name":"Windows 11 Pro \u65e5\u672c\u8a9e\u7248","version":"10.0.26100"}},
"antivirus":[{{"name":"Microsoft Defender Antivirus","running":true,"real_time_protection":true}}],"firewall":"unknown","collected_at":1763454730}}"#
    );
    let no_antivirus = format!(
        r#"{{"fingerprint":"{FP_LINUX}","os":{{"name":"Ubuntu","version":"24.04.1 LTS (Noble Numbat)"}},"antivirus":[],"firewall":"unknown","collected_at":1763454740}}"#
    );
    // Refused: an unknown field (a device claiming a verdict), an upper-case fingerprint, a
    // time before 1970, a blank name.
    let extra_field = format!(
        r#"{{"fingerprint":"{FP_LINUX}","os":{{"name":"Debian GNU/Linux","version":"12 (bookworm)"}},"antivirus":[{{"name":"ClamAV","running":true,"real_time_protection":true,"compliant":true}}],"firewall":"on","collected_at":1763454669}}"#
    );
    let upper_fingerprint = linux.replace(FP_LINUX, &FP_LINUX.to_uppercase());
    let before_1970 = linux.replace("1763362800", "-86400");
    let blank_name = windows.replace("\"Microsoft Windows 11 Pro\"", "\" \\t \"");
    vec![
        seed(t, "linux-clamav.json", linux),
        seed(t, "linux-clamav-pretty.json", linux_pretty),
        seed(t, "windows-defender.json", windows),
        seed(t, "windows-third-party.json", windows_third_party),
        seed(t, "macos-xprotect.json", mac),
        seed(t, "windows-minimal.json", minimal),
        seed(t, "linux-no-antivirus.json", no_antivirus),
        seed(t, "refused-extra-field.json", extra_field),
        seed(t, "refused-upper-fingerprint.json", upper_fingerprint),
        seed(t, "refused-before-1970.json", before_1970),
        seed(t, "refused-blank-name.json", blank_name),
    ]
}

// --- command_log: a width byte, a chunk byte, then steps `i` keys / `o` echo / `r` resize /
// `w` wait, each ended by 0xff (hoshu_fuzzing's command_log).

enum Step {
    I(&'static str),
    O(&'static str),
    /// Raw echo bytes: invalid UTF-8, or a character split between two reads.
    Ob(&'static [u8]),
    R(u16),
    W(u64),
}
use Step::{I, O, Ob, R, W};

fn session(cols: u8, steps: &[Step]) -> Vec<u8> {
    let mut out = vec![cols, b'3'];
    for step in steps {
        match step {
            I(keys) => {
                out.push(b'i');
                out.extend_from_slice(keys.as_bytes());
            }
            O(echo) => {
                out.push(b'o');
                out.extend_from_slice(echo.as_bytes());
            }
            Ob(echo) => {
                out.push(b'o');
                out.extend_from_slice(echo);
            }
            R(cols) => out.extend_from_slice(format!("r{cols}").as_bytes()),
            W(ms) => out.extend_from_slice(format!("w{ms}").as_bytes()),
        }
        out.push(0xff);
    }
    out
}

/// bash 5.2 on Debian 12 as root: the window title, bracketed paste on while readline reads.
const BASH: &str = "\x1b]0;root@host: ~\x07\x1b[?2004hroot@host:~# ";
/// After Enter: bracketed paste off, then the tty's echo of the newline.
const ENTER: &str = "\x1b[?2004l\r\r\n";
/// Debian's coloured prompt for a user.
const USER: &str =
    "\x1b[?2004h\x1b]0;admin@web01: ~\x07\x1b[01;32madmin@web01\x1b[00m:\x1b[01;34m~\x1b[00m$ ";

fn command_log_seeds() -> Vec<Seed> {
    let t = "command_log";
    vec![
        seed(
            t,
            "bash-echo.bin",
            session(
                80,
                &[
                    O(BASH),
                    I("e"),
                    O("e"),
                    I("c"),
                    O("c"),
                    I("h"),
                    O("h"),
                    I("o hi"),
                    O("o hi"),
                    I("\r"),
                    O(ENTER),
                    O("hi\r\n"),
                    O(BASH),
                    I("ls -l /etc/ssh\r"),
                    O("ls -l /etc/ssh"),
                    O(ENTER),
                    O("total 588\r\n-rw-r--r-- 1 root root 573928 Dec 19  2023 moduli\r\n"),
                    O(BASH),
                ],
            ),
        ),
        seed(
            t,
            "bash-editing.bin",
            session(
                80,
                &[
                    O(BASH),
                    I("lx\x7f"),
                    O("lx\x08\x1b[K"),
                    I("s -l\r"),
                    O("s -l"),
                    O(ENTER),
                    O(BASH),
                    I("rm -rf /tmp/a\x17\x15"),
                    O(
                        "rm -rf /tmp/a\x08\x08\x08\x08\x08\x08\x1b[K\x08\x08\x08\x08\x08\x08\x08\x1b[K",
                    ),
                    I("ecoh\x1b[D\x7f\x1b[Co\r"),
                    O("ecoh\x08\x08\x1b[P\x1b[Co"),
                    O(ENTER),
                    O(BASH),
                    // Ctrl-A, right, c, Ctrl-E: readline moves back with BS, forward by
                    // printing what is under the cursor.
                    I("eho x\x01\x1b[Cc\x05 y\r"),
                    O("eho x\x08\x08\x08\x08\x08\x1b[C\x1b[1@cho x y"),
                    O(ENTER),
                    O("x y\r\n"),
                    O(BASH),
                    I("cat /etc/hostname\x1bOH\x1b[3~\x1b[3~\x1b[3~\x1bOF\r"),
                    O(
                        "cat /etc/hostname\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x1b[P\x1b[P\x1b[P\x1b[14C",
                    ),
                    O(ENTER),
                    O(BASH),
                ],
            ),
        ),
        seed(
            t,
            "bash-history-and-completion.bin",
            session(
                80,
                &[
                    O(BASH),
                    I("uname -a\r"),
                    O("uname -a"),
                    O(ENTER),
                    O(
                        "Linux host 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux\r\n",
                    ),
                    O(BASH),
                    I("\x1b[A"),
                    O("uname -a"),
                    I("\x7fr\r"),
                    O("\x08\x1b[Kr"),
                    O(ENTER),
                    O("6.1.0-28-amd64\r\n"),
                    O(BASH),
                    I("syst\t"),
                    O("emctl "),
                    I("sta\t"),
                    O("\x07"),
                    I("\t"),
                    O("\r\nstart   status  \r\n\x1b]0;root@host: ~\x07root@host:~# systemctl sta"),
                    I("tus ssh\r"),
                    O("tus ssh"),
                    O(ENTER),
                    O("\x1b[0;1;32m●\x1b[0m ssh.service - OpenBSD Secure Shell server\r\n"),
                    O(BASH),
                    I("\x12ssh"),
                    O(
                        "\r(reverse-i-search)`': \x08\x08\x08s\x08\x08\x08\x08systemctl status ssh\x08\x08\x08",
                    ),
                    I("\r"),
                    O("\r\x1b[Kroot@host:~# systemctl status ssh"),
                    O(ENTER),
                    O(BASH),
                ],
            ),
        ),
        seed(
            t,
            "sudo-password-not-echoed.bin",
            session(
                80,
                &[
                    O(USER),
                    I("sudo apt-get update\r"),
                    O("sudo apt-get update"),
                    O(ENTER),
                    O("[sudo] password for admin: "),
                    I("s3cret-Passw0rd\r"),
                    W(1200),
                    O("\r\n"),
                    O(
                        "Hit:1 http://deb.debian.org/debian bookworm InRelease\r\nReading package lists... Done\r\n",
                    ),
                    O(USER),
                    I("ssh-keygen -t ed25519\r"),
                    O("ssh-keygen -t ed25519"),
                    O(ENTER),
                    O(
                        "Generating public/private ed25519 key pair.\r\nEnter file in which to save the key (/home/admin/.ssh/id_ed25519): ",
                    ),
                    I("\r"),
                    O("\r\nEnter passphrase (empty for no passphrase): "),
                    I("hunter2\r"),
                    O("\r\nEnter same passphrase again: "),
                    I("hunter2\r"),
                    O("\r\nYour identification has been saved in /home/admin/.ssh/id_ed25519\r\n"),
                    O(USER),
                ],
            ),
        ),
        seed(
            t,
            "typed-ahead.bin",
            session(
                80,
                &[
                    O(BASH),
                    I("sleep 2\r"),
                    O("sleep 2"),
                    O(ENTER),
                    I("echo a\recho b\r"),
                    O("echo a\r\necho b\r\n"),
                    W(2000),
                    O(BASH),
                    O("echo a"),
                    O(ENTER),
                    O("a\r\n"),
                    O(BASH),
                    O("echo b"),
                    O(ENTER),
                    O("b\r\n"),
                    O(BASH),
                    I("exit\r"),
                    O("exit\r\nlogout\r\n"),
                ],
            ),
        ),
        seed(
            t,
            "japanese-split-utf8.bin",
            session(
                80,
                &[
                    O("\x1b[?2004h"),
                    Ob("ユーザー@ホスト:~$ ".as_bytes()),
                    I("echo 日本語\x7f\r"),
                    // The echo arrives in two reads that split a character (本 is e6 9c ac).
                    Ob(b"echo \xe6\x97\xa5\xe6\x9c"),
                    Ob(b"\xac\xe8\xaa\x9e\x08\x08\x1b[K"),
                    O(ENTER),
                    O("日本\r\n"),
                    O("\x1b[?2004h"),
                    Ob("ユーザー@ホスト:~$ ".as_bytes()),
                    // A stray continuation byte and an over-long encoding in the echo.
                    I("ls\r"),
                    Ob(b"ls\x80\xc0\xaf"),
                    O(ENTER),
                    O("ファイル.txt  😀.png\r\n"),
                ],
            ),
        ),
        seed(
            t,
            "long-line-wrap-resize.bin",
            session(
                20,
                &[
                    O("$ "),
                    I("echo 0123456789abcdefghij\r"),
                    // readline's wrap: the last column, then " \r" to the next row.
                    O("echo 0123456789abc \rdefghij"),
                    O("\r\n"),
                    O("0123456789abcdefghij\r\n$ "),
                    R(40),
                    I("find / -name '*.conf' -newer /etc/passwd -print\r"),
                    O("find / -name '*.conf' -newer /etc/pass \rwd -print"),
                    O("\r\n"),
                    O("/etc/ld.so.conf\r\n$ "),
                    R(0),
                    R(65535),
                    I("true\r"),
                    O("true\r\n$ "),
                ],
            ),
        ),
        seed(
            t,
            "vi-and-less.bin",
            session(
                80,
                &[
                    O(BASH),
                    I("vi /etc/hosts\r"),
                    O("vi /etc/hosts"),
                    O(ENTER),
                    O(
                        "\x1b[?1049h\x1b[22;0;0t\x1b[>4;2m\x1b[?1h\x1b=\x1b[H\x1b[2J127.0.0.1\tlocalhost\r\n~\r\n~\r\n\x1b[24;1H\"/etc/hosts\" 2L, 32B",
                    ),
                    I("ddp:wq\r"),
                    O("\x1b[24;1H:wq\r\x1b[?1l\x1b>\x1b[?1049l\x1b[23;0;0t"),
                    O(BASH),
                    I("less /var/log/syslog\r"),
                    O("less /var/log/syslog"),
                    O(ENTER),
                    O(
                        "\x1b[?1049h\x1b[?1h\x1b=\rNov 18 08:00:01 host CRON[1234]: (root) CMD (true)\r\n:\x1b[K",
                    ),
                    I("q"),
                    O("\r\x1b[K\x1b[?1l\x1b>\x1b[?1049l"),
                    O(BASH),
                    I("ls\r"),
                    O("ls"),
                    O(ENTER),
                    O(BASH),
                ],
            ),
        ),
        seed(
            t,
            "bracketed-paste.bin",
            session(
                80,
                &[
                    O(BASH),
                    I("\x1b[200~cd /srv && git pull\x1b[201~"),
                    O(
                        "\x1b[7mcd /srv && git pull\x1b[27m\r\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[Ccd /srv && git pull",
                    ),
                    I("\r"),
                    O(ENTER),
                    O("Already up to date.\r\n"),
                    O(BASH),
                    I("\x1b[200~echo one\recho two\x1b[201~\r"),
                    O(
                        "\x1b[7mecho one\x1b[27m\r\n\x1b[7mecho two\x1b[27m\r\x1b[C\x1b[Cecho one\r\necho two",
                    ),
                    O(ENTER),
                    O("one\r\ntwo\r\n"),
                    O(BASH),
                ],
            ),
        ),
        seed(
            t,
            "ctrl-c-and-empty-lines.bin",
            session(
                80,
                &[
                    O(BASH),
                    I("sleep 9"),
                    O("sleep 9"),
                    I("\x03"),
                    O("^C\r\n"),
                    O(BASH),
                    I("\r"),
                    O(ENTER),
                    O(BASH),
                    I("   \r"),
                    O("   "),
                    O(ENTER),
                    O(BASH),
                    I("ping -c1 10.0.0.1\r"),
                    O("ping -c1 10.0.0.1"),
                    O(ENTER),
                    O("PING 10.0.0.1 (10.0.0.1) 56(84) bytes of data.\r\n"),
                    I("\x03"),
                    O("^C\r\n--- 10.0.0.1 ping statistics ---\r\n"),
                    O(BASH),
                    I("\x04"),
                    O("\x1b[?2004l\rexit\r\n"),
                ],
            ),
        ),
        seed(
            t,
            "hostile-echo.bin",
            session(
                80,
                &[
                    O(BASH),
                    I("id\r"),
                    // Echo that moves the cursor, erases, inserts and sets a title mid-line.
                    O(
                        "i\x1b]2;owned\x1b\\d\x1b[5D\x1b[999C\x1b[2K\x1b[1Gid\x1b[99999@\x1b[3X\x1b[0J",
                    ),
                    O(ENTER),
                    O("uid=0(root) gid=0(root) groups=0(root)\r\n"),
                    O(BASH),
                    I("echo x\r"),
                    O(
                        "\x1b[999999999999999999999999999999999999999999Becho x\x1b[2A\x1b[H\x1b[;5H\x1b[1;99999Hx\t\t\t\t\t\t\t\t\t\t\x08\x08",
                    ),
                    O(ENTER),
                    O(BASH),
                    I("\x1b[5~\x1bOP\x1b[1;5C\x1bb\x1bf\r"),
                    O("\x1b(B\x1b)0\x1b#8\x1b%G\x1b7\x1b8\x1bc"),
                    O(ENTER),
                ],
            ),
        ),
    ]
}

// --- guac_decoder: a control byte (chunk size; 0x40: tight limits), then what a browser sends.

fn guac_decoder_seeds() -> Vec<Seed> {
    let t = "guac_decoder";
    let with = |control: u8, text: &str| {
        let mut bytes = vec![control];
        bytes.extend_from_slice(text.as_bytes());
        bytes
    };
    let handshake = "6.select,3.vnc;4.size,4.1920,4.1080,2.96;5.audio,9.audio/ogg,9.audio/L16;\
                     5.video;5.image,9.image/png,10.image/jpeg,10.image/webp;8.timezone,10.Asia/Tokyo;\
                     4.name,0.;7.connect,13.VERSION_1_5_0,0.,0.,0.,0.;";
    let session = "4.sync,10.1763454669;5.mouse,3.512,3.384,1.0;5.mouse,3.513,3.386,1.1;\
                   5.mouse,3.513,3.386,1.0;3.key,5.65507,1.1;3.key,2.97,1.1;3.key,2.97,1.0;\
                   3.key,5.65507,1.0;4.size,4.1280,3.720,2.96;3.nop;4.sync,10.1763454670;";
    let clipboard = "9.clipboard,1.0,10.text/plain;4.blob,1.0,12.44GB5pys6Kqe;3.end,1.0;\
                     3.ack,1.0,2.OK,1.0;4.name,3.日本語;4.name,2.😀;10.disconnect;";
    vec![
        seed(t, "handshake.bin", with(0, handshake)),
        seed(t, "session-chunked.bin", with(6, session)),
        seed(t, "clipboard-unicode.bin", with(0x3f, clipboard)),
        seed(
            t,
            "tight-limits.bin",
            with(0x40, "3.key,5.65507,1.1;4.size,4.1920,4.1080,2.96;"),
        ),
        seed(t, "bad-length.bin", with(1, "4.sync,10.17634546;")),
        seed(t, "leading-zero.bin", with(0x41, "04.sync,01.1;")),
    ]
}

// --- guac_recording: a control byte (bit 1: writer script, else a file for the reader).

fn recording(keyframes: &[(u64, &str)], finish: bool) -> Vec<u8> {
    let config = WriterConfig {
        chunk_len: 64,
        level: 3,
    };
    let mut writer = RecordingWriter::new(Vec::new(), config).expect("writer");
    for (at, instructions) in keyframes {
        if instructions.starts_with("4.size") {
            writer.keyframe(*at).expect("keyframe");
        }
        writer.write(*at, instructions.as_bytes()).expect("write");
    }
    if finish {
        writer.finish().expect("finish")
    } else {
        writer.flush().expect("flush");
        writer.get_ref().clone()
    }
}

const FRAMES: [(u64, &str); 6] = [
    (
        1000,
        "4.size,1.0,4.1024,3.768;3.img,1.1,2.14,1.0,9.image/png,1.0,1.0;4.blob,1.1,8.iVBORw0K;3.end,1.1;",
    ),
    (
        1040,
        "4.rect,1.0,2.10,2.20,3.100,2.50;5.cfill,2.14,1.0,3.255,1.0,1.0,3.255;4.sync,4.1040;",
    ),
    (
        1080,
        "4.copy,1.0,1.0,1.0,2.64,2.64,2.14,1.0,3.128,3.128;4.sync,4.1080;",
    ),
    (
        5000,
        "4.size,1.0,4.1024,3.768;6.cursor,1.0,1.0,2.-1,1.0,1.0,2.16,2.16;4.sync,4.5000;",
    ),
    (5040, "5.mouse,3.100,3.200;4.sync,4.5040;"),
    (9000, "4.size,1.0,4.1280,3.720;4.sync,4.9000;"),
];

fn guac_recording_seeds() -> Vec<Seed> {
    let t = "guac_recording";
    let with = |control: u8, bytes: Vec<u8>| {
        let mut out = vec![control];
        out.extend(bytes);
        out
    };
    // The writer script: 0x01 before a piece asks for a keyframe, 0x02 turns the clock back,
    // 0x03 flushes.
    let script = "\x014.size,1.0,4.1024,3.768;4.sync,1.1;4.rect,1.0,1.0,1.0,2.10,2.10;\
                  \x025.cfill,2.14,1.0,1.0,1.0,1.0,3.255;\x034.sync,1.2;\x014.size,1.0,3.800,3.600;\
                  4.sync,1.3;3.日本;4.sync,1.4";
    vec![
        // Seek to 0 and to 5000 ms (the second keyframe): control × 1000.
        seed(t, "finished.bin", with(0, recording(&FRAMES, true))),
        seed(t, "finished-seek.bin", with(4, recording(&FRAMES, true))),
        seed(t, "unfinished.bin", with(8, recording(&FRAMES, false))),
        seed(t, "empty.bin", with(0, recording(&[], true))),
        seed(
            t,
            "header-then-garbage.bin",
            with(1, b"\x51\x2a\x4d\x18\x1d\0\0\0".to_vec()),
        ),
        seed(
            t,
            "writer-script.bin",
            with(0x02, script.as_bytes().to_vec()),
        ),
        seed(
            t,
            "writer-script-small-chunks.bin",
            with(0x06, script.as_bytes().to_vec()),
        ),
    ]
}

// --- rfb_client: a control byte (bit 0: the target's fixed 64×48 handshake first; the rest:
// the chunk size), then what a VNC server sends.

fn rect(x: u16, y: u16, w: u16, h: u16, encoding: i32) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [x, y, w, h] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&encoding.to_be_bytes());
    out
}

fn update(rects: &[Vec<u8>], count: u16) -> Vec<u8> {
    let mut out = vec![0, 0];
    out.extend_from_slice(&count.to_be_bytes());
    for r in rects {
        out.extend_from_slice(r);
    }
    out
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(data).expect("zlib");
    z.finish().expect("zlib")
}

/// Tight's compact length: 7 bits a byte, low first, the high bit saying "more".
fn compact_len(len: usize) -> Vec<u8> {
    assert!(len < 1 << 21, "two bytes of 7 bits and one of 8 at most");
    if len < 0x80 {
        vec![len as u8]
    } else if len < 0x4000 {
        vec![(len as u8) | 0x80, (len >> 7) as u8]
    } else {
        vec![
            (len as u8) | 0x80,
            ((len >> 7) as u8) | 0x80,
            (len >> 14) as u8,
        ]
    }
}

/// A 32-bit little-endian pixel of the client's format (blue, green, red, unused).
fn pixel(r: u8, g: u8, b: u8) -> [u8; 4] {
    [b, g, r, 0]
}

fn rfb_seeds() -> Vec<Seed> {
    let t = "rfb_client";
    let with = |control: u8, parts: &[Vec<u8>]| {
        let mut out = vec![control];
        for p in parts {
            out.extend_from_slice(p);
        }
        out
    };
    // Raw 4×2 and a CopyRect.
    let mut raw = rect(0, 0, 4, 2, 0);
    for i in 0..8u8 {
        raw.extend_from_slice(&pixel(i * 30, 255 - i * 30, 128));
    }
    let mut copy = rect(10, 10, 4, 2, 1);
    copy.extend_from_slice(&0u16.to_be_bytes());
    copy.extend_from_slice(&0u16.to_be_bytes());
    let raw_copy = update(&[raw, copy], 2);

    // ZRLE: one 8×4 rectangle, one tile; a raw tile (subencoding 0) then, in a second
    // rectangle, a solid tile (1) and a two-colour packed-palette tile (2).
    let mut zrle_tiles = vec![0u8];
    for i in 0..32u8 {
        zrle_tiles.extend_from_slice(&[i * 8, 100, 200]);
    }
    let solid = vec![1u8, 10, 20, 30];
    let packed_palette = vec![
        2u8,
        0,
        0,
        0,
        255,
        255,
        255,
        0b1010_1010,
        0b0101_0101,
        0xf0,
        0x0f,
    ];
    // Plain RLE (128): two runs of 16 (a run of n is sent as n - 1).
    let plain_rle = vec![128u8, 1, 2, 3, 15, 4, 5, 6, 15];
    // Palette RLE (130: two colours): a run of colour 1 (index | 128, then n - 1), then
    // single pixels of colour 0.
    let mut palette_rle = vec![130u8, 9, 9, 9, 200, 200, 200, 0x81, 27];
    palette_rle.extend_from_slice(&[0, 0, 0, 0]);
    // One zlib stream for the whole connection: each rectangle is what one sync flush adds.
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    let mut zrle_rects = Vec::new();
    for (i, tiles) in [zrle_tiles, solid, packed_palette, plain_rle, palette_rle]
        .iter()
        .enumerate()
    {
        let before = z.get_ref().len();
        z.write_all(tiles).expect("zlib");
        z.flush().expect("zlib");
        let data = z.get_ref()[before..].to_vec();
        let mut r = rect(8 * i as u16, 0, 8, 4, 16);
        r.extend_from_slice(&(data.len() as u32).to_be_bytes());
        r.extend_from_slice(&data);
        zrle_rects.push(r);
    }
    let zrle = update(&zrle_rects, zrle_rects.len() as u16);

    // Tight: a fill; basic copy of 2×1 (6 bytes, sent as is); palette of two colours over
    // 16×8 (16 bytes of bits, so zlib on stream 1); gradient, uncompressed.
    let mut fill = rect(0, 0, 64, 48, 7);
    fill.extend_from_slice(&[0x80, 0x20, 0x40, 0x60]);
    let mut basic = rect(1, 1, 2, 1, 7);
    basic.extend_from_slice(&[0x00, 255, 0, 0, 0, 255, 0]);
    let mut palette = rect(0, 10, 16, 8, 7);
    palette.extend_from_slice(&[0x50, 1, 1, 0, 0, 0, 255, 255, 255]);
    let packed = zlib(&[0xf0, 0x0f, 0xaa, 0x55].repeat(4));
    palette.push(packed.len() as u8);
    palette.extend_from_slice(&packed);
    let mut gradient = rect(0, 20, 2, 1, 7);
    gradient.extend_from_slice(&[0x40, 2, 10, 20, 30, 5, 5, 5]);
    // JPEG (9): an 8×8 picture made by the encoder the gateway uses for its own tiles.
    let mut picture = Vec::new();
    let rgb: Vec<u8> = (0..64u8).flat_map(|i| [i * 4, 255 - i * 4, 128]).collect();
    jpeg_encoder::Encoder::new(&mut picture, 80)
        .encode(&rgb, 8, 8, jpeg_encoder::ColorType::Rgb)
        .expect("jpeg");
    let mut jpeg = rect(32, 32, 8, 8, 7);
    jpeg.push(0x90);
    jpeg.extend_from_slice(&compact_len(picture.len()));
    jpeg.extend_from_slice(&picture);
    let tight = update(&[fill, basic, palette, gradient, jpeg], 5);

    // Cursor 2×2 with its mask; DesktopSize; ExtendedDesktopSize; LastRect.
    let mut cursor = rect(1, 1, 2, 2, -239);
    for _ in 0..4 {
        cursor.extend_from_slice(&pixel(255, 255, 255));
    }
    cursor.extend_from_slice(&[0b1000_0000, 0b0100_0000]);
    let resize = rect(0, 0, 32, 24, -223);
    let mut extended = rect(0, 0, 40, 30, -308);
    extended.extend_from_slice(&[1, 0, 0, 0]);
    extended.extend_from_slice(&1u32.to_be_bytes());
    extended.extend_from_slice(&rect(0, 0, 40, 30, 0)[..8]);
    extended.extend_from_slice(&0u32.to_be_bytes());
    let pseudo = update(&[cursor, resize, extended, rect(0, 0, 0, 0, -224)], 0xffff);

    // Bell and ServerCutText (Latin-1).
    let text = b"caf\xe9 cr\xe8me";
    let mut cut = vec![3, 0, 0, 0];
    cut.extend_from_slice(&(text.len() as u32).to_be_bytes());
    cut.extend_from_slice(text);
    let bell = vec![2];

    // Handshakes from the first byte: 3.8 with VNC Authentication, 3.3 (the server picks
    // the type), 3.7, and a refusal with its reason.
    let server_init = |w: u16, h: u16, name: &[u8]| {
        let mut out = Vec::new();
        out.extend_from_slice(&w.to_be_bytes());
        out.extend_from_slice(&h.to_be_bytes());
        out.extend_from_slice(&[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
        out.extend_from_slice(&(name.len() as u32).to_be_bytes());
        out.extend_from_slice(name);
        out
    };
    let mut vnc_auth = b"RFB 003.008\n".to_vec();
    vnc_auth.extend_from_slice(&[2, 2, 16]);
    vnc_auth.extend_from_slice(&[0x5a; 16]);
    vnc_auth.extend_from_slice(&0u32.to_be_bytes());
    vnc_auth.extend(server_init(1024, 768, b"root's X desktop (host:1)"));
    let mut v33 = b"RFB 003.003\n".to_vec();
    v33.extend_from_slice(&1u32.to_be_bytes());
    v33.extend(server_init(800, 600, b"v33"));
    let mut v37 = b"RFB 003.007\n".to_vec();
    v37.extend_from_slice(&[1, 1]);
    v37.extend(server_init(16, 16, "日本".as_bytes()));
    let mut refused = b"RFB 003.008\n".to_vec();
    refused.push(0);
    let reason = b"Too many security failures";
    refused.extend_from_slice(&(reason.len() as u32).to_be_bytes());
    refused.extend_from_slice(reason);

    vec![
        seed(
            t,
            "raw-copyrect.bin",
            with(0x01, std::slice::from_ref(&raw_copy)),
        ),
        seed(t, "raw-copyrect-chunked.bin", with(0x07, &[raw_copy])),
        seed(t, "zrle.bin", with(0x01, std::slice::from_ref(&zrle))),
        seed(t, "zrle-chunked.bin", with(0x0b, &[zrle])),
        seed(t, "tight.bin", with(0x01, std::slice::from_ref(&tight))),
        seed(t, "tight-chunked.bin", with(0x05, &[tight])),
        seed(t, "pseudo-encodings.bin", with(0x01, &[pseudo])),
        seed(t, "bell-cut-text.bin", with(0x03, &[bell, cut])),
        seed(t, "handshake-vnc-auth.bin", with(0x00, &[vnc_auth])),
        seed(t, "handshake-3.3.bin", with(0x02, &[v33])),
        seed(t, "handshake-3.7.bin", with(0x10, &[v37])),
        seed(t, "handshake-refused.bin", with(0x00, &[refused])),
    ]
}

// --- demo_target_server: what a VNC client sends after the opening (RFB 3.8, None, shared).

fn set_encodings(codes: &[i32]) -> Vec<u8> {
    let mut out = vec![2, 0];
    out.extend_from_slice(&(codes.len() as u16).to_be_bytes());
    for code in codes {
        out.extend_from_slice(&code.to_be_bytes());
    }
    out
}

fn update_request(incremental: bool, x: u16, y: u16, w: u16, h: u16) -> Vec<u8> {
    let mut out = vec![3, u8::from(incremental)];
    for v in [x, y, w, h] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

fn key(keysym: u32, down: bool) -> Vec<u8> {
    let mut out = vec![4, u8::from(down), 0, 0];
    out.extend_from_slice(&keysym.to_be_bytes());
    out
}

fn pointer(buttons: u8, x: u16, y: u16) -> Vec<u8> {
    let mut out = vec![5, buttons];
    out.extend_from_slice(&x.to_be_bytes());
    out.extend_from_slice(&y.to_be_bytes());
    out
}

fn demo_target_seeds() -> Vec<Seed> {
    let t = "demo_target_server";
    let concat = |parts: Vec<Vec<u8>>| parts.concat();
    // What hoshu-rfb's client sends: its pixel format, its encodings, a full request.
    let hoshu = vec![
        [
            vec![0, 0, 0, 0],
            vec![32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0],
        ]
        .concat(),
        set_encodings(&[7, 16, 1, 0, -239, -223, -308, -224, -25, -254]),
        update_request(false, 0, 0, 1024, 768),
    ];
    let mut typing = hoshu.clone();
    for c in "Hello, demo".bytes() {
        typing.push(key(u32::from(c), true));
        typing.push(key(u32::from(c), false));
    }
    typing.extend([
        key(0xff08, true),
        key(0xff08, false),
        key(0xff0d, true),
        key(0xff0d, false),
        key(0xff8d, true),
        update_request(true, 0, 0, 1024, 768),
    ]);
    let mut drawing = hoshu.clone();
    drawing.push(pointer(0, 600, 300));
    for i in 0..20u16 {
        drawing.push(pointer(1, 600 + i * 7, 300 + i * 5));
    }
    drawing.extend([
        pointer(0, 740, 400),
        update_request(true, 520, 156, 488, 596),
    ]);
    let text = b"pasted\ntext\xe9\xe8!";
    let mut cut = vec![6, 0, 0, 0];
    cut.extend_from_slice(&(text.len() as u32).to_be_bytes());
    cut.extend_from_slice(text);
    let mut paste = hoshu.clone();
    paste.extend([cut, update_request(true, 16, 156, 488, 596)]);
    // An 8-bit true-colour client (TigerVNC's "low colour"), Raw only, partial requests.
    let low_colour = vec![
        [
            vec![0, 0, 0, 0],
            vec![8, 8, 0, 1, 0, 7, 0, 7, 0, 3, 0, 3, 6, 0, 0, 0],
        ]
        .concat(),
        set_encodings(&[0]),
        update_request(false, 100, 100, 50, 50),
        key(u32::from(b'x'), true),
        update_request(true, 0, 0, 1024, 768),
    ];
    // 16-bit big-endian with ZRLE and CopyRect; a request outside the screen.
    let big_endian = vec![
        [
            vec![0, 0, 0, 0],
            vec![16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0],
        ]
        .concat(),
        set_encodings(&[16, 1, -223]),
        update_request(false, 0, 0, 1024, 768),
        update_request(false, 1000, 700, 500, 500),
        pointer(0x18, 0, 0),
    ];
    vec![
        seed(t, "hoshu-client-typing.bin", concat(typing)),
        seed(t, "hoshu-client-drawing.bin", concat(drawing)),
        seed(t, "hoshu-client-paste.bin", concat(paste)),
        seed(t, "low-colour-raw.bin", concat(low_colour)),
        seed(t, "big-endian-zrle.bin", concat(big_endian)),
    ]
}

fn all_seeds() -> Vec<Seed> {
    [
        posture_seeds(),
        command_log_seeds(),
        guac_decoder_seeds(),
        guac_recording_seeds(),
        rfb_seeds(),
        demo_target_seeds(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[test]
fn committed_seeds_are_what_this_file_makes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let write = std::env::var_os("HOSHU_WRITE_SEEDS").is_some();
    let mut stale = Vec::new();
    for seed in all_seeds() {
        let path = dir.join(seed.target).join(seed.name);
        if write {
            std::fs::create_dir_all(dir.join(seed.target)).expect("creating fuzz/seeds/");
            std::fs::write(&path, &seed.bytes).expect("writing a seed");
        } else {
            let committed = std::fs::read(&path).ok();
            // The ZRLE seeds hold zlib streams whose exact bytes depend on which flate2 backend
            // the build unifies to (the whole workspace or this crate alone); for them the
            // committed file must exist and decode as the target expects (tests/corpora.rs).
            let same = if seed.name.starts_with("zrle") {
                committed.is_some_and(|c| !c.is_empty())
            } else {
                committed.as_ref() == Some(&seed.bytes)
            };
            if !same {
                stale.push(path);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "seeds differ from tests/seeds.rs (HOSHU_WRITE_SEEDS=1 rewrites them): {stale:#?}"
    );
}
