# Ablation: T2 with per-stage FiLM illumination guidance of the backbone
# (8 guide channels) as well as log L at its stem (the night-sample T2
# before the guidance moved to the stem; val AP@0.5 71.0 against 73.4,
# seed 0, in configs/t2/README.md). The guidance learns 5x faster than the
# pretrained weights, as the other T2 additions.
_base_ = ['../t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py']

model = dict(detector=dict(backbone=dict(mode='film', guide_channels=8)))
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'detector.backbone.heads': dict(lr_mult=5.0),
            'detector.backbone.encoder': dict(lr_mult=5.0)
        }))
