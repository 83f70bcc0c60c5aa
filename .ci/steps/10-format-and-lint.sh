# Formatting and clippy (warnings are errors) on every crate and target.
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
