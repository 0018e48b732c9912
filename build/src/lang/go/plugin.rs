//! Go plugins: a `wasip2` library built with the standard Go toolchain (≥ 1.24) for the
//! project's WIT world.
//!
//! No maintained WIT generator for standard Go works offline (`wit-bindgen-go` targets TinyGo
//! and is fetched as a Go module), so wasmforge writes the glue itself: one Go file in package
//! `main`, added to the build with `go build -overlay` (the user's folder is never written to),
//! holding
//! - a `//go:wasmexport` wrapper per exported function, lifting its arguments from the
//!   canonical ABI and calling the user's Go function, plus its `cabi_post_` function;
//! - a Go function per imported function, lowering its arguments and calling a
//!   `//go:wasmimport` declaration;
//! - `cabi_realloc`, which the host uses to pass strings and lists in.
//!
//! The types it handles: `bool`, `s8`…`s64`, `u8`…`u64`, `f32`, `f64`, `char`, `string`, and
//! `list<T>` of any of those (aliases of them too). A world exporting a function with another
//! type (records, variants, options, results, tuples, flags, enums, resources, nested lists)
//! is refused naming the function; imported functions with such types are left out (listed
//! in the generated file). After `go build` the world is embedded into the module (as
//! wit-bindgen does) and the module wrapped with the reactor adapter.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use wit_parser::abi::AbiVariant;
use wit_parser::{
    Function, LiftLowerAbi, ManglingAndAbi, Resolve, Type, TypeDefKind, WasmExport, WasmExportKind,
    WasmImport, WorldItem, WorldKey,
};

use crate::error::{Error, Result};
use crate::wit::World;

/// What the build needs from the generated glue.
#[derive(Debug)]
pub struct Glue {
    /// The generated Go file (in the build folder).
    pub file: PathBuf,
    /// The `-overlay` JSON that adds it to the main package.
    pub overlay: PathBuf,
}

/// A scalar WIT type and how Go and the canonical ABI see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    Bool,
    U8,
    S8,
    U16,
    S16,
    U32,
    S32,
    U64,
    S64,
    F32,
    F64,
    Char,
}

impl Scalar {
    fn go(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::U8 => "uint8",
            Scalar::S8 => "int8",
            Scalar::U16 => "uint16",
            Scalar::S16 => "int16",
            Scalar::U32 => "uint32",
            Scalar::S32 => "int32",
            Scalar::U64 => "uint64",
            Scalar::S64 => "int64",
            Scalar::F32 => "float32",
            Scalar::F64 => "float64",
            Scalar::Char => "rune",
        }
    }

    /// The Go type of its one core value (`//go:wasmexport`/`wasmimport` signatures).
    fn core(self) -> &'static str {
        match self {
            Scalar::U64 | Scalar::S64 => "uint64",
            Scalar::F32 => "float32",
            Scalar::F64 => "float64",
            _ => "uint32",
        }
    }

    /// Go expression: the core value `v` lifted to this type.
    fn lift(self, v: &str) -> String {
        match self {
            Scalar::Bool => format!("{v} != 0"),
            Scalar::F32 | Scalar::F64 | Scalar::U32 | Scalar::U64 => v.to_string(),
            other => format!("{}({v})", other.go()),
        }
    }

    /// Go expression: the Go value `v` lowered to its core value.
    fn lower(self, v: &str) -> String {
        match self {
            Scalar::Bool => format!("witBool({v})"),
            Scalar::F32 | Scalar::F64 | Scalar::U32 | Scalar::U64 => v.to_string(),
            Scalar::S64 => format!("uint64({v})"),
            _ => format!("uint32({v})"),
        }
    }
}

/// A type the generator handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Scalar(Scalar),
    String,
    /// `list<T>` of a scalar, or (None) of strings.
    List(Option<Scalar>),
}

impl Ty {
    fn go(self) -> String {
        match self {
            Ty::Scalar(s) => s.go().into(),
            Ty::String => "string".into(),
            Ty::List(Some(s)) => format!("[]{}", s.go()),
            Ty::List(None) => "[]string".into(),
        }
    }

    /// How many core values it flattens to.
    fn flat(self) -> usize {
        match self {
            Ty::Scalar(_) => 1,
            Ty::String | Ty::List(_) => 2,
        }
    }
}

