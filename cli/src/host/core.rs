//! Core modules under WASI preview 1: commands (`_start`) and libraries (`--invoke`).

use wasmtime::{Engine, Extern, Func, Linker, Module, Store, Trap, Val, ValType, WasmBacktrace};
use wasmtime_wasi::p1::WasiP1Ctx;

use super::limits::StoreLimiter;
use super::{HostError, Outcome, RunRequest, Timings, timed};

const WASI_P1: &str = "wasi_snapshot_preview1";

struct State {
    wasi: WasiP1Ctx,
    limiter: StoreLimiter,
}

pub fn run(
    engine: &Engine,
    module: &Module,
    req: &RunRequest,
    timings: &mut Timings,
) -> anyhow::Result<Outcome> {
    if req.grants.wants_network() {
        return Err(HostError::NetworkNeedsComponent(
            "--allow-tcp/--allow-udp need a component: this is a core module".into(),
        )
        .into());
    }
    let unsupported: Vec<String> = module
        .imports()
        .filter(|i| i.module() != WASI_P1)
        .map(|i| {
            format!(
                "`{}::{}`",
                wasmforge_build::text::Untrusted(i.module()),
                wasmforge_build::text::Untrusted(i.name())
            )
        })
        .collect();
    if !unsupported.is_empty() {
        return Err(HostError::UnsupportedImports(unsupported).into());
    }

    let mut linker: Linker<State> = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s| &mut s.wasi)?;
    // Exit codes pass through as a native program's do (README: 0–255 as they are, others 1).
    // Wasmtime's own proc_exit traps on 126 and above, which a C `return 200` reaches.
    linker.allow_shadowing(true);
    linker.func_wrap(WASI_P1, "proc_exit", |code: i32| -> wasmtime::Result<()> {
        Err(wasmtime_wasi::I32Exit(code).into())
    })?;
    // Linking happens before the guest exists: an import nobody provides, or one with another
    // signature, is the module's mismatch with this host (exit 1), not a trap.
    let pre = linker
        .instantiate_pre(module)
        .map_err(|e| HostError::link("module", e))?;
    let mut argv = vec![req.program.clone()];
    if req.invoke.is_none() {
        argv.extend(req.args.iter().cloned());
    }
    let wasi = req.grants.run_builder(&argv, &req.tails)?.build_p1();
    let mut store = Store::new(
        engine,
        State {
            wasi,
            limiter: StoreLimiter::new(&req.limits),
        },
    );
    store.limiter(|s| &mut s.limiter);
    super::limits::arm(&mut store, &req.limits)?;

    let instance = match timed(&mut timings.instantiate, || pre.instantiate(&mut store)) {
        Ok(instance) => instance,
        Err(err) => return classify_instantiation(err, &store, req),
    };
    let exports = function_exports(module);

    let Some(name) = &req.invoke else {
        let Some(start) = instance.get_func(&mut store, "_start") else {
            return Err(HostError::NotACommand {
                exports: super::escaped(exports),
            }
            .into());
        };
        let result = timed(&mut timings.run, || start.call(&mut store, &[], &mut []));
        return match result {
            Ok(()) => Ok(Outcome::Exited(0)),
            Err(err) => classify(err, &store, req),
        };
    };

    let func = match instance.get_export(&mut store, name) {
        Some(Extern::Func(func)) => func,
        _ => {
            return Err(HostError::NoSuchExport {
                name: name.clone(),
                exports: super::escaped(exports),
            }
            .into());
        }
    };
    let params = parse_params(&func, &store, name, &req.args)?;
    let mut results = vec![Val::I32(0); func.ty(&store).results().len()];
    let result = timed(&mut timings.run, || -> wasmtime::Result<()> {
        // A reactor sets itself up in `_initialize` before any export may be called.
        if let Some(init) = instance.get_func(&mut store, "_initialize") {
            init.call(&mut store, &[], &mut [])?;
        }
        func.call(&mut store, &params, &mut results)
    });
    match result {
        Ok(()) => Ok(Outcome::Returned(results.iter().map(format_val).collect())),
        Err(err) => classify(err, &store, req),
    }
}

