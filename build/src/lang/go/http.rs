//! Go HTTP services: a `wasip2` library whose world exports `wasi:http/incoming-handler`
//! (`include wasi:http/proxy`), built with the standard Go toolchain (≥ 1.24).
//!
//! The service is ordinary `net/http` code: handlers registered on `http.DefaultServeMux` in
//! `init()` (a library's `main` never runs). The glue wasmforge writes into the build (as for Go
//! plugins, with `go build -overlay`) exports `handle` and bridges it to the mux: the request
//! becomes an `*http.Request` whose body is read from the host's stream as the handler reads
//! it, and the `http.ResponseWriter` writes to the host's stream as the handler writes (the
//! head goes out at the first write, with the content type sniffed as net/http's server does).
//! `http.Get` and friends reach other services and hosts through `http.DefaultTransport`,
//! replaced by one on `wasi:http/outgoing-handler`.
//!
//! The `//go:wasmimport` declarations are generated from the world's WIT (the core signature of
//! each function as wit-parser flattens it), so the glue follows the WASI version the world
//! names; the Go side of the bridge is fixed text.

use std::fmt::Write as _;

use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{
    LiftLowerAbi, ManglingAndAbi, Resolve, WasmExport, WasmExportKind, WasmImport, WorldItem,
    WorldKey,
};

use crate::error::{Error, Result};
use crate::wit::World;

/// The export that makes a world an HTTP service.
const HANDLER: &str = "wasi:http/incoming-handler";

/// Whether the world exports `wasi:http/incoming-handler`.
pub fn is_http(world: &World) -> bool {
    handler(&world.resolve, &world.resolve.worlds[world.id]).is_some()
}

fn handler<'a>(resolve: &'a Resolve, world: &'a wit_parser::World) -> Option<&'a WorldKey> {
    world.exports.iter().find_map(|(key, item)| {
        matches!(item, WorldItem::Interface { .. })
            .then(|| resolve.name_world_key(key))
            .filter(|name| name.split('@').next() == Some(HANDLER))
            .map(|_| key)
    })
}

/// The functions the bridge calls: (interface, function, Go name).
const IMPORTS: &[(&str, &str, &str)] = &[
    (
        "wasi:http/types",
        "[method]incoming-request.method",
        "witRequestMethod",
    ),
    (
        "wasi:http/types",
        "[method]incoming-request.path-with-query",
        "witRequestPath",
    ),
    (
        "wasi:http/types",
        "[method]incoming-request.headers",
        "witRequestHeaders",
    ),
    (
        "wasi:http/types",
        "[method]incoming-request.consume",
        "witRequestConsume",
    ),
    (
        "wasi:http/types",
        "[method]fields.entries",
        "witFieldsEntries",
    ),
    ("wasi:http/types", "[constructor]fields", "witFieldsNew"),
    (
        "wasi:http/types",
        "[method]fields.append",
        "witFieldsAppend",
    ),
    (
        "wasi:http/types",
        "[method]incoming-body.stream",
        "witIncomingBodyStream",
    ),
    (
        "wasi:http/types",
        "[constructor]outgoing-response",
        "witResponseNew",
    ),
    (
        "wasi:http/types",
        "[method]outgoing-response.set-status-code",
        "witResponseSetStatus",
    ),
    (
        "wasi:http/types",
        "[method]outgoing-response.body",
        "witResponseBody",
    ),
    (
        "wasi:http/types",
        "[method]outgoing-body.write",
        "witOutgoingBodyWrite",
    ),
    (
        "wasi:http/types",
        "[static]outgoing-body.finish",
        "witOutgoingBodyFinish",
    ),
    (
        "wasi:http/types",
        "[static]response-outparam.set",
        "witOutparamSet",
    ),
    (
        "wasi:http/types",
        "[constructor]outgoing-request",
        "witOutRequestNew",
    ),
    (
        "wasi:http/types",
        "[method]outgoing-request.set-method",
        "witOutRequestSetMethod",
    ),
    (
        "wasi:http/types",
        "[method]outgoing-request.set-path-with-query",
        "witOutRequestSetPath",
    ),
    (
        "wasi:http/types",
        "[method]outgoing-request.set-scheme",
        "witOutRequestSetScheme",
    ),
    (
        "wasi:http/types",
        "[method]outgoing-request.set-authority",
        "witOutRequestSetAuthority",
    ),
    (
        "wasi:http/types",
        "[method]outgoing-request.body",
        "witOutRequestBody",
    ),
    (
        "wasi:http/types",
        "[method]future-incoming-response.subscribe",
        "witFutureSubscribe",
    ),
    (
        "wasi:http/types",
        "[method]future-incoming-response.get",
        "witFutureGet",
    ),
    (
        "wasi:http/types",
        "[method]incoming-response.status",
        "witInResponseStatus",
    ),
    (
        "wasi:http/types",
        "[method]incoming-response.headers",
        "witInResponseHeaders",
    ),
    (
        "wasi:http/types",
        "[method]incoming-response.consume",
        "witInResponseConsume",
    ),
    ("wasi:http/outgoing-handler", "handle", "witOutgoingHandle"),
    ("wasi:io/poll", "[method]pollable.block", "witPollableBlock"),
    (
        "wasi:io/streams",
        "[method]input-stream.blocking-read",
        "witInputRead",
    ),
    (
        "wasi:io/streams",
        "[method]output-stream.blocking-write-and-flush",
        "witOutputWrite",
    ),
];

