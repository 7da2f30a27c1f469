// Benchmarks run by scripts/bench.sh.
