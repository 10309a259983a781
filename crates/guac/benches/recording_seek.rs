//! Issue 7's recording benchmark, figures printed (never asserted): a synthetic one-hour
//! graphical recording — idle stretches and bursts of terminal-like typing drawn as PNG tiles,
//! full-screen changes now and then, keyframes on the gateway's schedule (a full picture after
//! 5 s with ≥ 256 KiB of changes, or 5 min with any) — written with `RecordingWriter`, then:
//! size raw versus zstd, time to the first frame from the start, time to seek to 10 random
//! points (open, index, start at the keyframe before the point, read up to the point), and the
//! process's peak memory. `cargo bench -p hoshu-guac --bench recording_seek`; with
//! `-- --write FILE` it only writes the hour, for web/bench/seek-hour.mjs (the same in a browser,
//! through the gateway).

use std::io::{BufReader, Write};
use std::time::{Duration, Instant};

use hoshu_guac::{Arg, RecordingReader, RecordingWriter, WriterConfig, write_instruction};

const WIDTH: u32 = 1024;
const HEIGHT: u32 = 768;
const HOUR_MS: u64 = 3_600_000;

/// A small deterministic generator (the figures must not depend on a crate's RNG changes).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A PNG of `w`×`h` terminal-like pixels: dark background, light "glyph" strokes.
fn text_png(rng: &mut Lcg, w: u32, h: u32) -> Vec<u8> {
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    for y in 0..h {
        for x in 0..w {
            let i = ((y * w + x) * 3) as usize;
            let (cell_x, cell_y) = (x % 8, y % 16);
            // Glyph-ish strokes inside 8×16 cells, different per cell.
            let on = cell_y > 2 && cell_y < 13 && cell_x > 0 && cell_x < 7 && rng.below(3) == 0;
            let value = if on { 0xd8 } else { 0x1e };
            pixels[i..i + 3].copy_from_slice(&[value, value, value.wrapping_add(8)]);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        if let Ok(mut writer) = encoder.write_header() {
            let _ = writer.write_image_data(&pixels);
        }
    }
    out
}

/// One image drawn at (x, y): img, blob, end — as the gateway's display sends tiles.
fn draw(out: &mut String, stream: u64, x: u32, y: u32, png: &[u8]) {
    write_instruction(
        out,
        "img",
        &[
            Arg::Uint(stream),
            Arg::Uint(14),
            Arg::Int(0),
            Arg::Str("image/png"),
            Arg::Int(i64::from(x)),
            Arg::Int(i64::from(y)),
        ],
    );
    for piece in png.chunks(6144) {
        write_instruction(out, "blob", &[Arg::Uint(stream), Arg::Base64(piece)]);
    }
    write_instruction(out, "end", &[Arg::Uint(stream)]);
}

fn full_picture(rng: &mut Lcg, out: &mut String, timestamp_ms: u64) {
    write_instruction(
        out,
        "size",
        &[
            Arg::Int(0),
            Arg::Uint(u64::from(WIDTH)),
            Arg::Uint(u64::from(HEIGHT)),
        ],
    );
    let mut stream = 1;
    for ty in (0..HEIGHT).step_by(256) {
        for tx in (0..WIDTH).step_by(256) {
            let png = text_png(rng, 256, 256);
            draw(out, stream, tx, ty, &png);
            stream += 1;
        }
    }
    write_instruction(out, "sync", &[Arg::Uint(timestamp_ms)]);
}

struct Written {
    raw: u64,
    file: Vec<u8>,
    keyframes: usize,
    start_ms: u64,
}

fn write_hour() -> Written {
    let mut rng = Lcg(0x5eed);
    let mut writer = RecordingWriter::new(Vec::new(), WriterConfig::default()).expect("writer");
    let start_ms = 1_800_000_000_000u64;
    let mut now = start_ms;
    let mut frame = String::new();
    writer.keyframe(now).expect("keyframe");
    full_picture(&mut rng, &mut frame, now);
    writer.write(now, frame.as_bytes()).expect("write");
    let (mut last_key_ms, mut last_key_len, mut keyframes) = (now, writer.stream_len(), 1);
    while now < start_ms + HOUR_MS {
        // Idle 10 s – 5 min: nothing is sent while the screen does not change.
        now += 10_000 + rng.below(290_000);
        // Then 5 s – 2 min of typing, one frame every 100–300 ms; now and then a screenful.
        let burst_end = now + 5_000 + rng.below(115_000);
        while now < burst_end && now < start_ms + HOUR_MS {
            now += 100 + rng.below(200);
            frame.clear();
            if rng.below(200) == 0 {
                full_picture(&mut rng, &mut frame, now);
            } else {
                let lines = 1 + rng.below(2);
                for line in 0..lines {
                    let width = 256 + 256 * (rng.below(3) as u32);
                    let png = text_png(&mut rng, width, 16);
                    let y = (rng.below(u64::from(HEIGHT / 16)) as u32) * 16;
                    draw(&mut frame, 1 + line, 0, y, &png);
                }
                write_instruction(&mut frame, "sync", &[Arg::Uint(now)]);
            }
            writer.write(now, frame.as_bytes()).expect("write");
            let grown = writer.stream_len() - last_key_len;
            let elapsed = now - last_key_ms;
            if (elapsed >= 5_000 && grown >= 256 << 10) || (elapsed >= 300_000 && grown > 0) {
                frame.clear();
                full_picture(&mut rng, &mut frame, now);
                writer.keyframe(now).expect("keyframe");
                writer.write(now, frame.as_bytes()).expect("write");
                last_key_ms = now;
                last_key_len = writer.stream_len();
                keyframes += 1;
            }
        }
    }
    let raw = writer.stream_len();
    let file = writer.finish().expect("finish");
    Written {
        raw,
        file,
        keyframes,
        start_ms,
    }
}

/// Opens the recording and reads from the keyframe before `offset_ms` up to the first `sync`
/// at or after it: what a player needs before it can show that moment. (time, bytes replayed)
fn seek(file: &std::path::Path, start_ms: u64, offset_ms: u64) -> (Duration, u64) {
    let began = Instant::now();
    let reader = RecordingReader::open(BufReader::new(std::fs::File::open(file).expect("open")))
        .expect("index");
    let target = start_ms + offset_ms;
    let mut stream = reader.stream_from(target).expect("stream");
    let mut replayed = 0u64;
    let needle = format!("4.sync,{}.", target.to_string().len());
    'read: while let Some(piece) = stream.next_chunk().expect("chunk") {
        replayed += piece.len() as u64;
        // Every sync of the hour has a 13-digit timestamp: stop at the first one ≥ target.
        let text = std::str::from_utf8(piece).unwrap_or("");
        for (at, _) in text.match_indices(&needle) {
            let digits = text
                .get(at + needle.len()..at + needle.len() + 13)
                .unwrap_or("");
            if digits.parse::<u64>().is_ok_and(|ts| ts >= target) {
                break 'read;
            }
        }
    }
    (began.elapsed(), replayed)
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let began = Instant::now();
    let written = write_hour();
    // `-- --write FILE`: only write the hour (web/bench/seek-hour.mjs plays it in a browser).
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--write") {
        let path = args.get(i + 1).expect("--write FILE");
        std::fs::write(path, &written.file).expect("write the recording");
        println!("{} start_ms {}", path, written.start_ms);
        return;
    }
    let dir = std::env::temp_dir().join(format!("hoshu-seek-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("hour.guac.zst");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(&written.file))
        .expect("write file");
    let file_len = written.file.len() as u64;
    drop(written.file);
    println!(
        "one hour, {} keyframes, written in {:.1} s: raw stream {:.1} MiB, zstd file {:.1} MiB ({:.2}× raw)",
        written.keyframes,
        began.elapsed().as_secs_f64(),
        written.raw as f64 / 1048576.0,
        file_len as f64 / 1048576.0,
        file_len as f64 / written.raw as f64
    );
    let baseline = status_kib("VmRSS:");
    let mut serving = 0;
    let (first, first_bytes) = seek(&path, written.start_ms, 0);
    println!(
        "first frame from the start: {:.1} ms ({} KiB read)",
        first.as_secs_f64() * 1000.0,
        first_bytes / 1024
    );
    let mut rng = Lcg(42);
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let point = rng.below(HOUR_MS);
        let (took, replayed) = seek(&path, written.start_ms, point);
        worst = worst.max(took);
        serving = serving.max(status_kib("VmRSS:").saturating_sub(baseline));
        println!(
            "seek to {:>2}:{:02}: {:>6.1} ms ({} KiB replayed from the keyframe before it)",
            point / 60_000,
            point / 1000 % 60,
            took.as_secs_f64() * 1000.0,
            replayed / 1024
        );
    }
    println!(
        "worst seek {:.1} ms; memory while serving seeks: +{} KiB over the {} MiB before them \
         (peak of the whole run, the generator holding the file once: {} MiB)",
        worst.as_secs_f64() * 1000.0,
        serving,
        baseline / 1024,
        status_kib("VmHWM:") / 1024
    );
    let _ = std::fs::remove_dir_all(&dir);
}
