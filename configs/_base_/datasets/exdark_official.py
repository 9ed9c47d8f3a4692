# ExDark, official split (train 3000 / val 1800 / test 2563), converted from
# the raw download (see data/README.md):
#   python tools/dataset_converters/exdark.py data/exdark data/exdark
# Pipelines follow the YOLA protocol used by the reference numbers: multi-
# scale 320-608 training, 608 test size.
# (custom_imports and default_scope come from ../default_runtime.py: a key
# defined in two bases of one config is an error in mmengine)

dataset_type = 'ExDarkDataset'
data_root = 'data/exdark/'
backend_args = None
# mmdet's default meta keys plus the ExDark image fields; the lighting-aware
# metric reads 'light' and 'in_out' from each data sample.
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
             'flip', 'flip_direction', 'light', 'light_name', 'in_out',
             'image_class')

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(320, 320), (608, 608)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(608, 608), keep_ratio=True),
    # after Resize: the metric compares with boxes in original coordinates
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/exdark_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/exdark_val.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        val_dataloader['dataset'], ann_file='annotations/exdark_test.json'))
# VOC AP@0.5 (area mode) overall, per class, per lighting type and
# indoor/outdoor, plus recall; the breakdown JSON goes to the work dir.
val_evaluator = dict(type='LightingAwareVOCMetric', iou_thr=0.5,
                     out_name='lighting_eval_val.json')
test_evaluator = dict(type='LightingAwareVOCMetric', iou_thr=0.5,
                      out_name='lighting_eval_test.json')
