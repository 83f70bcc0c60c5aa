# Every script in ivr-scripts/ must pass `ivrd check` (warnings too) and its designer test
# cases (`ivrd test`), with branch coverage reported per script.
cargo build -p ivrd --locked --quiet
./target/debug/ivrd check --deny-warnings ivr-scripts
./target/debug/ivrd prompts check ivr-scripts/prompts ivr-scripts
./target/debug/ivrd test --min-coverage 90 ivr-scripts
