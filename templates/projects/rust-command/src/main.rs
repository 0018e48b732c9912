//! A WebAssembly command: `wasmforge run . -- Ada`. Its tests run in the sandbox too:
//! `wasmforge test`.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "world".to_string());
    println!("{}", greeting(&name));
}

fn greeting(name: &str) -> String {
    format!("Hello, {name}! (from {{name}}, Rust compiled to WebAssembly)")
}

#[cfg(test)]
mod tests {
    #[test]
    fn greets_by_name() {
        assert!(super::greeting("Ada").starts_with("Hello, Ada!"));
    }
}
