# Runtime shared by every lowlight config (mmdet's default_runtime plus the
# lowlight runner, the NaN/Inf loss guard and the dataset image check).
default_scope = 'mmdet'
custom_imports = dict(imports=['lowlight'], allow_failed_imports=False)

# Weights-only checkpoints, safe loading, CPU distributed, image checks.
# The 'mmdet.' prefix lets mmdet's own tools/train.py find it as well.
runner_type = 'mmdet.LowLightRunner'
# Every image of every dataset is checked when its dataloader is built:
# level 'off' | 'exists' | 'header' (fast) | 'decode' (reads every image);
# on_invalid 'error' (fail fast, listing the files) | 'skip' (drop, count).
image_check = dict(level='header', on_invalid='error')

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'),
    # stop at the first NaN/Inf loss term, naming it and the iteration
    finite_loss=dict(type='FiniteLossHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # on a machine without GPU LowLightRunner uses gloo instead
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
# No fixed `name`: each runner then gets its own visualizer (named after the
# experiment), so mmdet's DetVisualizationHook, which draws with the latest
# created instance, never draws with another runner's class names.
# LowLightVisualizer is DetLocalVisualizer that tools building it without a
# name (mmdet's browse_dataset.py) can build too.
visualizer = dict(type='LowLightVisualizer', vis_backends=vis_backends)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
# Offline by design: pass a local pretrained checkpoint here or with
# --cfg-options load_from=PATH (loaded with torch weights_only=True).
load_from = None
resume = False