fn function_exports(module: &Module) -> Vec<String> {
    module
        .exports()
        .filter(|e| e.ty().func().is_some() && !e.name().starts_with('_'))
        .map(|e| e.name().to_string())
        .collect()
}

/// Turns an error from the guest into how the run ended (an exit, a limit, or a trap).
fn classify(
    err: wasmtime::Error,
    store: &Store<State>,
    req: &RunRequest,
) -> anyhow::Result<Outcome> {
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Ok(Outcome::Exited(exit.0));
    }
    Ok(classify_trap(err, store.data().limiter.hit.clone(), req))
}

/// An error while instantiating: the start function's exit or trap, a limit, or (anything else)
/// a host-side failure before the guest ran, such as a shared memory this host cannot create.
fn classify_instantiation(
    err: wasmtime::Error,
    store: &Store<State>,
    req: &RunRequest,
) -> anyhow::Result<Outcome> {
    if err.downcast_ref::<Trap>().is_some()
        || err.downcast_ref::<wasmtime_wasi::I32Exit>().is_some()
        || store.data().limiter.hit.is_some()
    {
        return classify(err, store, req);
    }
    Err(HostError::instantiation("module", err).into())
}

/// Shared with components: limits first (their trap says which limit), then traps.
pub(super) fn classify_trap(
    err: wasmtime::Error,
    limit_hit: Option<String>,
    req: &RunRequest,
) -> Outcome {
    if let Some(message) = limit_hit {
        return Outcome::LimitHit(message);
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Outcome::TimedOut(req.limits.timeout.unwrap_or_default()),
        Some(Trap::OutOfFuel) => Outcome::OutOfFuel(req.limits.fuel.unwrap_or_default()),
        Some(Trap::MemoryOutOfBounds) => {
            let fault = fault_address(&err);
            let (message, hint) = match fault {
                Some(address) if below_zero(address) => (
                    format!(
                        "{} at address {address:#x}, just below 0: the program ran out of stack",
                        Trap::MemoryOutOfBounds
                    ),
                    Some(STACK_HINT.to_string()),
                ),
                Some(address) => (
                    format!("{} at address {address:#x}", Trap::MemoryOutOfBounds),
                    None,
                ),
                None => (Trap::MemoryOutOfBounds.to_string(), None),
            };
            Outcome::Trapped {
                message,
                backtrace: err.downcast_ref::<WasmBacktrace>().map(|bt| bt.to_string()),
                hint,
            }
        }
        Some(Trap::StackOverflow) => Outcome::Trapped {
            message: Trap::StackOverflow.to_string(),
            backtrace: err.downcast_ref::<WasmBacktrace>().map(|bt| bt.to_string()),
            hint: Some(format!(
                "the guest's calls went deeper than its Wasm stack ({}): a deep but finite \
                 recursion passes with a larger one, `--max-wasm-stack 8MiB` (Go's does: its \
                 stacks grow as deep as they need natively); an endless one traps at any size",
                crate::output::human_size(req.limits.wasm_stack() as u64)
            )),
        },
        Some(trap) => Outcome::Trapped {
            message: trap.to_string(),
            backtrace: err.downcast_ref::<WasmBacktrace>().map(|bt| bt.to_string()),
            hint: None,
        },
        None => Outcome::Trapped {
            message: format!("{err:#}"),
            backtrace: err.downcast_ref::<WasmBacktrace>().map(|bt| bt.to_string()),
            hint: None,
        },
    }
}

/// How a program that ran out of stack gets more.
const STACK_HINT: &str = "give it a larger stack: a C project built by wasmforge takes \
    `[c] stack-size = \"8MiB\"` in wasmforge.toml (1MiB by default); other builds link with \
    `-z stack-size=BYTES` (clang: `-Wl,-z,stack-size=BYTES`, rustc: `-C link-arg=-zstack-size=BYTES`)";

/// The address of a memory fault, from Wasmtime's context line ("memory fault at wasm address
/// 0x… in linear memory of size 0x…"; its type is not public).
fn fault_address(err: &wasmtime::Error) -> Option<u64> {
    err.chain().find_map(|cause| {
        let text = cause.to_string();
        let rest = text.strip_prefix("memory fault at wasm address 0x")?;
        let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
        u64::from_str_radix(&hex, 16).ok()
    })
}