fn scalar(ty: &Type) -> Option<Scalar> {
    Some(match ty {
        Type::Bool => Scalar::Bool,
        Type::U8 => Scalar::U8,
        Type::S8 => Scalar::S8,
        Type::U16 => Scalar::U16,
        Type::S16 => Scalar::S16,
        Type::U32 => Scalar::U32,
        Type::S32 => Scalar::S32,
        Type::U64 => Scalar::U64,
        Type::S64 => Scalar::S64,
        Type::F32 => Scalar::F32,
        Type::F64 => Scalar::F64,
        Type::Char => Scalar::Char,
        _ => return None,
    })
}

/// Follows aliases (`type name = string;`).
fn resolved<'a>(resolve: &'a Resolve, mut ty: &'a Type) -> &'a Type {
    while let Type::Id(id) = ty {
        match &resolve.types[*id].kind {
            TypeDefKind::Type(inner) => ty = inner,
            _ => break,
        }
    }
    ty
}

fn supported(resolve: &Resolve, ty: &Type) -> Option<Ty> {
    let ty = resolved(resolve, ty);
    if let Some(s) = scalar(ty) {
        return Some(Ty::Scalar(s));
    }
    match ty {
        Type::String => Some(Ty::String),
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::List(element) => {
                let element = resolved(resolve, element);
                match element {
                    Type::String => Some(Ty::List(None)),
                    other => scalar(other).map(|s| Ty::List(Some(s))),
                }
            }
            _ => None,
        },
        _ => None,
    }
}

/// A type as WIT writes it, for messages.
fn describe(resolve: &Resolve, ty: &Type) -> String {
    let Type::Id(id) = resolved(resolve, ty) else {
        return format!("{ty:?}").to_lowercase();
    };
    let def = &resolve.types[*id];
    let kind = match &def.kind {
        TypeDefKind::Record(_) => "record",
        TypeDefKind::Resource | TypeDefKind::Handle(_) => "resource",
        TypeDefKind::Flags(_) => "flags",
        TypeDefKind::Tuple(_) => "tuple",
        TypeDefKind::Variant(_) => "variant",
        TypeDefKind::Enum(_) => "enum",
        TypeDefKind::Option(inner) => return format!("option<{}>", describe(resolve, inner)),
        TypeDefKind::Result(_) => "result",
        TypeDefKind::List(inner) => return format!("list<{}>", describe(resolve, inner)),
        TypeDefKind::Future(_) => "future",
        TypeDefKind::Stream(_) => "stream",
        _ => "type",
    };
    match &def.name {
        Some(name) => format!("{kind} `{name}`"),
        None => kind.to_string(),
    }
}

/// `to-upper` → `ToUpper`.
fn camel(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// `max-len` → `maxLen`, never a Go keyword or predeclared name used by the glue.
fn local(name: &str) -> String {
    let upper = camel(name);
    let mut chars = upper.chars();
    let mut out = match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => "arg".into(),
    };
    const RESERVED: &[&str] = &[
        "break",
        "case",
        "chan",
        "const",
        "continue",
        "default",
        "defer",
        "else",
        "fallthrough",
        "for",
        "func",
        "go",
        "goto",
        "if",
        "import",
        "interface",
        "map",
        "package",
        "range",
        "return",
        "select",
        "struct",
        "switch",
        "type",
        "var",
        "unsafe",
        "runtime",
        "len",
        "string",
        "bool",
        "rune",
        "byte",
        "append",
        "copy",
        "make",
        "new",
        "nil",
        "true",
        "false",
    ];
    if RESERVED.contains(&out.as_str()) || out.starts_with("wit") {
        out.push('_');
    }
    out
}

/// One function of the world the glue covers.
struct Func<'a> {
    key: Option<&'a WorldKey>,
    func: &'a Function,
    /// `pkg:ns/iface@v#name` or `name`, for messages.
    label: String,
    params: Vec<(String, Ty)>,
    result: Option<Ty>,
    go_name: String,
}

