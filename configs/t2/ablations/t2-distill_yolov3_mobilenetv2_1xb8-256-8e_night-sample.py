# T2 on the night sample with distillation from the day teacher on
# synthetic night/day pairs of the day corpus (configs/_base_/distillation/;
# training only, the model at test time is the T2 main-job model). Needs the
# day corpus in data/day_corpus (configs/pretrain/README.md). Same data and
# schedule as the T2 main-job config.
_base_ = [
    '../t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py',
    '../../_base_/distillation/day-teacher_day-corpus.py'
]

model = dict(distillation={{_base_.day_teacher_distillation}})
