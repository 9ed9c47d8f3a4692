# Ablation: T2 without the side input of the backbone (neither log R nor
# log L; the backbone sees I / L^a only). The shipped T2 before the side
# input, with per-stage FiLM guidance, reached test AP@0.5 70.6 (3 seeds,
# configs/t2/README.md).
_base_ = ['../t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py']

model = dict(reflectance_side_input=False)
