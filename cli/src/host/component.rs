//! Components under WASI 0.2: commands through `wasi:cli/run`, and exported functions called
//! with `--invoke` and WAVE-encoded arguments.

use wasmtime::component::{Component, Func, Instance, Linker, ResourceTable, Type, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::core::classify_trap;
use super::limits::StoreLimiter;
use super::{HostError, Outcome, RunRequest, Timings, timed};

struct State {
    ctx: WasiCtx,
    table: ResourceTable,
    limiter: StoreLimiter,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

pub fn run(
    engine: &Engine,
    component: &Component,
    req: &RunRequest,
    timings: &mut Timings,
) -> anyhow::Result<Outcome> {
    let ty = component.component_type();
    let unsupported: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name)
        .filter(|name| !name.starts_with("wasi:"))
        .map(|n| format!("`{}`", wasmforge_build::text::Untrusted(n)))
        .collect();
    if !unsupported.is_empty() {
        return Err(HostError::UnsupportedComponentImports(unsupported).into());
    }
    let export_names: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let functions = exported_functions(engine, &ty);
    let invoke = match &req.invoke {
        Some(name) => Some(resolve_invoke(name, &functions)?),
        None => None,
    };

    // An HTTP component may also export `wasi:cli/run` (Rust's `main` is kept), which does
    // nothing useful: what it is for is answering requests.
    if invoke.is_none()
        && export_names
            .iter()
            .any(|n| n.starts_with("wasi:http/incoming-handler@"))
    {
        return Err(HostError::HttpComponent {
            path: req.path.clone(),
        }
        .into());
    }
    let mut linker: Linker<State> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    // An interface nobody provides fails here, before the guest exists (exit 1, not a trap).
    let pre = linker
        .instantiate_pre(component)
        .map_err(|e| HostError::link("component", e))?;
    let mut argv = vec![req.program.clone()];
    if req.invoke.is_none() {
        argv.extend(req.args.iter().cloned());
    }
    let ctx = req.grants.run_builder(&argv, &req.tails)?.build();
    let state = State {
        ctx,
        table: ResourceTable::new(),
        limiter: StoreLimiter::new(&req.limits),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    super::limits::arm(&mut store, &req.limits)?;

    let Some(name) = &invoke else {
        if !export_names.iter().any(|n| n.starts_with("wasi:cli/run@")) {
            return Err(HostError::NotAComponentCommand {
                exports: super::escaped(export_names),
            }
            .into());
        }
        let command = match timed(&mut timings.instantiate, || {
            wasmtime_wasi::p2::bindings::sync::CommandPre::new(pre.clone())
                .and_then(|pre| pre.instantiate(&mut store))
        }) {
            Ok(command) => command,
            Err(err) => return classify_instantiation(err, &store, req),
        };
        let result = timed(&mut timings.run, || {
            command.wasi_cli_run().call_run(&mut store)
        });
        return match result {
            Ok(ok) => Ok(Outcome::ComponentResult(ok.is_ok())),
            Err(err) => classify(err, &store, req),
        };
    };

    let instance = match timed(&mut timings.instantiate, || pre.instantiate(&mut store)) {
        Ok(instance) => instance,
        Err(err) => return classify_instantiation(err, &store, req),
    };
    let Some(func) = find_func(&instance, &mut store, name) else {
        return Err(HostError::NoSuchExport {
            name: name.clone(),
            exports: super::escaped(functions),
        }
        .into());
    };
    let func_ty = func.ty(&store);
    let params: Vec<(String, Type)> = func_ty.params().map(|(n, t)| (n.to_string(), t)).collect();
    let result_count = func_ty.results().len();
    if params.len() != req.args.len() {
        let signature = format!(
            "{name}({})",
            params
                .iter()
                .map(|(n, t)| format!("{n}: {}", type_name(t)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Err(HostError::WrongArgCount {
            name: name.clone(),
            expected: params.len(),
            given: req.args.len(),
            signature,
        }
        .into());
    }
    let mut values = Vec::with_capacity(params.len());
    for (index, ((_, ty), arg)) in params.iter().zip(&req.args).enumerate() {
        let value = wasm_wave::from_str::<Val>(ty, arg).map_err(|_| HostError::BadArg {
            name: name.clone(),
            index: index + 1,
            ty: type_name(ty),
            value: arg.clone(),
        })?;
        values.push(value);
    }
    let mut results = vec![Val::Bool(false); result_count];
    let call = timed(&mut timings.run, || {
        func.call(&mut store, &values, &mut results)
    });
    match call {
        Ok(()) => Ok(Outcome::Returned(
            results
                .iter()
                .map(|v| wasm_wave::to_string(v).unwrap_or_else(|_| format!("{v:?}")))
                .collect(),
        )),
        Err(err) => classify(err, &store, req),
    }
}

/// Every exported function: `func` at the top, `pkg:ns/interface@version#func` in instances.
fn exported_functions(engine: &Engine, ty: &wasmtime::component::types::Component) -> Vec<String> {
    use wasmtime::component::types::ComponentItem;
    let mut names = Vec::new();
    for (name, item) in ty.exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(_) => names.push(name.to_string()),
            ComponentItem::ComponentInstance(instance) => {
                for (member, item) in instance.exports(engine) {
                    if matches!(item.ty, ComponentItem::ComponentFunc(_)) {
                        names.push(format!("{name}#{member}"));
                    }
                }
            }
            _ => {}
        }
    }
    names
}

/// The exported function `name` means, in full: as given; `pkg:ns/interface#func` without the
/// version; or a bare `func` that one interface alone exports.
fn resolve_invoke(name: &str, functions: &[String]) -> Result<String, HostError> {
    if functions.iter().any(|f| f == name) {
        return Ok(name.to_string());
    }
    let candidates: Vec<String> = match name.rsplit_once('#') {
        Some((interface, func)) if !interface.contains('@') => functions
            .iter()
            .filter(|f| {
                f.rsplit_once('#').is_some_and(|(i, f)| {
                    f == func
                        && i.split_once('@')
                            .is_some_and(|(unversioned, _)| unversioned == interface)
                })
            })
            .cloned()
            .collect(),
        Some(_) => Vec::new(),
        None => functions
            .iter()
            .filter(|f| f.rsplit_once('#').is_some_and(|(_, f)| f == name))
            .cloned()
            .collect(),
    };
    match candidates.len() {
        1 => Ok(candidates[0].clone()),
        0 => Err(HostError::NoSuchExport {
            name: name.to_string(),
            exports: super::escaped(functions),
        }),
        _ => Err(HostError::AmbiguousExport {
            name: name.to_string(),
            candidates: super::escaped(candidates),
        }),
    }
}

/// Finds `func`, `interface#func` or `pkg:ns/interface@version#func`.
fn find_func(instance: &Instance, store: &mut Store<State>, name: &str) -> Option<Func> {
    match name.rsplit_once('#') {
        Some((interface, func)) => {
            let iface = instance.get_export_index(&mut *store, None, interface)?;
            let index = instance.get_export_index(&mut *store, Some(&iface), func)?;
            instance.get_func(&mut *store, index)
        }
        None => instance.get_func(&mut *store, name),
    }
}

/// A component type as WIT writes it: `list<list<u8>>`, `option<string>`,
/// `result<u32, string>`, `record { x: f64, y: f64 }`. Records, variants, enums and flags are
/// spelled out (the names WIT gave them are not in the binary's types); resources are
/// `own<resource>` and `borrow<resource>`. Field and case names come from the component and are
/// escaped.
fn type_name(ty: &Type) -> String {
    use wasmforge_build::text::Untrusted;
    let list = |types: &mut dyn Iterator<Item = String>| types.collect::<Vec<_>>().join(", ");
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(l) => format!("list<{}>", type_name(&l.ty())),
        Type::FixedLengthList(l) => format!("list<{}, {}>", type_name(&l.ty()), l.len()),
        Type::Map(m) => format!("map<{}, {}>", type_name(&m.key()), type_name(&m.value())),
        Type::Record(r) => format!(
            "record {{ {} }}",
            list(
                &mut r
                    .fields()
                    .map(|f| format!("{}: {}", Untrusted(f.name), type_name(&f.ty)))
            )
        ),
        Type::Tuple(t) => format!("tuple<{}>", list(&mut t.types().map(|t| type_name(&t)))),
        Type::Variant(v) => format!(
            "variant {{ {} }}",
            list(&mut v.cases().map(|c| match &c.ty {
                Some(ty) => format!("{}({})", Untrusted(c.name), type_name(ty)),
                None => Untrusted(c.name).to_string(),
            }))
        ),
        Type::Enum(e) => format!(
            "enum {{ {} }}",
            list(&mut e.names().map(|n| Untrusted(n).to_string()))
        ),
        Type::Flags(f) => format!(
            "flags {{ {} }}",
            list(&mut f.names().map(|n| Untrusted(n).to_string()))
        ),
        Type::Option(o) => format!("option<{}>", type_name(&o.ty())),
        Type::Result(r) => match (r.ok(), r.err()) {
            (None, None) => "result".into(),
            (Some(ok), None) => format!("result<{}>", type_name(&ok)),
            (None, Some(err)) => format!("result<_, {}>", type_name(&err)),
            (Some(ok), Some(err)) => format!("result<{}, {}>", type_name(&ok), type_name(&err)),
        },
        Type::Own(_) => "own<resource>".into(),
        Type::Borrow(_) => "borrow<resource>".into(),
        Type::Future(f) => match f.ty() {
            Some(ty) => format!("future<{}>", type_name(&ty)),
            None => "future".into(),
        },
        Type::Stream(s) => match s.ty() {
            Some(ty) => format!("stream<{}>", type_name(&ty)),
            None => "stream".into(),
        },
        Type::ErrorContext => "error-context".into(),
    }
}

/// Like the core module's: the guest's trap, exit or limit, else a host-side failure.
fn classify_instantiation(
    err: wasmtime::Error,
    store: &Store<State>,
    req: &RunRequest,
) -> anyhow::Result<Outcome> {
    if err.downcast_ref::<wasmtime::Trap>().is_some()
        || err.downcast_ref::<wasmtime_wasi::I32Exit>().is_some()
        || store.data().limiter.hit.is_some()
    {
        return classify(err, store, req);
    }
    Err(HostError::instantiation("component", err).into())
}

fn classify(
    err: wasmtime::Error,
    store: &Store<State>,
    req: &RunRequest,
) -> anyhow::Result<Outcome> {
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        // wasi:cli/exit can only say ok or err.
        return Ok(Outcome::ComponentResult(exit.0 == 0));
    }
    Ok(classify_trap(err, store.data().limiter.hit.clone(), req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_names_resolve_in_full_without_version_or_alone_when_unambiguous() {
        let functions: Vec<String> = [
            "wasmforge:plugin/transform@0.1.0#transform",
            "wasmforge:plugin/other@0.1.0#transform",
            "wasmforge:plugin/other@0.1.0#count",
            "hello",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let full = "wasmforge:plugin/transform@0.1.0#transform";
        assert_eq!(resolve_invoke(full, &functions).ok().as_deref(), Some(full));
        assert_eq!(
            resolve_invoke("wasmforge:plugin/transform#transform", &functions)
                .ok()
                .as_deref(),
            Some(full)
        );
        assert_eq!(
            resolve_invoke("hello", &functions).ok().as_deref(),
            Some("hello")
        );
        assert_eq!(
            resolve_invoke("count", &functions).ok().as_deref(),
            Some("wasmforge:plugin/other@0.1.0#count")
        );
        match resolve_invoke("transform", &functions) {
            Err(HostError::AmbiguousExport { candidates, .. }) => assert_eq!(candidates.len(), 2),
            other => panic!("ambiguous, not {other:?}"),
        }
        assert!(matches!(
            resolve_invoke("wasmforge:plugin/transform@9.9.9#transform", &functions),
            Err(HostError::NoSuchExport { .. })
        ));
    }
}
