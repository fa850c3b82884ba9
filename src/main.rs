//! The `pitchmatch` binary: all behaviour lives in the library.
fn main() -> std::process::ExitCode {
    pitchmatch::cli::main()
}
