# Baseline of the T2 comparison on the night sample: the plain YOLOv3-
# MobileNetV2 behind a frozen RetinexDecomposer used as pre-processing (the
# detector sees R only; L is discarded; no aggregation): the scheme T2
# argues against. The enhancer's weights come from a local checkpoint with
# the 'enhancer.' prefix, e.g. a finished T2 run:
#   --cfg-options model.enhancer.init_cfg.checkpoint=PATH
# (tools/analysis_tools/compare_on_sample.py passes the T2 run of the same
# seed). Same data and schedule as the T2 main-job config.
_base_ = ['./plain_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py']

model = dict(
    mode='preprocess',
    enhancer=dict(
        type='RetinexDecomposer',
        init_cfg=dict(type='Pretrained', checkpoint=None, prefix='enhancer.')))
