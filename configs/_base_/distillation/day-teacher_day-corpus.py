# Distillation from the frozen day-pretrained detector on synthetic
# night/day pairs of the day corpus (DayTeacherDistillation in
# lowlight/models/distillation/): each training step, 8 day-corpus images
# darkened by LowLightSynthesis at its generic defaults (not the night
# sample's camera) go through the model being trained, their originals
# through the detector it was fine-tuned from; the model's head inputs are
# pulled to the teacher's; the pairs leave the batch-norm running
# statistics alone. Training only: nothing of it runs at test time.
# Needs the day corpus (configs/pretrain/README.md):
#   python tools/misc/make_night_sample.py data/day_corpus --kind day \
#       --seed 1000 --num-train 2000 --num-val 200 --num-test 0
#   python tools/dataset_converters/exdark.py data/day_corpus data/day_corpus
# Used as model.distillation={{_base_.day_teacher_distillation}}.
day_teacher_distillation = dict(
    teacher_config=(
        'configs/pretrain/yolov3_mobilenetv2_1xb8-256-6e_day-corpus.py'),
    teacher_checkpoint=(
        'checkpoints/yolov3_mobilenetv2_1xb8-256-6e_day-corpus-ea95db13.pth'),
    pairs=dict(
        type='ExDarkDataset',
        data_root='data/day_corpus/',
        ann_file='annotations/exdark_train.json',
        data_prefix=dict(img=''),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(256, 256), keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
            dict(type='LowLightSynthesis', keep_original='day_img')
        ]),
    batch_size=8,
    loss_weight=3000.0)