/// Every function the world imports (`false`) or exports (`true`), with the first type the
/// glue cannot handle for those it cannot.
fn functions<'a>(
    resolve: &'a Resolve,
    world: &'a wit_parser::World,
    exports: bool,
) -> Vec<std::result::Result<Func<'a>, (String, String)>> {
    let side = if exports {
        &world.exports
    } else {
        &world.imports
    };
    let mut out = Vec::new();
    for (key, item) in side {
        let (interface, funcs): (Option<&WorldKey>, Vec<&Function>) = match item {
            WorldItem::Function(f) => (None, vec![f]),
            WorldItem::Interface { id, .. } => (
                Some(key),
                resolve.interfaces[*id].functions.values().collect(),
            ),
            WorldItem::Type { .. } => continue,
        };
        for func in funcs {
            let label = match interface {
                Some(k) => format!("{}#{}", resolve.name_world_key(k), func.name),
                None => func.name.clone(),
            };
            let go_name = match (interface, exports) {
                // An imported interface's functions: `HostLog` for `log` of `host`.
                (Some(WorldKey::Name(iface)), false) => camel(iface) + &camel(&func.name),
                (Some(WorldKey::Interface(id)), false) => {
                    camel(resolve.interfaces[*id].name.as_deref().unwrap_or(""))
                        + &camel(&func.name)
                }
                _ => camel(&func.name),
            };
            let unsupported = |ty: &Type| (label.clone(), describe(resolve, ty));
            let converted = (|| {
                if !matches!(func.kind, wit_parser::FunctionKind::Freestanding) {
                    return Err((label.clone(), "a resource method".to_string()));
                }
                let mut params = Vec::new();
                for p in &func.params {
                    let ty = supported(resolve, &p.ty).ok_or_else(|| unsupported(&p.ty))?;
                    params.push((local(&p.name), ty));
                }
                let result = match &func.result {
                    Some(ty) => Some(supported(resolve, ty).ok_or_else(|| unsupported(ty))?),
                    None => None,
                };
                if params.iter().map(|(_, t)| t.flat()).sum::<usize>() > 16 {
                    return Err((label.clone(), "more than 16 flat parameters".to_string()));
                }
                Ok(Func {
                    key: interface,
                    func,
                    label: label.clone(),
                    params,
                    result,
                    go_name: go_name.clone(),
                })
            })();
            out.push(converted);
        }
    }
    out
}

const SUPPORTED: &str = "bool, s8…s64, u8…u64, f32, f64, char, string and list<…> of those";

