#!/usr/bin/env bash
# Installs lowlight and everything it needs into a project-local virtual
# environment (.venv/ in the repository root). Idempotent: a second run only
# checks, and a rebuilt mmcv comes from pip's wheel cache in seconds.
#
# Environment variables:
#   LOWLIGHT_VENV         where the venv goes (default: <repo>/.venv)
#   LOWLIGHT_PYTHON       interpreter that creates the venv (default: python3)
#   LOWLIGHT_TORCH        torch requirement (default: torch==2.13.0); a torch
#                         already installed in the venv is kept
#   LOWLIGHT_TORCH_INDEX  extra index URL for torch (e.g. a CUDA wheel index)
#   MAX_JOBS              parallel compile jobs for the mmcv build (default: nproc)
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LOWLIGHT_VENV:-$ROOT/.venv}"
BASE_PY="${LOWLIGHT_PYTHON:-python3}"
TORCH_REQ="${LOWLIGHT_TORCH:-torch==2.13.0}"
export MAX_JOBS="${MAX_JOBS:-$(nproc 2>/dev/null || echo 2)}"

STEP="start"
HINT=""
step() {  # step NAME HINT: announce a step and what to do if it fails
  STEP="$1"; HINT="$2"
  printf '\n[install] %s  (%s)\n' "$STEP" "$(date +%H:%M:%S)"
}
on_error() {
  printf '\n[install] FAILED at step: %s\n[install] what to do: %s\n' "$STEP" "$HINT" >&2
}
trap on_error ERR

step "create virtual environment at $VENV" \
  "install the venv module of your Python (Debian: apt-get install python3-venv) or set LOWLIGHT_PYTHON"
if [ ! -x "$VENV/bin/python" ]; then
  "$BASE_PY" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
"$PY" -c 'import sys; assert sys.version_info >= (3, 9), sys.version' \
  || { echo "[install] Python >= 3.9 is needed, found $("$PY" -V)"; false; }

step "torch" \
  "set LOWLIGHT_TORCH to a torch requirement that exists for your machine (and LOWLIGHT_TORCH_INDEX for its index)"
if TORCH_FOUND=$("$PY" -c 'from importlib.metadata import version; print(version("torch"))' 2>/dev/null); then
  echo "[install] keeping installed torch $TORCH_FOUND"
else
  TORCH_ARGS=("$TORCH_REQ")
  [ -n "${LOWLIGHT_TORCH_INDEX:-}" ] && TORCH_ARGS+=(--extra-index-url "$LOWLIGHT_TORCH_INDEX")
  "${PIP[@]}" install -q "${TORCH_ARGS[@]}"
fi

step "build tools and what the mmcv build imports (setuptools>=77,<82, wheel, ninja, numpy, opencv-python, addict, yapf, packaging, pillow, pyyaml)" \
  "check network access to PyPI; setuptools must stay < 82 (no pkg_resources after that)"
"${PIP[@]}" install -q 'setuptools>=77,<82' wheel ninja numpy opencv-python \
  addict yapf packaging pillow pyyaml

step "mmcv 2.1.0 with compiled ops (first build: 10-20 minutes on 2 cores)" \
  "a C++ compiler and the Python headers are needed (Debian: apt-get install build-essential python3-dev); see the build log above"
if [ "$("$PY" -c 'from importlib.metadata import version; print(version("mmcv"))' 2>/dev/null)" = "2.1.0" ]; then
  echo "[install] mmcv 2.1.0 already installed (its ops are checked below)"
else
  MMCV_WITH_OPS=1 "${PIP[@]}" install --no-build-isolation 'mmcv==2.1.0'
fi

step "mmengine, mmdet 3.3.0, albumentations, test tools and lowlight (editable)" \
  "check network access to PyPI; see pip's message above"
"${PIP[@]}" install -q --no-build-isolation -e "$ROOT[tests]"

step "check compiled mmcv ops on CPU (nms, DCNv2 forward and backward) and import lowlight" \
  "if mmcv.ops failed, mmcv was built against another torch: run '$PY -m pip uninstall -y mmcv', then PIP_NO_CACHE_DIR=1 bash tools/install.sh"
"$PY" - <<'PYCHECK'
import torch
from mmcv.ops import ModulatedDeformConv2dPack, nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
_, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
assert keep.tolist() == [0, 2], keep
dcn = ModulatedDeformConv2dPack(4, 4, 3, padding=1)
x = torch.randn(1, 4, 8, 8, requires_grad=True)
dcn(x).sum().backward()
assert x.grad is not None and torch.isfinite(x.grad).all()
print('[install] mmcv.ops OK: nms and ModulatedDeformConv2d (DCNv2) forward/backward on CPU')
import lowlight
print(f'[install] lowlight {lowlight.__version__} OK in {lowlight.__file__}')
PYCHECK

trap - ERR
printf '\n[install] done. Activate with: source %s/bin/activate\n' "$VENV"
