# Ablation: T2 with the spatial semantic aggregation neck (levels resized
# into one 32-channel context map, a 3x3 fusion, global context, zero-init
# residuals back to every level: SemanticAggregationNeck) instead of the
# global one (GlobalAggregationNeck): the night-sample T2 up to 2026-12-02.
# Its AP and cost against the global neck are in configs/t2/README.md.
_base_ = ['../t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py']

model = dict(
    detector=dict(neck=[
        {{_base_.yolov3_neck}},
        dict(
            type='SemanticAggregationNeck',
            in_channels=[96, 96, 96],
            context_channels=32)
    ]))
