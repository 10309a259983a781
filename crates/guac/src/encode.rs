//! Instructions the gateway sends to the browser.
//!
//! Every form here was checked against guacamole-common-js 1.5.0 in Chromium
//! (notes/guacamole-protocol.md, "Server->client drawing"). Nothing is
//! painted until `sync`; images travel as `img` + `blob`s + `end`.

use crate::instruction::{Arg, write_instruction};

/// A drawing surface. 0 is the default visible layer, positive indices are
/// further visible layers, negative indices are off-screen buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Layer(pub i32);

impl Layer {
    /// The default, visible layer the display shows.
    pub const DEFAULT: Layer = Layer(0);
}

/// Index of a stream (`img`, `clipboard`, …). Server-opened and
/// browser-opened streams are numbered independently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamIndex(pub u32);

/// Channel mask: how drawn pixels combine with the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompositeMode {
    /// 14, canvas `source-over`: the normal mode.
    Over,
    /// 12, canvas `copy`. It clears the whole destination layer outside the
    /// drawn rectangle (notes), so use it only for draws covering the layer.
    Src,
}

impl CompositeMode {
    pub fn mask(self) -> u8 {
        match self {
            CompositeMode::Over => 14,
            CompositeMode::Src => 12,
        }
    }
}

/// A colour with alpha, 0–255 per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

/// A Guacamole status code (`Guacamole.Status.Code` in guacamole-common-js
/// 1.5.0), used by `error` and `ack` and as the WebSocket close reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Status(pub u16);

impl Status {
    pub const SUCCESS: Status = Status(0x0000);
    pub const UNSUPPORTED: Status = Status(0x0100);
    pub const SERVER_ERROR: Status = Status(0x0200);
    pub const SERVER_BUSY: Status = Status(0x0201);
    pub const UPSTREAM_TIMEOUT: Status = Status(0x0202);
    pub const UPSTREAM_ERROR: Status = Status(0x0203);
    pub const RESOURCE_NOT_FOUND: Status = Status(0x0204);
    pub const RESOURCE_CONFLICT: Status = Status(0x0205);
    pub const RESOURCE_CLOSED: Status = Status(0x0206);
    pub const UPSTREAM_NOT_FOUND: Status = Status(0x0207);
    pub const UPSTREAM_UNAVAILABLE: Status = Status(0x0208);
    pub const SESSION_CONFLICT: Status = Status(0x0209);
    pub const SESSION_TIMEOUT: Status = Status(0x020a);
    pub const SESSION_CLOSED: Status = Status(0x020b);
    pub const CLIENT_BAD_REQUEST: Status = Status(0x0300);
    pub const CLIENT_UNAUTHORIZED: Status = Status(0x0301);
    pub const CLIENT_FORBIDDEN: Status = Status(0x0303);
    pub const CLIENT_TIMEOUT: Status = Status(0x0308);
    pub const CLIENT_OVERRUN: Status = Status(0x030d);
    pub const CLIENT_BAD_TYPE: Status = Status(0x030f);
    pub const CLIENT_TOO_MANY: Status = Status(0x031d);

    /// Codes 0–255 are successes; `Guacamole.Status.isError` is
    /// `code < 0 || code > 255`.
    pub fn is_error(self) -> bool {
        self.0 > 0xff
    }
}

/// Raw bytes per `blob`. guacamole-common-js's own writers use 6048
/// (`ArrayBufferWriter.DEFAULT_BLOB_LENGTH`): a multiple of 3, so each blob
/// is base64 without padding and the browser can decode blobs separately;
/// 8064 base64 characters keep each instruction under guacd's 8 KiB limit.
pub const BLOB_CHUNK_BYTES: usize = 6048;

