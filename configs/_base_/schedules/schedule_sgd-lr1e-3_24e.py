# The low-light fine-tuning protocol of YOLA / FeatEnHancer on ExDark and
# DARK FACE: 24 epochs of SGD with lr 1e-3 starting from COCO weights
# (load_from). Warm-up, steps, momentum and weight decay are not stated by
# those papers: ours (mmdet's YOLOv3 values, steps at 2/3 and 11/12).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=24, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=24,
        by_epoch=True,
        milestones=[16, 22],
        gamma=0.1)
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=35, norm_type=2))

# total batch of the protocol: 8 GPUs x 8 images
auto_scale_lr = dict(enable=False, base_batch_size=64)
