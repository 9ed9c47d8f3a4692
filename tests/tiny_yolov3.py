"""The tests' detector: a tiny YOLOv3 built from mmdet's own modules."""


def tiny_yolov3_model(num_classes: int,
                      score_thr: float = 0.01,
                      conf_thr: float = 0.005,
                      nms_pre: int = 100,
                      max_per_img: int = 20) -> dict:
    """YOLOv3 with a MobileNetV2 x0.25 backbone (random init) and 16-channel
    neck and head, on BGR uint8 input scaled to [0, 1].

    It runs at 64 px in milliseconds on a CPU; the head uses mmdet's
    default COCO anchors and losses.
    """
    return dict(
        type='YOLOV3',
        data_preprocessor=dict(
            type='DetDataPreprocessor',
            mean=[0, 0, 0],
            std=[255., 255., 255.],
            bgr_to_rgb=True,
            pad_size_divisor=32),
        backbone=dict(
            type='MobileNetV2',
            widen_factor=0.25,
            out_indices=(2, 4, 6),
            act_cfg=dict(type='LeakyReLU', negative_slope=0.1),
            init_cfg=None),
        neck=dict(
            type='YOLOV3Neck',
            num_scales=3,
            in_channels=[80, 24, 8],
            out_channels=[16, 16, 16]),
        bbox_head=dict(
            type='YOLOV3Head',
            num_classes=num_classes,
            in_channels=[16, 16, 16],
            out_channels=[16, 16, 16]),
        train_cfg=dict(
            assigner=dict(
                type='GridAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0)),
        test_cfg=dict(
            nms_pre=nms_pre,
            min_bbox_size=0,
            score_thr=score_thr,
            conf_thr=conf_thr,
            nms=dict(type='nms', iou_threshold=0.45),
            max_per_img=max_per_img))
