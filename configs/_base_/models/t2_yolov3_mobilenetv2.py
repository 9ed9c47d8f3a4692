# T2 on the light YOLOv3 with MobileNetV2 (mmdet's 320 px anchors), 12
# ExDark classes, random init: the model of the embedded night sample's
# CPU main job.
_base_ = './t2_low_light_detector.py'

# YOLOv3's own neck for the MobileNetV2 stages; configs that replace the
# neck list reuse it as {{_base_.yolov3_neck}}
yolov3_neck = dict(
    type='YOLOV3Neck',
    num_scales=3,
    in_channels=[320, 96, 32],
    out_channels=[96, 96, 96])
model = dict(
    detector=dict(
        type='YOLOV3',
        backbone=dict(
            type='IlluminationGuidedBackbone',
            mode='film',  # 'film' | 'gate' | 'none'
            feat_channels=[32, 96, 320],
            backbone=dict(
                type='TruncatedMobileNetV2',  # MobileNetV2 up to out_indices
                out_indices=(2, 4, 6),
                act_cfg=dict(type='LeakyReLU', negative_slope=0.1),
                init_cfg=None)),
        neck=[
            yolov3_neck,
            dict(
                type='SemanticAggregationNeck',
                in_channels=[96, 96, 96],
                context_channels=64)
        ],
        bbox_head=dict(
            type='YOLOV3Head',
            num_classes=12,
            in_channels=[96, 96, 96],
            out_channels=[96, 96, 96],
            anchor_generator=dict(
                type='YOLOAnchorGenerator',
                base_sizes=[[(220, 125), (128, 222), (264, 266)],
                            [(35, 87), (102, 96), (60, 170)],
                            [(10, 15), (24, 36), (72, 42)]],
                strides=[32, 16, 8]),
            bbox_coder=dict(type='YOLOBBoxCoder'),
            featmap_strides=[32, 16, 8],
            loss_cls=dict(
                type='CrossEntropyLoss',
                use_sigmoid=True,
                loss_weight=1.0,
                reduction='sum'),
            loss_conf=dict(
                type='CrossEntropyLoss',
                use_sigmoid=True,
                loss_weight=1.0,
                reduction='sum'),
            loss_xy=dict(
                type='CrossEntropyLoss',
                use_sigmoid=True,
                loss_weight=2.0,
                reduction='sum'),
            loss_wh=dict(type='MSELoss', loss_weight=2.0, reduction='sum')),
        train_cfg=dict(
            assigner=dict(
                type='GridAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0)),
        test_cfg=dict(
            nms_pre=1000,
            min_bbox_size=0,
            score_thr=0.05,
            conf_thr=0.005,
            nms=dict(type='nms', iou_threshold=0.45),
            max_per_img=100)))
