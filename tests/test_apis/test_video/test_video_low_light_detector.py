"""Video inference with the project's own LowLightDetector."""
import cv2
import numpy as np
import pytest
import torch

from lowlight.apis import VideoInferencer
from lowlight.testing import (make_video, read_frames, read_jsonl,
                              tiny_detector_config)


def _low_light_config(tmp_path, mode):
    cfg = tiny_detector_config()
    detector = cfg.model.copy()
    preprocessor = detector.pop('data_preprocessor')
    cfg.model = dict(
        type='LowLightDetector',
        data_preprocessor=preprocessor,
        mode=mode,
        enhancer=dict(type='RetinexDecomposer'),
        detector=detector)
    return cfg


def test_decomposition_video_of_low_light_detector(tmp_path):
    torch.manual_seed(0)
    inferencer = VideoInferencer(
        _low_light_config(tmp_path, 'joint'), score_thr=0.0)
    assert type(inferencer.model).__name__ == 'LowLightDetector'
    video = make_video(tmp_path / 'night.mp4', num_frames=4, size=(128, 72))
    out = tmp_path / 'out'
    summary = inferencer.run([str(video)],
                             out,
                             save_video=True,
                             show_decomposition=True,
                             progress=False)
    assert summary['done'] == 1
    records = read_jsonl(out / 'night.mp4' / 'detections.jsonl')
    assert len(records) == 4 and all(r['detections'] for r in records)
    assert max(d['bbox'][2] for r in records for d in r['detections']) > 64

    panels = read_frames(out / 'night.mp4' / 'decomposition.mp4')
    assert len(panels) == 4 and panels[0].shape == (72, 3 * 128, 3)
    frame = read_frames(video)[2]
    assert np.abs(panels[2][:, :128].astype(int) - frame).mean() < 6
    # the middle panel is the model's illumination at the frame's size
    (pred, ) = inferencer.predict([inferencer.preprocess(frame)],
                                  with_decomposition=True)
    illumination = pred['illumination']
    assert illumination.min() > 0 and illumination.max() <= 1
    assert pred['reflectance'].shape[:2] == illumination.shape[:2]
    expected = cv2.resize(
        np.clip(illumination * 255 + 0.5, 0, 255).astype(np.uint8), (128, 72))
    if expected.ndim == 3:
        expected = cv2.cvtColor(expected, cv2.COLOR_RGB2GRAY)
    got = cv2.cvtColor(panels[2][:, 128:256], cv2.COLOR_BGR2GRAY)
    assert np.abs(got.astype(int) - expected).mean() < 6


def test_one_enhancer_pass_per_batch_with_the_decomposition(tmp_path):
    torch.manual_seed(0)
    inferencer = VideoInferencer(
        _low_light_config(tmp_path, 'frozen'), batch_size=2, score_thr=0.0)
    calls = []
    inferencer.model.enhancer.register_forward_hook(
        lambda module, args, output: calls.append(args[0].shape[0]))
    video = make_video(tmp_path / 'night.mp4', num_frames=4, size=(96, 64))
    summary = inferencer.run([str(video)],
                             tmp_path / 'out',
                             show_decomposition=True,
                             progress=False)
    assert summary['done'] == 1
    # the 32 px probe of check_decomposition, then one pass per batch
    assert calls == [1, 2, 2]


def test_decomposition_needs_an_enhancer(tmp_path):
    inferencer = VideoInferencer(_low_light_config(tmp_path, 'none'))
    with pytest.raises(ValueError, match='decompose.. failed'):
        inferencer.run([str(tmp_path)],
                       tmp_path / 'out',
                       show_decomposition=True)
