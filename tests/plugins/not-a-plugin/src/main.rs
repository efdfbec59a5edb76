//! A command component (`wasi:cli/run`), not a Moja plugin: the runtime must refuse to load it.

fn main() {
    println!("I am not a plugin");
}