/// The Go source of the glue for `world`.
pub fn generate(world: &World) -> Result<String> {
    if super::http::is_http(world) {
        return super::http::generate(world);
    }
    let resolve = &world.resolve;
    let w = &resolve.worlds[world.id];
    let mangling = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);
    let mut exports = Vec::new();
    for f in functions(resolve, w, true) {
        match f {
            Ok(f) => exports.push(f),
            Err((label, ty)) => {
                return Err(Error::GoBindings {
                    message: format!(
                        "the world `{}` exports `{label}`, which uses {ty}: wasmforge's Go bindings \
                         handle {SUPPORTED}",
                        world.qualified_name()
                    ),
                    hint: "give the function parameters and results of those types, or write the \
                           plugin in Rust or C (`wasmforge new NAME --lang rust --kind plugin`), \
                           whose bindings cover every WIT type"
                        .into(),
                });
            }
        }
    }
    let mut imports = Vec::new();
    let mut left_out = Vec::new();
    for f in functions(resolve, w, false) {
        match f {
            Ok(f) => imports.push(f),
            Err((label, ty)) => left_out.push(format!("{label} ({ty})")),
        }
    }
    // Export wrappers that would be called the same in Go take their interface's name.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for f in &exports {
        *counts.entry(f.go_name.clone()).or_default() += 1;
    }
    for f in &mut exports {
        if counts[&f.go_name] > 1
            && let Some(key) = f.key
        {
            let iface = match key {
                WorldKey::Name(n) => n.clone(),
                WorldKey::Interface(id) => resolve.interfaces[*id].name.clone().unwrap_or_default(),
            };
            f.go_name = camel(&iface) + &f.go_name;
        }
    }
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for f in exports.iter().chain(&imports) {
        if let Some(other) = seen.insert(f.go_name.clone(), f.label.clone()) {
            return Err(Error::GoBindings {
                message: format!(
                    "`{other}` and `{}` of the world `{}` would both be `{}` in Go",
                    f.label,
                    world.qualified_name(),
                    f.go_name
                ),
                hint: "rename one of the functions in the WIT".into(),
            });
        }
    }

    let mut go = String::new();
    let _ = writeln!(
        go,
        "// Code generated by wasmforge from the WIT world `{}`. DO NOT EDIT.\n//",
        world.qualified_name()
    );
    if !exports.is_empty() {
        go.push_str("// The plugin defines, in package main:\n");
        for f in &exports {
            let _ = writeln!(go, "//\tfunc {}  // {}", signature(f), f.label);
        }
    }
    if !imports.is_empty() {
        go.push_str("//\n// and may call (the host provides them):\n");
        for f in &imports {
            let _ = writeln!(go, "//\tfunc {}  // {}", signature(f), f.label);
        }
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            go,
            "//\n// Imports left out (their types are beyond what the Go bindings handle: {SUPPORTED}):"
        );
        for l in &left_out {
            let _ = writeln!(go, "//\t{l}");
        }
    }
    go.push_str(PRELUDE);

    for (i, f) in exports.iter().enumerate() {
        let name = resolve.wasm_export_name(
            mangling,
            WasmExport::Func {
                interface: f.key,
                func: f.func,
                kind: WasmExportKind::Normal,
            },
        );
        let post = resolve.wasm_export_name(
            mangling,
            WasmExport::Func {
                interface: f.key,
                func: f.func,
                kind: WasmExportKind::PostReturn,
            },
        );
        // The flattening is wit-parser's; the generator's own must agree with it.
        let sig = resolve.wasm_signature(AbiVariant::GuestExport, f.func);
        let mut core_params = Vec::new();
        let mut lifts = Vec::new();
        let mut n = 0;
        for (pname, ty) in &f.params {
            match ty {
                Ty::Scalar(s) => {
                    core_params.push(format!("p{n} {}", s.core()));
                    lifts.push(format!("\t{pname} := {}", s.lift(&format!("p{n}"))));
                    n += 1;
                }
                _ => {
                    core_params.push(format!("p{n} uint32, p{} uint32", n + 1));
                    lifts.push(format!("\t{pname} := {}", lift_pair(*ty, n)));
                    n += 2;
                }
            }
        }
        debug_assert_eq!(n, sig.params.len());
        let call = format!(
            "{}({})",
            f.go_name,
            f.params
                .iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let result = match f.result {
            None => String::new(),
            Some(Ty::Scalar(s)) => format!(" {}", s.core()),
            Some(_) => " uint32".into(),
        };
        let _ = writeln!(go, "\n//go:wasmexport {name}");
        let _ = writeln!(
            go,
            "func witExport{i}({}){result} {{",
            core_params.join(", ")
        );
        go.push_str("\twitReturn = nil\n");
        for l in &lifts {
            let _ = writeln!(go, "{l}");
        }
        go.push_str("\twitRelease()\n");
        match f.result {
            None => {
                let _ = writeln!(go, "\t{call}");
            }
            Some(Ty::Scalar(s)) => {
                let _ = writeln!(go, "\treturn {}", s.lower(&call));
            }
            Some(ty) => {
                let _ = writeln!(go, "\tr := {call}");
                let _ = writeln!(go, "\tptr, n := {}", lower_pair(ty, "r"));
                go.push_str("\twitExportRet[0], witExportRet[1] = ptr, n\n");
                go.push_str("\treturn uint32(uintptr(unsafe.Pointer(&witExportRet)))\n");
            }
        }
        go.push_str("}\n");
        // A post-return function takes the flat results: only pointer results need one.
        if matches!(f.result, Some(ty) if ty.flat() > 1) {
            let _ = writeln!(go, "\n//go:wasmexport {post}");
            let _ = writeln!(go, "func witPost{i}(uint32) {{ witReturn = nil }}");
        }
    }

    for (i, f) in imports.iter().enumerate() {
        let (module, field) = resolve.wasm_import_name(
            mangling,
            WasmImport::Func {
                interface: f.key,
                func: f.func,
            },
        );
        let sig = resolve.wasm_signature(AbiVariant::GuestImport, f.func);
        let mut core_params = Vec::new();
        let mut lowers = Vec::new();
        let mut args = Vec::new();
        let mut n = 0;
        for (pname, ty) in &f.params {
            match ty {
                Ty::Scalar(s) => {
                    core_params.push(format!("p{n} {}", s.core()));
                    args.push(s.lower(pname));
                    n += 1;
                }
                _ => {
                    core_params.push(format!("p{n} uint32, p{} uint32", n + 1));
                    lowers.push(format!("\tp{n}, p{} := {}", n + 1, lower_pair(*ty, pname)));
                    args.push(format!("p{n}, p{}", n + 1));
                    n += 2;
                }
            }
        }
        let indirect = matches!(f.result, Some(ty) if ty.flat() > 1);
        if indirect {
            core_params.push(format!("p{n} uint32"));
            args.push("uint32(uintptr(unsafe.Pointer(&witImportRet)))".into());
            n += 1;
        }
        debug_assert_eq!(n, sig.params.len());
        let core_result = match f.result {
            Some(Ty::Scalar(s)) => format!(" {}", s.core()),
            _ => String::new(),
        };
        let _ = writeln!(go, "\n//go:wasmimport {module} {field}");
        let _ = writeln!(
            go,
            "func witImport{i}({}){core_result}",
            core_params.join(", ")
        );
        let _ = writeln!(go, "\n// {} calls `{}`.", f.go_name, f.label);
        let _ = writeln!(go, "func {} {{", signature(f));
        for l in &lowers {
            let _ = writeln!(go, "{l}");
        }
        let call = format!("witImport{i}({})", args.join(", "));
        let keep: Vec<&str> = f
            .params
            .iter()
            .filter(|(_, t)| t.flat() > 1)
            .map(|(p, _)| p.as_str())
            .collect();
        let keep_alive = |go: &mut String| {
            for p in &keep {
                let _ = writeln!(go, "\truntime.KeepAlive({p})");
            }
        };
        match f.result {
            None => {
                let _ = writeln!(go, "\t{call}");
                keep_alive(&mut go);
            }
            Some(Ty::Scalar(s)) => {
                let _ = writeln!(go, "\tr := {}", s.lift(&call));
                keep_alive(&mut go);
                go.push_str("\treturn r\n");
            }
            Some(ty) => {
                let _ = writeln!(go, "\t{call}");
                keep_alive(&mut go);
                let _ = writeln!(
                    go,
                    "\tr := {}",
                    lift_pair_from(ty, "witImportRet[0]", "witImportRet[1]")
                );
                go.push_str("\twitRelease()\n\treturn r\n");
            }
        }
        go.push_str("}\n");
    }
    Ok(go)
}

