#!/usr/bin/env bash
# Distributed training through torchrun.
#   bash tools/dist_train.sh CONFIG NPROC [train.py options...]
# One machine: NPROC processes (one per GPU; on CPU add
#   --cfg-options env_cfg.dist_cfg.backend=gloo).
# Several machines: run it on each with the same NNODES, MASTER_ADDR and
# PORT, and NODE_RANK=0..NNODES-1.
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1),
#   PORT (29500), PYTHON (python of .venv if present, else python).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bash $0 CONFIG NPROC [tools/train.py options...]" >&2
  exit 2
fi
CONFIG=$1
NPROC=$2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON=${PYTHON:-$([ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python)}

exec "$PYTHON" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" \
  --node_rank="${NODE_RANK:-0}" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" \
  --master_port="${PORT:-29500}" \
  --nproc_per_node="$NPROC" \
  "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
