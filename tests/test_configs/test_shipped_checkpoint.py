"""The shipped day-corpus checkpoint: named and listed by its sha256, loads
with weights_only=True, and is what the night-sample configs fine-tune."""
import hashlib
from pathlib import Path

import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from lowlight.engine.pretrained import load_pretrained

REPO = Path(__file__).resolve().parents[2]
SUMS = REPO / 'checkpoints' / 'SHA256SUMS'
MAIN = REPO / 'configs' / 't2' / \
    't2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py'


def test_every_shipped_checkpoint_matches_its_sha256():
    listed = dict(
        reversed(line.split()) for line in SUMS.read_text().splitlines()
        if line.strip())
    shipped = sorted(p.name for p in (REPO / 'checkpoints').glob('*.pth'))
    assert shipped and sorted(listed) == shipped
    for name, digest in listed.items():
        data = (REPO / 'checkpoints' / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
        assert name.endswith(f'-{digest[:8]}.pth'), name
        assert len(data) < 20 * 2**20


def test_the_main_job_fine_tunes_the_shipped_checkpoint():
    init_default_scope('mmdet')
    cfg = Config.fromfile(str(MAIN))
    path = REPO / cfg.load_from
    assert path.parent == REPO / 'checkpoints' and path.is_file()
    saved = torch.load(path, weights_only=True)
    assert saved['meta']['dataset_meta']['classes'][0] == 'Bicycle'
    model = MODELS.build(cfg.model)
    load_pretrained(model, str(path))
    state = model.state_dict()
    key = 'detector.backbone.backbone.conv1.conv.weight'
    assert torch.equal(state[key],
                       saved['state_dict']['detector.backbone.conv1.conv.'
                                           'weight'].float())
