//! A WASI command: prints a greeting, its arguments and one environment variable if granted.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map(String::as_str).unwrap_or("world");
    println!("Hello, {name}! (from Rust, compiled to WebAssembly)");
}
