# DESIGN.md's dependency DAG, checked on the resolved graph.
bash .ci/check-deps.sh