/// `Name(a string, b int32) string` for a function.
fn signature(f: &Func<'_>) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|(p, t)| format!("{p} {}", t.go()))
        .collect();
    let result = f.result.map(|t| format!(" {}", t.go())).unwrap_or_default();
    format!("{}({}){result}", f.go_name, params.join(", "))
}

/// Go expression lifting the (pointer, length) core parameters `p{n}`, `p{n+1}`.
fn lift_pair(ty: Ty, n: usize) -> String {
    lift_pair_from(ty, &format!("p{n}"), &format!("p{}", n + 1))
}

fn lift_pair_from(ty: Ty, ptr: &str, len: &str) -> String {
    match ty {
        Ty::String => format!("witLiftString({ptr}, {len})"),
        Ty::List(None) => format!("witLiftStrings({ptr}, {len})"),
        Ty::List(Some(Scalar::Bool)) => format!("witLiftBools({ptr}, {len})"),
        Ty::List(Some(s)) => format!("witLiftSlice[{}]({ptr}, {len})", s.go()),
        Ty::Scalar(_) => unreachable!("scalars are one core value"),
    }
}

/// Go expression lowering `v` to a (pointer, length) pair, kept alive in `witReturn`.
fn lower_pair(ty: Ty, v: &str) -> String {
    match ty {
        Ty::String => format!("witLowerString({v})"),
        Ty::List(None) => format!("witLowerStrings({v})"),
        Ty::List(Some(s)) => format!("witLowerSlice[{}]({v})", s.go()),
        Ty::Scalar(_) => unreachable!("scalars are one core value"),
    }
}

/// The helpers every glue file has.
pub(super) const PRELUDE: &str = r#"
package main

import (
	"runtime"
	"unsafe"
)

var _ = runtime.KeepAlive

// The runtime's own break: memory it hands out once and never collects.
//
//go:linkname witSbrk runtime.sbrk
func witSbrk(n uintptr) unsafe.Pointer

// Set once package main is initialized. Before that (while the runtime starts) the WASI
// adapter asks cabi_realloc for its stack and state, which live as long as the instance: they
// come from the runtime's break, outside the collected heap, and are never reused. (The adapter
// cannot take memory with memory.grow: the runtime grows memory from its own idea of where it
// ends, and would hand those pages out again.)
var witReady bool

func init() { witReady = true }