/// Resources the bridge drops: (interface, resource, Go name).
const DROPS: &[(&str, &str, &str)] = &[
    ("wasi:http/types", "incoming-request", "witDropRequest"),
    ("wasi:http/types", "fields", "witDropFields"),
    ("wasi:http/types", "incoming-body", "witDropIncomingBody"),
    ("wasi:http/types", "outgoing-body", "witDropOutgoingBody"),
    ("wasi:http/types", "incoming-response", "witDropInResponse"),
    (
        "wasi:http/types",
        "future-incoming-response",
        "witDropFuture",
    ),
    ("wasi:io/poll", "pollable", "witDropPollable"),
    ("wasi:io/streams", "input-stream", "witDropInput"),
    ("wasi:io/streams", "output-stream", "witDropOutput"),
];

fn go_type(ty: WasmType) -> &'static str {
    match ty {
        WasmType::I64 | WasmType::PointerOrI64 => "uint64",
        WasmType::F32 => "float32",
        WasmType::F64 => "float64",
        _ => "uint32",
    }
}

/// The Go source of the glue for an HTTP service's `world`.
pub fn generate(world: &World) -> Result<String> {
    let resolve = &world.resolve;
    let w = &resolve.worlds[world.id];
    let mangling = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);
    let missing = |what: &str| Error::GoBindings {
        message: format!(
            "the world `{}` exports `{HANDLER}` but does not import {what}, which the Go HTTP \
             bridge calls",
            world.qualified_name()
        ),
        hint: "make the world `include wasi:http/proxy@0.2.x;` (as `wasmforge new NAME --lang go \
               --kind http` writes it)"
            .into(),
    };
    let Some(handler_key) = handler(resolve, w) else {
        return Err(missing(HANDLER));
    };
    // The interfaces the world imports, by name without version.
    let interface = |name: &str| {
        w.imports.iter().find_map(|(key, item)| match item {
            WorldItem::Interface { id, .. }
                if resolve.name_world_key(key).split('@').next() == Some(name) =>
            {
                Some((key, *id))
            }
            _ => None,
        })
    };
    let mut go = String::new();
    let _ = writeln!(
        go,
        "// Code generated by wasmforge from the WIT world `{}`. DO NOT EDIT.\n//\n\
         // An HTTP service on net/http: register handlers on http.DefaultServeMux in init();\n\
         // http.DefaultTransport (http.Get, …) sends through wasi:http/outgoing-handler.",
        world.qualified_name()
    );
    let (head, body) = super::plugin::PRELUDE
        .split_once("\t\"unsafe\"\n)\n")
        .unwrap_or(("", super::plugin::PRELUDE));
    debug_assert!(head.contains("package main"));
    go.push_str(
        "\npackage main\n\nimport (\n\t\"errors\"\n\t\"fmt\"\n\t\"io\"\n\t\"net/http\"\n\t\"runtime\"\n\t\"strconv\"\n\t\"strings\"\n\t\"unsafe\"\n)\n",
    );
    go.push_str(body);
    for (iface, field, go_name) in IMPORTS {
        let (key, id) = interface(iface).ok_or_else(|| missing(&format!("`{iface}`")))?;
        let func = resolve.interfaces[id]
            .functions
            .get(*field)
            .ok_or_else(|| missing(&format!("`{iface}#{field}`")))?;
        let (module, name) = resolve.wasm_import_name(
            mangling,
            WasmImport::Func {
                interface: Some(key),
                func,
            },
        );
        let sig = resolve.wasm_signature(AbiVariant::GuestImport, func);
        let params: Vec<String> = sig
            .params
            .iter()
            .enumerate()
            .map(|(i, t)| format!("p{i} {}", go_type(*t)))
            .collect();
        let result = match sig.results.as_slice() {
            [] => String::new(),
            [one] => format!(" {}", go_type(*one)),
            _ => {
                return Err(missing(&format!("`{iface}#{field}` with one core result")));
            }
        };
        let _ = writeln!(
            go,
            "\n//go:wasmimport {module} {name}\nfunc {go_name}({}){result}",
            params.join(", ")
        );
        // `response-outparam.set` with an `ok` response: the rest of its flat parameters
        // (the error-code case) are zero.
        if *go_name == "witOutparamSet" {
            let zeros: Vec<String> = sig.params[3..]
                .iter()
                .map(|t| format!("{}(0)", go_type(*t)))
                .collect();
            let _ = writeln!(
                go,
                "\nfunc witOutparamSetOk(param, response uint32) {{\n\twitOutparamSet(param, 0, response, {})\n}}",
                zeros.join(", ")
            );
        }
        if *go_name == "witOutgoingHandle" {
            // The request and no options: (request, 0, 0, ret).
            if sig.params.len() != 4 {
                return Err(missing(
                    "`wasi:http/outgoing-handler#handle` as WASI 0.2 has it",
                ));
            }
        }
    }
    for (iface, resource, go_name) in DROPS {
        let (key, _) = interface(iface).ok_or_else(|| missing(&format!("`{iface}`")))?;
        let module = resolve.name_world_key(key);
        let _ = writeln!(
            go,
            "\n//go:wasmimport {module} [resource-drop]{resource}\nfunc {go_name}(p0 uint32)"
        );
    }
    let export = resolve
        .interfaces
        .iter()
        .find(|(id, _)| matches!(w.exports.get(handler_key), Some(WorldItem::Interface { id: i, .. }) if i == id))
        .and_then(|(_, iface)| iface.functions.get("handle"))
        .ok_or_else(|| missing("`handle`"))?;
    let name = resolve.wasm_export_name(
        mangling,
        WasmExport::Func {
            interface: Some(handler_key),
            func: export,
            kind: WasmExportKind::Normal,
        },
    );
    let _ = writeln!(
        go,
        "\n//go:wasmexport {name}\nfunc witHandle(request uint32, out uint32) {{\n\twitServe(request, out)\n}}"
    );
    go.push_str(BRIDGE);
    Ok(go)
}