/// One instruction for the browser. [`encode_into`](Self::encode_into) writes
/// its wire form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerInstruction<'a> {
    /// Internal tunnel instruction `0.,36.<uuid>;`: must be the first thing
    /// sent on the WebSocket; it opens the tunnel (notes, "WebSocketTunnel
    /// handshake"). Never recorded.
    TunnelUuid { uuid: &'a str },
    /// Echo of the browser's `0.,4.ping,<ts>;` keep-alive. Never recorded.
    TunnelPing { timestamp: &'a str },
    /// `size,layer,w,h`: resizes a layer; layer 0 is the display.
    Size {
        layer: Layer,
        width: u32,
        height: u32,
    },
    /// `img,stream,mask,layer,mimetype,x,y`: opens an image stream; the image
    /// is drawn at `end`. See [`write_image`].
    Img {
        stream: StreamIndex,
        mode: CompositeMode,
        layer: Layer,
        mimetype: &'a str,
        x: i32,
        y: i32,
    },
    /// `blob,stream,base64`: one piece of a stream's data. Keep `data` at
    /// most [`BLOB_CHUNK_BYTES`]; [`write_stream_data`] chunks for you.
    Blob { stream: StreamIndex, data: &'a [u8] },
    /// `end,stream`: closes a stream.
    End { stream: StreamIndex },
    /// `copy,srcL,sx,sy,w,h,mask,dstL,dx,dy`: copies a rectangle, e.g. for
    /// RFB CopyRect.
    Copy {
        src: Layer,
        src_x: i32,
        src_y: i32,
        width: u32,
        height: u32,
        mode: CompositeMode,
        dst: Layer,
        dst_x: i32,
        dst_y: i32,
    },
    /// `rect,layer,x,y,w,h`: sets the layer's path to a rectangle (draws
    /// nothing by itself; follow with [`ServerInstruction::Cfill`]).
    Rect {
        layer: Layer,
        x: i32,
        y: i32,
        width: u32,
        height: u32,
    },
    /// `cfill,mask,layer,r,g,b,a`: fills the layer's current path.
    Cfill {
        mode: CompositeMode,
        layer: Layer,
        color: Rgba,
    },
    /// `cursor,hotX,hotY,srcL,sx,sy,w,h`: sets the mouse cursor from a
    /// rectangle of a layer (draw the shape into a buffer such as `Layer(-1)`
    /// first).
    Cursor {
        hotspot_x: i32,
        hotspot_y: i32,
        src: Layer,
        src_x: i32,
        src_y: i32,
        width: u32,
        height: u32,
    },
    /// `sync,timestamp`: ends a frame; the display flushes, and the browser
    /// replies with the same timestamp once it has rendered. Recordings get
    /// their timing from these timestamps (milliseconds), so keep them
    /// monotonic.
    Sync { timestamp_ms: u64 },
    /// `error,message,status`: shown to the user; the client disconnects.
    Error { message: &'a str, status: Status },
    /// `disconnect`: the server ends the session.
    Disconnect,
    /// `nop`: keep-alive.
    Nop,
    /// `ready,id`: guacamole-common-js 1.5.0 ignores it; harmless.
    Ready { connection_id: &'a str },
    /// `name,name`: the connection's name (`Guacamole.Client.onname`).
    Name { name: &'a str },
    /// `ack,stream,message,status`: acknowledges a browser stream's blob or
    /// refuses the stream (an error status).
    Ack {
        stream: StreamIndex,
        message: &'a str,
        status: Status,
    },
    /// `clipboard,stream,mimetype`: opens a clipboard stream to the browser;
    /// send its data with [`write_stream_data`].
    Clipboard {
        stream: StreamIndex,
        mimetype: &'a str,
    },
    /// `mouse,x,y,mask,timestamp`: shows the pointer (the client's software
    /// cursor) at a position, e.g. another user's pointer.
    Mouse {
        x: i32,
        y: i32,
        buttons: u8,
        timestamp_ms: u64,
    },
    /// `pipe,stream,mimetype,name`: opens a named pipe to the browser
    /// (`Guacamole.Client.onpipe`) for application data beside the display;
    /// send its data with [`write_stream_data`].
    Pipe {
        stream: StreamIndex,
        mimetype: &'a str,
        name: &'a str,
    },
    /// `required,name…`: the connection needs these parameters (`username`, `password`) from
    /// the user (`Guacamole.Client.onrequired`); the browser answers with `argv` streams.
    Required { parameters: &'a [&'a str] },
}

impl ServerInstruction<'_> {
    /// Appends the wire form to `out`.
    pub fn encode_into(&self, out: &mut String) {
        let layer = |l: Layer| Arg::Int(i64::from(l.0));
        let int = |v: i32| Arg::Int(i64::from(v));
        let uint = |v: u32| Arg::Uint(u64::from(v));
        let stream = |s: StreamIndex| Arg::Uint(u64::from(s.0));
        let mode = |m: CompositeMode| Arg::Uint(u64::from(m.mask()));
        let status = |s: Status| Arg::Uint(u64::from(s.0));
        match *self {
            ServerInstruction::TunnelUuid { uuid } => write_instruction(out, "", &[Arg::Str(uuid)]),
            ServerInstruction::TunnelPing { timestamp } => {
                write_instruction(out, "", &[Arg::Str("ping"), Arg::Str(timestamp)]);
            }
            ServerInstruction::Size {
                layer: l,
                width,
                height,
            } => write_instruction(out, "size", &[layer(l), uint(width), uint(height)]),
            ServerInstruction::Img {
                stream: s,
                mode: m,
                layer: l,
                mimetype,
                x,
                y,
            } => write_instruction(
                out,
                "img",
                &[
                    stream(s),
                    mode(m),
                    layer(l),
                    Arg::Str(mimetype),
                    int(x),
                    int(y),
                ],
            ),
            ServerInstruction::Blob { stream: s, data } => {
                write_instruction(out, "blob", &[stream(s), Arg::Base64(data)]);
            }
            ServerInstruction::End { stream: s } => write_instruction(out, "end", &[stream(s)]),
            ServerInstruction::Copy {
                src,
                src_x,
                src_y,
                width,
                height,
                mode: m,
                dst,
                dst_x,
                dst_y,
            } => write_instruction(
                out,
                "copy",
                &[
                    layer(src),
                    int(src_x),
                    int(src_y),
                    uint(width),
                    uint(height),
                    mode(m),
                    layer(dst),
                    int(dst_x),
                    int(dst_y),
                ],
            ),
            ServerInstruction::Rect {
                layer: l,
                x,
                y,
                width,
                height,
            } => write_instruction(
                out,
                "rect",
                &[layer(l), int(x), int(y), uint(width), uint(height)],
            ),
            ServerInstruction::Cfill {
                mode: m,
                layer: l,
                color,
            } => write_instruction(
                out,
                "cfill",
                &[
                    mode(m),
                    layer(l),
                    uint(color.r.into()),
                    uint(color.g.into()),
                    uint(color.b.into()),
                    uint(color.a.into()),
                ],
            ),
            ServerInstruction::Cursor {
                hotspot_x,
                hotspot_y,
                src,
                src_x,
                src_y,
                width,
                height,
            } => write_instruction(
                out,
                "cursor",
                &[
                    int(hotspot_x),
                    int(hotspot_y),
                    layer(src),
                    int(src_x),
                    int(src_y),
                    uint(width),
                    uint(height),
                ],
            ),
            ServerInstruction::Sync { timestamp_ms } => {
                write_instruction(out, "sync", &[Arg::Uint(timestamp_ms)]);
            }
            ServerInstruction::Error { message, status: s } => {
                write_instruction(out, "error", &[Arg::Str(message), status(s)])
            }
            ServerInstruction::Disconnect => write_instruction(out, "disconnect", &[]),
            ServerInstruction::Nop => write_instruction(out, "nop", &[]),
            ServerInstruction::Ready { connection_id } => {
                write_instruction(out, "ready", &[Arg::Str(connection_id)]);
            }
            ServerInstruction::Name { name } => write_instruction(out, "name", &[Arg::Str(name)]),
            ServerInstruction::Required { parameters } => {
                let args: Vec<Arg<'_>> = parameters.iter().map(|p| Arg::Str(p)).collect();
                write_instruction(out, "required", &args);
            }
            ServerInstruction::Ack {
                stream: s,
                message,
                status: st,
            } => write_instruction(out, "ack", &[stream(s), Arg::Str(message), status(st)]),
            ServerInstruction::Clipboard {
                stream: s,
                mimetype,
            } => write_instruction(out, "clipboard", &[stream(s), Arg::Str(mimetype)]),
            ServerInstruction::Mouse {
                x,
                y,
                buttons,
                timestamp_ms,
            } => write_instruction(
                out,
                "mouse",
                &[
                    int(x),
                    int(y),
                    uint(buttons.into()),
                    Arg::Uint(timestamp_ms),
                ],
            ),
            ServerInstruction::Pipe {
                stream: s,
                mimetype,
                name,
            } => write_instruction(
                out,
                "pipe",
                &[stream(s), Arg::Str(mimetype), Arg::Str(name)],
            ),
        }
    }

    /// The wire form as a new string.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.encode_into(&mut out);
        out
    }
}

/// Appends a stream's whole content: `blob`s of at most
/// [`BLOB_CHUNK_BYTES`] raw bytes each, then `end`. The browser acks each
/// blob; don't wait for those acks on image streams (notes).
pub fn write_stream_data(out: &mut String, stream: StreamIndex, data: &[u8]) {
    for chunk in data.chunks(BLOB_CHUNK_BYTES) {
        ServerInstruction::Blob {
            stream,
            data: chunk,
        }
        .encode_into(out);
    }
    ServerInstruction::End { stream }.encode_into(out);
}

/// Appends a whole image draw: `img`, the image's `blob`s, `end`. The
/// browser decodes and draws it at `end`, visible at the next `sync`.
#[allow(clippy::too_many_arguments)] // Mirrors the `img` instruction's own arguments.
pub fn write_image(
    out: &mut String,
    stream: StreamIndex,
    mode: CompositeMode,
    layer: Layer,
    mimetype: &str,
    x: i32,
    y: i32,
    image: &[u8],
) {
    ServerInstruction::Img {
        stream,
        mode,
        layer,
        mimetype,
        x,
        y,
    }
    .encode_into(out);
    write_stream_data(out, stream, image);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Decoder;
    use crate::instruction::Instruction;
    use proptest::prelude::*;

    #[test]
    fn drawing_instructions_match_the_checked_forms_in_the_notes() {
        let over = CompositeMode::Over;
        let cases = [
            (
                ServerInstruction::Size {
                    layer: Layer::DEFAULT,
                    width: 640,
                    height: 480,
                },
                "4.size,1.0,3.640,3.480;",
            ),
            (
                ServerInstruction::Required {
                    parameters: &["username", "password"],
                },
                "8.required,8.username,8.password;",
            ),
            (
                ServerInstruction::Rect {
                    layer: Layer::DEFAULT,
                    x: 10,
                    y: 10,
                    width: 200,
                    height: 100,
                },
                "4.rect,1.0,2.10,2.10,3.200,3.100;",
            ),
            (
                ServerInstruction::Cfill {
                    mode: over,
                    layer: Layer::DEFAULT,
                    color: Rgba {
                        r: 255,
                        g: 0,
                        b: 0,
                        a: 255,
                    },
                },
                "5.cfill,2.14,1.0,3.255,1.0,1.0,3.255;",
            ),
            (
                ServerInstruction::Img {
                    stream: StreamIndex(1),
                    mode: over,
                    layer: Layer::DEFAULT,
                    mimetype: "image/png",
                    x: 300,
                    y: 200,
                },
                "3.img,1.1,2.14,1.0,9.image/png,3.300,3.200;",
            ),
            (
                ServerInstruction::End {
                    stream: StreamIndex(1),
                },
                "3.end,1.1;",
            ),
            (
                ServerInstruction::Copy {
                    src: Layer::DEFAULT,
                    src_x: 10,
                    src_y: 10,
                    width: 50,
                    height: 50,
                    mode: over,
                    dst: Layer::DEFAULT,
                    dst_x: 400,
                    dst_y: 50,
                },
                "4.copy,1.0,2.10,2.10,2.50,2.50,2.14,1.0,3.400,2.50;",
            ),
            (
                ServerInstruction::Cursor {
                    hotspot_x: 5,
                    hotspot_y: 5,
                    src: Layer(-1),
                    src_x: 0,
                    src_y: 0,
                    width: 11,
                    height: 11,
                },
                "6.cursor,1.5,1.5,2.-1,1.0,1.0,2.11,2.11;",
            ),
            (
                ServerInstruction::Name { name: "demo-title" },
                "4.name,10.demo-title;",
            ),
            (
                ServerInstruction::Sync {
                    timestamp_ms: 1_795_654_056_793,
                },
                "4.sync,13.1795654056793;",
            ),
            (
                ServerInstruction::Error {
                    message: "target refused",
                    status: Status::UPSTREAM_NOT_FOUND,
                },
                "5.error,14.target refused,3.519;",
            ),
            (
                ServerInstruction::Ack {
                    stream: StreamIndex(1),
                    message: "OK",
                    status: Status::SUCCESS,
                },
                "3.ack,1.1,2.OK,1.0;",
            ),
            (
                ServerInstruction::TunnelUuid {
                    uuid: "0b8b1d3c-4a36-4f53-9b6a-2c1d0e5f7a90",
                },
                "0.,36.0b8b1d3c-4a36-4f53-9b6a-2c1d0e5f7a90;",
            ),
            (
                ServerInstruction::TunnelPing {
                    timestamp: "1795654184886",
                },
                "0.,4.ping,13.1795654184886;",
            ),
            (ServerInstruction::Disconnect, "10.disconnect;"),
            (ServerInstruction::Nop, "3.nop;"),
            (
                ServerInstruction::Ready {
                    connection_id: "$abc",
                },
                "5.ready,4.$abc;",
            ),
            (
                ServerInstruction::Clipboard {
                    stream: StreamIndex(2),
                    mimetype: "text/plain",
                },
                "9.clipboard,1.2,10.text/plain;",
            ),
            (
                ServerInstruction::Pipe {
                    stream: StreamIndex(7),
                    mimetype: "application/json",
                    name: "hoshu-watchers",
                },
                "4.pipe,1.7,16.application/json,14.hoshu-watchers;",
            ),
            (
                ServerInstruction::Mouse {
                    x: 100,
                    y: 150,
                    buttons: 1,
                    timestamp_ms: 1_795_654_184_886,
                },
                "5.mouse,3.100,3.150,1.1,13.1795654184886;",
            ),
        ];
        for (instruction, wire) in cases {
            assert_eq!(instruction.encode(), wire);
        }
    }

    #[test]
    fn status_codes_match_guacamole_common_js() {
        assert_eq!(Status::UPSTREAM_NOT_FOUND.0, 519);
        assert_eq!(Status::CLIENT_FORBIDDEN.0, 771);
        assert_eq!(Status::CLIENT_TOO_MANY.0, 797);
        assert!(!Status::SUCCESS.is_error());
        assert!(Status::UNSUPPORTED.is_error());
    }

    #[test]
    fn image_streams_are_chunked_in_whole_base64_blobs() {
        let image: Vec<u8> = (0..BLOB_CHUNK_BYTES * 2 + 5)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut out = String::new();
        write_image(
            &mut out,
            StreamIndex(3),
            CompositeMode::Over,
            Layer::DEFAULT,
            "image/png",
            0,
            0,
            &image,
        );
        let decoded: Vec<Instruction> = Decoder::default()
            .feed(out.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        let opcodes: Vec<&str> = decoded.iter().map(|i| i.opcode.as_str()).collect();
        assert_eq!(opcodes, ["img", "blob", "blob", "blob", "end"]);

        use base64::Engine as _;
        let mut data = Vec::new();
        for blob in &decoded[1..4] {
            assert_eq!(blob.args[0], "3");
            // Every blob but the last is a whole number of base64 quanta, so
            // none carries padding (the browser decodes each blob alone).
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&blob.args[1])
                .unwrap();
            data.extend(bytes);
        }
        assert_eq!(decoded[1].args[1].len(), 8064);
        assert!(!decoded[1].args[1].contains('='));
        assert_eq!(data, image);
    }

    #[test]
    fn empty_stream_is_just_end() {
        let mut out = String::new();
        write_stream_data(&mut out, StreamIndex(0), &[]);
        assert_eq!(out, "3.end,1.0;");
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(
            opcode in "\\PC{0,8}",
            // Any chars: BMP, astral (emoji, CJK extension), and the
            // protocol's own delimiters inside values.
            args in proptest::collection::vec(
                prop_oneof![any::<String>(), "[a😀𠀋é,;.9 ]{0,12}"],
                0..8,
            ),
            chunk in 1usize..32,
        ) {
            let instruction = Instruction::new(opcode, args);
            let wire = instruction.encode();
            let mut decoder = Decoder::default();
            let mut got = Vec::new();
            for piece in wire.as_bytes().chunks(chunk) {
                got.extend(decoder.feed(piece).collect::<Result<Vec<_>, _>>().unwrap());
            }
            prop_assert_eq!(got, vec![instruction]);
            prop_assert!(decoder.is_idle());
        }
    }
}
