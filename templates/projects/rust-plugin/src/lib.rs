//! A plugin: a WASI 0.2 component exporting the `transform` interface of `wit/world.wit`.
//!
//!   wasmforge build --target wasip2
//!   wasmforge run --invoke 'wasmforge:plugin/transform#transform' . '"abc"'

wit_bindgen::generate!({ world: "plugin", path: "wit" });

use exports::wasmforge::plugin::transform::Guest;

struct Plugin;

impl Guest for Plugin {
    fn transform(input: String) -> String {
        input.to_uppercase()
    }
}

export!(Plugin);

// `wasmforge test` runs this in the sandbox, built for the plugin's target.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_uppercases() {
        assert_eq!(Plugin::transform("abc".into()), "ABC");
    }
}
