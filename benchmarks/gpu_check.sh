#!/usr/bin/env bash
# The GPU check, for a machine with a CUDA device and a python3 whose torch is a CUDA build:
#   1. tests/test_cuda.py (the one trainer's gradients against the CPU's, training and encoding on the device);
#   2. the suite's gpu section (training throughput on CUDA: MLP and conv, batch 128 and 1024, vs the matmul rate);
#   3. the default pipeline with device=cuda on every core, stopped after $PIPELINE_LIMIT seconds (default 300).
# Writes its outputs to $OUT (default ./gpu-check). Where python3 lacks Snakemake, wheels in .whl/ are installed to
# /tmp/site first (how to fetch them for another machine: /work/.library/device/README.md, or `pip download`).
#
#     bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check}
mkdir -p "$out"
if ! python3 -c "import snakemake" 2>/dev/null && [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD/workflow" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())" \
    | tee -a "$out/nvidia-smi.txt"

python3 -m pytest tests/test_cuda.py -q --noconftest -p no:cacheprovider 2>&1 | tee "$out/test_cuda.txt"
python3 benchmarks/suite.py --only gpu --csv "$out/gpu.csv" 2>&1 | tee "$out/gpu_suite.txt"

start=$(date +%s)
timeout "${PIPELINE_LIMIT:-300}" python3 -m snakemake --cores "$(nproc)" --config device=cuda >"$out/snakemake.txt" 2>&1
echo "snakemake exit $? after $(($(date +%s) - start)) s" | tee -a "$out/snakemake.txt"
tail -n 5 "$out/snakemake.txt"
# What shows the device was used, and what each job cost: logs, job benchmarks, run metadata, the summary tables.
tar czf "$out/results.tgz" --ignore-failed-read results/logs results/benchmarks results/stats \
    $(find results/models -name meta.json 2>/dev/null) results/figures/data 2>/dev/null
ls -la "$out"
