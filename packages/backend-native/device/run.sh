#!/usr/bin/env bash
# The CUDA device check, on the GPU machine (CUDA driver, PyTorch with its nvidia-cublas wheel, no Node): unpacks the
# carried node, points the addon at the cuBLAS of PyTorch's wheel, and runs device/dist/check.mjs. Prepared by
# device/prepare.mjs; see device/README.md. Figures go to stdout and $OUT/device-check.json.
set -euo pipefail
cd "$(dirname "$0")/../../.."
pkg=packages/backend-native
out=${OUT:-/tmp/xlt-device-check}
mkdir -p "$out"
node=/tmp/xlt-node
xz -dc "$pkg/device/dist/node.xz" > "$node"
chmod +x "$node"
python=${XLT_PYTHON:-python3}
nvidia=$("$python" -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null || true)
if [ -n "$nvidia" ]; then
  for lib in "$nvidia"/nvidia/*/lib; do LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"; done
  export LD_LIBRARY_PATH
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
"$python" -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)'
"$node" --version
exec "$node" "$pkg/device/dist/check.mjs" \
  --addon "$pkg/build-cuda/gpu/xlt_cuda.node" \
  --reference-curve "$pkg/device/dist/cpu-loss-curve.json" \
  --reference-script packages/plugin-api/reference/backend_reference.py \
  --torch "$pkg/device/torch_step.py" --python "$python" --out "$out" "$@"
