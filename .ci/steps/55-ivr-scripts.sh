# Every script in ivr-scripts/ must pass `ivrd check` (warnings too), have every prompt in
# both packs, and pass its designer test cases (`ivrd test`, branch coverage per script).
ivrd() { cargo run --quiet --locked -p ivrd -- "$@"; }
ivrd check --deny-warnings ivr-scripts
ivrd prompts check ivr-scripts/prompts ivr-scripts
ivrd test --min-coverage 90 ivr-scripts