/// The Go side of the bridge: `*http.Request` from the host's request, an
/// `http.ResponseWriter` onto the host's response, `http.DefaultTransport` onto
/// `wasi:http/outgoing-handler`.
const BRIDGE: &str = r#"
// The canonical ABI's return area for imports.
var witArea [16]uint64

func witRet() uint32 { return uint32(uintptr(unsafe.Pointer(&witArea))) }

func witU8(off uintptr) uint8 {
	return *(*uint8)(unsafe.Pointer(uintptr(unsafe.Pointer(&witArea)) + off))
}

func witU16(off uintptr) uint16 {
	return *(*uint16)(unsafe.Pointer(uintptr(unsafe.Pointer(&witArea)) + off))
}

func witU32(off uintptr) uint32 {
	return *(*uint32)(unsafe.Pointer(uintptr(unsafe.Pointer(&witArea)) + off))
}

// A (pointer, length) pair for a Go byte slice the host reads during the call.
func witSlice(b []byte) (uint32, uint32) {
	if len(b) == 0 {
		return 0, 0
	}
	return uint32(uintptr(unsafe.Pointer(&b[0]))), uint32(len(b))
}

var witMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

// The fields (headers) behind handle `h`, dropped.
func witHeader(h uint32) http.Header {
	header := http.Header{}
	witFieldsEntries(h, witRet())
	ptr, n := witU32(0), witU32(4)
	entries := witLiftSlice[uint32](ptr, 4*n)
	for i := uint32(0); i < n; i++ {
		e := entries[4*i : 4*i+4]
		header.Add(witLiftString(e[0], e[1]), witLiftString(e[2], e[3]))
	}
	witRelease()
	witDropFields(h)
	return header
}

