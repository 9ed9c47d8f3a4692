# T2 on the light YOLOv3-MobileNetV2, fine-tuned on the embedded night
# sample from the plain detector pretrained on the day corpus (the sample's
# stand-in for COCO, configs/pretrain/), as every published low-light
# detector starts from normal-light weights: the base of the CPU main job
# (tools/run_main_job.sh) and of the night-sample ablations. From random
# weights: --cfg-options load_from=None.
# Sized for about 10 minutes of training on 2 CPU cores: 400 train images at
# 256 px (the long side), 8 epochs, batch 16, AdamW with warm-up and cosine
# decay (SGD needs far more epochs from random weights).
_base_ = [
    '../_base_/models/t2_yolov3_mobilenetv2.py',
    '../_base_/datasets/night_sample.py',
    '../_base_/default_runtime.py',
]

# CPU budget: a one-stage decomposer (no self-calibration stages), slimmer
# guidance and context than the full configs. At the defaults (3 stages,
# 16-channel calibration) the enhancer alone cost about as much as the whole
# detector at this size.
# Fine-tuning design (chosen on the val split, configs/t2/README.md): L is
# estimated at 1/8 resolution (smooth by construction), starts as the local
# bright channel (zero-initialised estimator output) and is trained by the
# enhancer's own losses only (no detection gradient, so the detector cannot
# rewrite it into an edge or object map); the backbone sees I / L^a with a
# learnt from 0, so the model starts as the pretrained detector. The
# illumination guides the backbone at its stem: log R = log I - log L and
# log L are added to its input through a zero-initialised 1x1 convolution
# (val 73.4 against 71.0 with per-stage FiLM guidance as well, seed 0; the
# FiLM ablation is ablations/t2-film_*). The aggregation neck fuses the
# levels' global summaries into one scene context that scales and shifts
# every level (GlobalAggregationNeck): no op on a feature map but the
# modulation. The spatial neck (ablations/t2-spatialagg_*) cost 1.6 ms of
# the 4 ms T2 added at 256 px on 2 CPU threads, and its val AP@0.5 was no
# higher than without aggregation (71.3 against 71.4, seeds 0-2).
model = dict(
    enhancer=dict(
        num_stages=1, illumination_scale=8, zero_init_estimator=True),
    detection_grad_scale=0.0,
    illumination_correction='learned',
    reflectance_side_input=dict(with_illumination=True),
    detector=dict(
        backbone=dict(mode='none'),
        neck=[
            {{_base_.yolov3_neck}},
            dict(
                type='GlobalAggregationNeck',
                in_channels=[96, 96, 96],
                context_channels=32)
        ]))

img_scale = (256, 256)
max_epochs = 8

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys={{_base_.meta_keys}})
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys={{_base_.meta_keys}})
]
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16, num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=16, num_workers=1, dataset=dict(pipeline=test_pipeline))

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# the T2 additions start from zero (identity) on a pretrained detector:
# they learn 5x faster than the pretrained weights (10x, without weight
# decay, for the one correction exponent)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=35, norm_type=2),
    paramwise_cfg=dict(
        custom_keys={
            'detector.neck.1': dict(lr_mult=5.0),
            'input_correction': dict(lr_mult=10.0, decay_mult=0.0),
            'reflectance_input': dict(lr_mult=5.0)
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=0.05,
        begin=0,
        end=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
auto_scale_lr = dict(enable=False, base_batch_size=16)

# progress with ETA every 5 iterations; the latest checkpoint is kept, so an
# interrupted job continues with --resume
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1))
log_processor = dict(window_size=5)
randomness = dict(seed=0)
# the published day-corpus checkpoint (sha256 in checkpoints/SHA256SUMS);
# the T2 additions it lacks start as the identity
load_from = \
    'checkpoints/yolov3_mobilenetv2_1xb8-256-6e_day-corpus-ea95db13.pth'
