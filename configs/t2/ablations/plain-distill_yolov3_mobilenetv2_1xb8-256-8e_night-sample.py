# The plain detector of the night-sample comparison with the distillation
# from the day teacher of t2-distill_* (configs/_base_/distillation/): how
# much the distillation gives without decomposition, guidance or
# aggregation. Needs the day corpus in data/day_corpus. Same data and
# schedule as the T2 main-job config.
_base_ = [
    './plain_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py',
    '../../_base_/distillation/day-teacher_day-corpus.py'
]

model = dict(distillation={{_base_.day_teacher_distillation}})