// New fields holding `header` (names the host forbids, like connection, are left out).
func witFields(header http.Header) uint32 {
	h := witFieldsNew()
	for name, values := range header {
		key := []byte(strings.ToLower(name))
		for _, v := range values {
			value := []byte(v)
			kp, kn := witSlice(key)
			vp, vn := witSlice(value)
			witFieldsAppend(h, kp, kn, vp, vn, witRet())
			runtime.KeepAlive(value)
		}
		runtime.KeepAlive(key)
	}
	return h
}

// An input stream (and the body resource it belongs to) as an io.ReadCloser.
type witBodyReader struct {
	stream, body uint32
	dropBody     func(uint32)
	pending      []byte
	done         bool
}

func (r *witBodyReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.done {
			return 0, io.EOF
		}
		want := len(p)
		if want < 4096 {
			want = 4096
		}
		witInputRead(r.stream, uint64(want), witRet())
		if witU8(0) != 0 {
			// closed, or failed: either way nothing more comes.
			failed := witU8(4) == 0
			r.Close()
			if failed {
				return 0, errors.New("reading the body failed")
			}
			return 0, io.EOF
		}
		r.pending = witLiftSlice[byte](witU32(4), witU32(8))
		witRelease()
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (r *witBodyReader) Close() error {
	if !r.done {
		r.done = true
		witDropInput(r.stream)
		r.dropBody(r.body)
	}
	return nil
}

// The body of a `consume`d incoming request or response (`consumed` at the return area).
func witBody(body uint32, drop func(uint32)) io.ReadCloser {
	witIncomingBodyStream(body, witRet())
	if witU8(0) != 0 {
		drop(body)
		return http.NoBody
	}
	return &witBodyReader{stream: witU32(4), body: body, dropBody: drop}
}

func witRequest(h uint32) *http.Request {
	witRequestMethod(h, witRet())
	method := "GET"
	if d := int(witU8(0)); d < len(witMethods) {
		method = witMethods[d]
	} else {
		method = witLiftString(witU32(4), witU32(8))
	}
	witRequestPath(h, witRet())
	target := "/"
	if witU8(0) != 0 {
		target = witLiftString(witU32(4), witU32(8))
	}
	witRelease()
	header := witHeader(witRequestHeaders(h))
	var body io.ReadCloser = http.NoBody
	witRequestConsume(h, witRet())
	if witU8(0) == 0 {
		body = witBody(witU32(4), witDropIncomingBody)
	}
	r, err := http.NewRequest(method, target, body)
	if err != nil {
		r, _ = http.NewRequest(method, "/", body)
	}
	r.RequestURI = target
	r.Header = header
	r.Host = header.Get("Host")
	r.ContentLength = -1
	if n, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil {
		r.ContentLength = n
	} else if header.Get("Content-Length") == "" && (method == "GET" || method == "HEAD") {
		r.ContentLength = 0
	}
	return r
}

// The ResponseWriter: the head goes out at the first write (or at the end), then each write
// goes to the host's stream.
type witWriter struct {
	out      uint32
	head     bool // a HEAD request: the head is sent, the body written is not
	header   http.Header
	status   int
	sent     bool
	body     uint32
	stream   uint32
	finished bool
}

func (w *witWriter) Header() http.Header { return w.header }

func (w *witWriter) WriteHeader(status int) {
	if w.status == 0 && !w.sent {
		w.status = status
	}
}

func (w *witWriter) send(first []byte) {
	if w.sent {
		return
	}
	w.sent = true
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.header.Get("Content-Type") == "" && len(first) > 0 {
		w.header.Set("Content-Type", http.DetectContentType(first))
	}
	response := witResponseNew(witFields(w.header))
	witResponseSetStatus(response, uint32(w.status))
	witResponseBody(response, witRet())
	w.body = witU32(4)
	witOutgoingBodyWrite(w.body, witRet())
	w.stream = witU32(4)
	witOutparamSetOk(w.out, response)
}

func (w *witWriter) Write(p []byte) (int, error) {
	w.send(p)
	if w.head {
		return len(p), nil
	}
	return witWrite(w.stream, p)
}

// Writes p to an output stream, 4096 bytes (the most one call takes) at a time.
func witWrite(stream uint32, p []byte) (int, error) {
	written := 0
	for written < len(p) {
		chunk := p[written:min(len(p), written+4096)]
		ptr, n := witSlice(chunk)
		witOutputWrite(stream, ptr, n, witRet())
		runtime.KeepAlive(chunk)
		if witU8(0) != 0 {
			return written, errors.New("the client is gone")
		}
		written += len(chunk)
	}
	return written, nil
}

func (w *witWriter) Flush() {}

func (w *witWriter) finish() {
	w.send(nil)
	if !w.finished {
		w.finished = true
		witDropOutput(w.stream)
		witOutgoingBodyFinish(w.body, 0, 0, witRet())
	}
}

func witServe(request, out uint32) {
	witRelease()
	r := witRequest(request)
	w := &witWriter{out: out, header: http.Header{}, head: r.Method == http.MethodHead}
	panicked := true
	defer func() {
		if panicked {
			if !w.sent {
				w.header = http.Header{}
				w.status = http.StatusInternalServerError
				w.finish()
			}
			// After the head, the response is left unfinished: the client sees it cut.
			// The panic itself goes on to stderr and the host.
		}
		if body, ok := r.Body.(io.Closer); ok {
			body.Close()
		}
		witDropRequest(request)
	}()
	http.DefaultServeMux.ServeHTTP(w, r)
	panicked = false
	w.finish()
}

// http.DefaultTransport: requests go out through wasi:http/outgoing-handler (in an app, to
// another service at http://NAME.internal/ without a socket).
type witTransport struct{}

func (witTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	header := req.Header.Clone()
	request := witOutRequestNew(witFields(header))
	method := []byte(req.Method)
	d := uint32(len(witMethods))
	for i, m := range witMethods {
		if m == req.Method {
			d = uint32(i)
		}
	}
	mp, mn := witSlice(method)
	witOutRequestSetMethod(request, d, mp, mn)
	runtime.KeepAlive(method)
	path := []byte(req.URL.RequestURI())
	pp, pn := witSlice(path)
	witOutRequestSetPath(request, 1, pp, pn)
	runtime.KeepAlive(path)
	scheme := uint32(0)
	if req.URL.Scheme == "https" {
		scheme = 1
	}
	witOutRequestSetScheme(request, 1, scheme, 0, 0)
	authority := []byte(req.URL.Host)
	ap, an := witSlice(authority)
	witOutRequestSetAuthority(request, 1, ap, an)
	runtime.KeepAlive(authority)
	witOutRequestBody(request, witRet())
	body := witU32(4)
	witOutgoingBodyWrite(body, witRet())
	stream := witU32(4)
	witOutgoingHandle(request, 0, 0, witRet())
	if witU8(0) != 0 {
		witDropOutput(stream)
		witDropOutgoingBody(body)
		return nil, fmt.Errorf("%s %s: the host refused the request", req.Method, req.URL)
	}
	future := witU32(8)
	if req.Body != nil {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err == nil {
			_, err = witWrite(stream, data)
		}
		if err != nil {
			witDropOutput(stream)
			witDropOutgoingBody(body)
			witDropFuture(future)
			return nil, err
		}
	}
	witDropOutput(stream)
	witOutgoingBodyFinish(body, 0, 0, witRet())
	pollable := witFutureSubscribe(future)
	witPollableBlock(pollable)
	witDropPollable(pollable)
	witFutureGet(future, witRet())
	witDropFuture(future)
	// option<result<result<incoming-response, error-code>, ()>>
	if witU8(0) == 0 || witU8(8) != 0 || witU8(16) != 0 {
		witRelease()
		return nil, fmt.Errorf("%s %s: the request failed", req.Method, req.URL)
	}
	response := witU32(24)
	witRelease()
	status := int(witInResponseStatus(response))
	res := &http.Response{
		Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode: status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     witHeader(witInResponseHeaders(response)),
		Request:    req,
		Body:       http.NoBody,
	}
	witInResponseConsume(response, witRet())
	if witU8(0) == 0 {
		inner := witBody(witU32(4), witDropIncomingBody)
		res.Body = &witInBody{ReadCloser: inner, response: response}
	} else {
		witDropInResponse(response)
	}
	return res, nil
}

// A response's body: closing it drops the response too.
type witInBody struct {
	io.ReadCloser
	response uint32
	closed   bool
}

func (b *witInBody) Close() error {
	if !b.closed {
		b.closed = true
		b.ReadCloser.Close()
		witDropInResponse(b.response)
	}
	return nil
}

func init() {
	http.DefaultTransport = witTransport{}
	http.DefaultClient.Transport = witTransport{}
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// The world the `--kind http` templates use, with the WASI packages they vendor.
    fn template_world() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let wit =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/projects/http-wit");
        std::fs::create_dir_all(dir.path().join("deps")).expect("mkdir");
        for entry in std::fs::read_dir(wit.join("deps")).expect("deps") {
            let entry = entry.expect("entry");
            std::fs::copy(
                entry.path(),
                dir.path().join("deps").join(entry.file_name()),
            )
            .expect("copy");
        }
        std::fs::copy(wit.join("world.wit"), dir.path().join("world.wit")).expect("copy");
        crate::wit::load(dir.path(), None).expect("world")
    }

    #[test]
    fn the_bridge_follows_the_worlds_wasi_version_and_abi() {
        let world = template_world();
        assert!(is_http(&world));
        let go = super::super::plugin::generate(&world).expect("glue");
        assert!(
            go.contains("//go:wasmexport wasi:http/incoming-handler@0.2.12#handle\nfunc witHandle(request uint32, out uint32)"),
            "{go}"
        );
        // A method taking a u64 (blocking-read's length) is a uint64 in Go.
        assert!(
            go.contains("//go:wasmimport wasi:io/streams@0.2.12 [method]input-stream.blocking-read\nfunc witInputRead(p0 uint32, p1 uint64, p2 uint32)"),
            "{go}"
        );
        // `response-outparam.set` with `ok`: the error-code's flat slots are zero, each of its type.
        let set = go
            .lines()
            .find(|l| l.starts_with("\twitOutparamSet(param, 0, response"))
            .expect("the ok call");
        assert!(set.contains("uint64(0)"), "{set}");
        for (_, _, name) in IMPORTS {
            assert!(go.contains(&format!("func {name}(")), "{name}");
        }
        assert!(go.contains("http.DefaultTransport = witTransport{}"));
    }

    #[test]
    fn a_world_without_the_http_imports_is_refused_naming_what_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("world.wit"),
            "package a:b;\n\
             interface incoming-handler { handle: func(); }\n\
             world w { export incoming-handler; }",
        )
        .expect("write");
        // Not wasi:http's handler: a plain plugin.
        let world = crate::wit::load(dir.path(), None).expect("world");
        assert!(!is_http(&world));
    }
}