// After that, cabi_realloc hands the host buffers from an arena taken from the runtime's break,
// reused once their contents have been copied out (witRelease). Allocating from Go's heap there
// could start a collection, which calls the host — and a component may not call out while the
// host is in the middle of a call into it.
var witArena, witArenaSize, witArenaUsed uintptr

// The arena's buffers are free again: what the host put there has been copied out.
func witRelease() { witArenaUsed = 0 }

// What the last export's result points into, kept until its post-return function.
var witReturn []any

var witExportRet [2]uint32
var witImportRet [2]uint32

//go:wasmexport cabi_realloc
func witRealloc(oldPtr, oldSize, align, newSize uint32) uint32 {
	if newSize == 0 {
		return align
	}
	a := uintptr(align)
	if !witReady {
		base := uintptr(witSbrk(uintptr(newSize) + a))
		ptr := (base + a - 1) &^ (a - 1)
		if oldPtr != 0 && oldSize != 0 {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(ptr)), newSize), witBytes(oldPtr, min(oldSize, newSize)))
		}
		return uint32(ptr)
	}
	ptr := (witArena + witArenaUsed + a - 1) &^ (a - 1)
	if witArena == 0 || ptr+uintptr(newSize) > witArena+witArenaSize {
		// A new arena, at least twice the last: the old one is left (its buffers may be in
		// use), so what is left over stays within the largest arena's size.
		size := max(2*witArenaSize, 256<<10, 2*(uintptr(newSize)+a))
		witArena = uintptr(witSbrk(size))
		witArenaSize = size
		ptr = (witArena + a - 1) &^ (a - 1)
	}
	witArenaUsed = ptr + uintptr(newSize) - witArena
	if oldPtr != 0 && oldSize != 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(ptr)), newSize), witBytes(oldPtr, min(oldSize, newSize)))
	}
	return uint32(ptr)
}

func witBytes(ptr, n uint32) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), n)
}