/// Whether a fault address is a small negative one in a 32-bit memory: a stack placed first
/// (wasm-ld's `--stack-first`, rustc's default) that grew past its bottom wraps there.
fn below_zero(address: u64) -> bool {
    (0xF000_0000..1 << 32).contains(&address)
}

fn signature(func: &Func, store: &Store<State>, name: &str) -> String {
    let ty = func.ty(store);
    let params: Vec<String> = ty.params().map(|p| p.to_string()).collect();
    let results: Vec<String> = ty.results().map(|r| r.to_string()).collect();
    format!("{name}({}) -> ({})", params.join(", "), results.join(", "))
}

fn parse_params(
    func: &Func,
    store: &Store<State>,
    name: &str,
    args: &[String],
) -> anyhow::Result<Vec<Val>> {
    let ty = func.ty(store);
    if ty.params().len() != args.len() {
        return Err(HostError::WrongArgCount {
            name: name.to_string(),
            expected: ty.params().len(),
            given: args.len(),
            signature: signature(func, store, name),
        }
        .into());
    }
    ty.params()
        .zip(args)
        .enumerate()
        .map(|(index, (ty, arg))| {
            parse_val(&ty, arg).map_err(|_| {
                HostError::BadArg {
                    name: name.to_string(),
                    index: index + 1,
                    ty: ty.to_string(),
                    value: arg.clone(),
                }
                .into()
            })
        })
        .collect()
}

fn parse_val(ty: &ValType, text: &str) -> anyhow::Result<Val> {
    let int = |bits: u32| -> anyhow::Result<i128> {
        let text = text.replace('_', "");
        let value: i128 = match text.strip_prefix("0x") {
            Some(hex) => i128::from_str_radix(hex, 16)?,
            None => text.parse()?,
        };
        let min = -(1i128 << (bits - 1));
        let max = (1i128 << bits) - 1;
        anyhow::ensure!((min..=max).contains(&value), "out of range");
        Ok(value)
    };
    Ok(match ty {
        ValType::I32 => Val::I32(int(32)? as u32 as i32),
        ValType::I64 => Val::I64(int(64)? as u64 as i64),
        ValType::F32 => Val::F32(text.parse::<f32>()?.to_bits()),
        ValType::F64 => Val::F64(text.parse::<f64>()?.to_bits()),
        ValType::V128 => {
            let value = match text.strip_prefix("0x") {
                Some(hex) => u128::from_str_radix(hex, 16)?,
                None => text.parse()?,
            };
            Val::V128(value.into())
        }
        ValType::Ref(_) => anyhow::bail!("reference arguments cannot be given on the command line"),
    })
}

fn format_val(val: &Val) -> String {
    match val {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::V128(v) => format!("{:#034x}", v.as_u128()),
        Val::FuncRef(None)
        | Val::ExternRef(None)
        | Val::AnyRef(None)
        | Val::ExnRef(None)
        | Val::ContRef(None) => "null".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_arguments() {
        assert_eq!(
            parse_val(&ValType::I32, "-1").ok().and_then(|v| v.i32()),
            Some(-1)
        );
        assert_eq!(
            parse_val(&ValType::I32, "4294967295")
                .ok()
                .and_then(|v| v.i32()),
            Some(-1)
        );
        assert!(parse_val(&ValType::I32, "4294967296").is_err());
        assert_eq!(
            parse_val(&ValType::I64, "0x10").ok().and_then(|v| v.i64()),
            Some(16)
        );
        assert_eq!(
            parse_val(&ValType::F64, "2.5").ok().and_then(|v| v.f64()),
            Some(2.5)
        );
        assert_eq!(
            parse_val(&ValType::F32, "-0.5").ok().and_then(|v| v.f32()),
            Some(-0.5)
        );
        assert!(parse_val(&ValType::I32, "forty-two").is_err());
        assert_eq!(format_val(&Val::F64(1.5f64.to_bits())), "1.5");
    }
}
