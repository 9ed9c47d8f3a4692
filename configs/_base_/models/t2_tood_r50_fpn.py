# T2 on TOOD with ResNet-50 and FPN, 12 ExDark classes, random init (see
# t2_faster-rcnn_r50-dcnv2_fpn.py about frozen_stages/norm_eval). Stages 2-4
# only, as in t2_retinanet_r50-dcnv2_fpn.py. TOOD switches assigners after
# `initial_epoch`, reading the epoch from mmengine's MessageHub (no hook
# needed).
_base_ = './t2_low_light_detector.py'

model = dict(
    detector=dict(
        type='TOOD',
        backbone=dict(
            type='IlluminationGuidedBackbone',
            mode='film',  # 'film' | 'gate' | 'none'
            feat_channels=[512, 1024, 2048],
            backbone=dict(
                type='ResNet',
                depth=50,
                num_stages=4,
                out_indices=(1, 2, 3),
                frozen_stages=1,
                norm_cfg=dict(type='BN', requires_grad=True),
                norm_eval=True,
                style='pytorch',
                init_cfg=None)),
        neck=[
            dict(
                type='FPN',
                in_channels=[512, 1024, 2048],
                out_channels=256,
                start_level=0,
                add_extra_convs='on_output',
                num_outs=5),
            dict(type='SemanticAggregationNeck', in_channels=[256] * 5)
        ],
        bbox_head=dict(
            type='TOODHead',
            num_classes=12,
            in_channels=256,
            stacked_convs=6,
            feat_channels=256,
            anchor_type='anchor_free',
            anchor_generator=dict(
                type='AnchorGenerator',
                ratios=[1.0],
                octave_base_scale=8,
                scales_per_octave=1,
                strides=[8, 16, 32, 64, 128]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            initial_loss_cls=dict(
                type='FocalLoss',
                use_sigmoid=True,
                activated=True,
                gamma=2.0,
                alpha=0.25,
                loss_weight=1.0),
            loss_cls=dict(
                type='QualityFocalLoss',
                use_sigmoid=True,
                activated=True,
                beta=2.0,
                loss_weight=1.0),
            loss_bbox=dict(type='GIoULoss', loss_weight=2.0)),
        train_cfg=dict(
            initial_epoch=4,
            initial_assigner=dict(type='ATSSAssigner', topk=9),
            assigner=dict(type='TaskAlignedAssigner', topk=13),
            alpha=1,
            beta=6,
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=dict(
            nms_pre=1000,
            min_bbox_size=0,
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.6),
            max_per_img=100)))
