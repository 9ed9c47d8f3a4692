# DARK FACE, the usual fixed 5500/500 split of the 6000 labelled images
# (seed 0):
#   python tools/dataset_converters/darkface.py data/darkface data/darkface
# Same YOLA-protocol sizes as ExDark (multi-scale 320-608, 608 test).
# DARK FACE has no lighting labels: the metric reports overall results.
# (custom_imports and default_scope come from ../default_runtime.py: a key
# defined in two bases of one config is an error in mmengine)

dataset_type = 'DarkFaceDataset'
data_root = 'data/darkface/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(320, 320), (608, 608)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(608, 608), keep_ratio=True),
    # after Resize: the metric compares with boxes in original coordinates
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
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
        ann_file='annotations/darkface_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=2),
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
        ann_file='annotations/darkface_val.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(type='LightingAwareVOCMetric', iou_thr=0.5,
                     out_name='lighting_eval_val.json')
test_evaluator = dict(type='LightingAwareVOCMetric', iou_thr=0.5,
                      out_name='lighting_eval_test.json')