func witBool(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func witLiftString(ptr, n uint32) string {
	return string(witBytes(ptr, n))
}

func witLiftSlice[T any](ptr, n uint32) []T {
	if n == 0 {
		return []T{}
	}
	return append([]T(nil), unsafe.Slice((*T)(unsafe.Pointer(uintptr(ptr))), n)...)
}

func witLiftBools(ptr, n uint32) []bool {
	out := make([]bool, n)
	for i, b := range witBytes(ptr, n) {
		out[i] = b != 0
	}
	return out
}

func witLiftStrings(ptr, n uint32) []string {
	out := make([]string, n)
	pairs := witLiftSlice[uint32](ptr, 2*n)
	for i := range out {
		out[i] = witLiftString(pairs[2*i], pairs[2*i+1])
	}
	return out
}

func witLowerString(s string) (uint32, uint32) {
	witReturn = append(witReturn, s)
	return uint32(uintptr(unsafe.Pointer(unsafe.StringData(s)))), uint32(len(s))
}

func witLowerSlice[T any](s []T) (uint32, uint32) {
	if len(s) == 0 {
		return 0, 0
	}
	witReturn = append(witReturn, s)
	return uint32(uintptr(unsafe.Pointer(&s[0]))), uint32(len(s))
}

func witLowerStrings(s []string) (uint32, uint32) {
	pairs := make([]uint32, 2*len(s))
	for i, e := range s {
		pairs[2*i], pairs[2*i+1] = witLowerString(e)
	}
	ptr, _ := witLowerSlice(pairs)
	return ptr, uint32(len(s))
}
"#;

/// Writes the glue (when changed) and the overlay that adds it to the package in `package_dir`.
pub fn prepare(world: &World, out_dir: &Path, package_dir: &Path) -> Result<(Glue, bool)> {
    let source = generate(world)?;
    fs_err::create_dir_all(out_dir)?;
    let world_name = &world.resolve.worlds[world.id].name;
    let file_name = format!("{}_wit.go", world_name.replace('-', "_"));
    let file = out_dir.join(&file_name);
    let mut changed = false;
    if std::fs::read(&file).ok().as_deref() != Some(source.as_bytes()) {
        crate::files::write_atomic(&file, source.as_bytes())?;
        changed = true;
    }
    let package_dir = package_dir
        .canonicalize()
        .unwrap_or_else(|_| package_dir.to_owned());
    let overlay = serde_json::json!({
        "Replace": { package_dir.join(&file_name).display().to_string(): file.display().to_string() }
    });
    let overlay_path = out_dir.join("overlay.json");
    let text = overlay.to_string().into_bytes();
    if std::fs::read(&overlay_path).ok().as_deref() != Some(text.as_slice()) {
        crate::files::write_atomic(&overlay_path, &text)?;
    }
    Ok((
        Glue {
            file,
            overlay: overlay_path,
        },
        changed,
    ))
}

/// Embeds the world into the built core module (the `component-type` section wit-component
/// reads), as wit-bindgen does for Rust and C.
pub fn embed(world: &World, core: &mut Vec<u8>, path: &Path) -> Result<()> {
    wit_component::embed_component_metadata(
        core,
        &world.resolve,
        world.id,
        wit_component::StringEncoding::UTF8,
    )
    .map_err(|e| Error::Componentize {
        path: path.to_owned(),
        source: e.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(wit: &str) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("world.wit"), wit).expect("write");
        crate::wit::load(dir.path(), None).expect("world")
    }

    #[test]
    fn transform_glue_names_the_exports_and_the_abi() {
        let w = world(
            "package wasmforge:plugin@0.1.0;\n\
             interface transform { transform: func(input: string) -> string; }\n\
             interface host { log: func(msg: string); count: func(items: list<string>) -> u32; }\n\
             world plugin { import host; export transform; export add: func(a: s32, b: s32) -> s32; }",
        );
        let go = generate(&w).expect("glue");
        assert!(go.contains("//\tfunc Transform(input string) string  // wasmforge:plugin/transform@0.1.0#transform"), "{go}");
        assert!(
            go.contains(
                "//go:wasmexport wasmforge:plugin/transform@0.1.0#transform\nfunc witExport"
            ),
            "{go}"
        );
        assert!(
            go.contains("//go:wasmexport cabi_post_wasmforge:plugin/transform@0.1.0#transform"),
            "{go}"
        );
        assert!(go.contains("//go:wasmexport add\nfunc witExport"), "{go}");
        assert!(go.contains("(p0 uint32, p1 uint32) uint32 {\n\twitReturn = nil\n\ta := int32(p0)\n\tb := int32(p1)\n"), "{go}");
        assert!(go.contains("return uint32(Add(a, b))"), "{go}");
        assert!(go.contains("//go:wasmimport wasmforge:plugin/host@0.1.0 log\nfunc witImport0(p0 uint32, p1 uint32)\n"), "{go}");
        assert!(go.contains("func HostLog(msg string) {"), "{go}");
        assert!(
            go.contains("func HostCount(items []string) uint32 {"),
            "{go}"
        );
    }

    #[test]
    fn unsupported_export_types_are_refused_by_name_and_imports_left_out() {
        let w = world(
            "package a:b;\n\
             interface host { now: func() -> option<u64>; }\n\
             world w { import host; export get: func(key: string) -> option<string>; }",
        );
        let Err(Error::GoBindings { message, .. }) = generate(&w) else {
            panic!("an option result is beyond the Go bindings");
        };
        assert!(
            message.contains("`get`") && message.contains("option<string>"),
            "{message}"
        );

        let w = world(
            "package a:b;\ninterface host { now: func() -> option<u64>; }\n\
             world w { import host; export get: func(key: string) -> string; }",
        );
        let go = generate(&w).expect("glue");
        assert!(go.contains("a:b/host#now (option<u64>)"), "{go}");
        assert!(!go.contains("func HostNow"), "{go}");
    }

    #[test]
    fn colliding_export_names_take_their_interface() {
        let w = world(
            "package a:b;\ninterface one { run: func(); }\ninterface two { run: func(); }\n\
             world w { export one; export two; }",
        );
        let go = generate(&w).expect("glue");
        assert!(
            go.contains("func OneRun()") && go.contains("func TwoRun()"),
            "{go}"
        );
    }

    #[test]
    fn an_import_and_an_export_of_one_go_name_are_refused() {
        let w = world(
            "package a:b;\ninterface host { run: func(); }\n\
             world w { import host; export host-run: func(); }",
        );
        let Err(Error::GoBindings { message, .. }) = generate(&w) else {
            panic!("`HostRun` twice");
        };
        assert!(message.contains("would both be `HostRun`"), "{message}");
    }

    #[test]
    fn names_are_go_names() {
        assert_eq!(camel("to-upper"), "ToUpper");
        assert_eq!(local("max-len"), "maxLen");
        assert_eq!(local("type"), "type_");
        assert_eq!(local("len"), "len_");
    }
}
