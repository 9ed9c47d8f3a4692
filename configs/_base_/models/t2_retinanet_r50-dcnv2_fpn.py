# T2 on RetinaNet with ResNet-50 + DCNv2 (stages 2-4) and FPN, 12 ExDark
# classes, random init (see t2_faster-rcnn_r50-dcnv2_fpn.py about
# frozen_stages/norm_eval). The backbone returns stages 2-4 only (RetinaNet's
# FPN never used stage 1), so no guidance is computed at stride 4; the FPN
# keeps mmdet's layer indices, so plain RetinaNet weights still load.
_base_ = './t2_low_light_detector.py'

model = dict(
    detector=dict(
        type='RetinaNet',
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
                dcn=dict(
                    type='DCNv2', deform_groups=1, fallback_on_stride=False),
                stage_with_dcn=(False, True, True, True),
                init_cfg=None)),
        neck=[
            dict(
                type='FPN',
                in_channels=[512, 1024, 2048],
                out_channels=256,
                start_level=0,
                add_extra_convs='on_input',
                num_outs=5),
            dict(type='SemanticAggregationNeck', in_channels=[256] * 5)
        ],
        bbox_head=dict(
            type='RetinaHead',
            num_classes=12,
            in_channels=256,
            stacked_convs=4,
            feat_channels=256,
            anchor_generator=dict(
                type='AnchorGenerator',
                octave_base_scale=4,
                scales_per_octave=3,
                ratios=[0.5, 1.0, 2.0],
                strides=[8, 16, 32, 64, 128]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(
                type='FocalLoss',
                use_sigmoid=True,
                gamma=2.0,
                alpha=0.25,
                loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.4,
                min_pos_iou=0,
                ignore_iof_thr=-1),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=dict(
            nms_pre=1000,
            min_bbox_size=0,
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=100)))
