# Sourced by the scripts: one BLAS thread per process, and an OpenBLAS kernel that this
# CPU runs correctly. OpenBLAS 0.3.21 does not know recent CPUs and falls back to slow
# generic kernels; OPENBLAS_CORETYPE must be set before the process starts (see
# docs/ARCHITECTURE.md, "Numerics"). A value already in the environment wins.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=Haswell
  fi
fi
