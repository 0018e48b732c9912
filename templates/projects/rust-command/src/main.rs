//! A WebAssembly command: `wasmforge run . -- Ada`.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "world".to_string());
    println!("Hello, {name}! (from {{name}}, Rust compiled to WebAssembly)");
}
