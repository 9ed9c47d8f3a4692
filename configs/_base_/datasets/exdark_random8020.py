# ExDark, the random 80/20 protocol (5896 train / 1467 test on the full
# data; each image-level class split on its own, seed 0):
#   python tools/dataset_converters/exdark.py data/exdark data/exdark \
#       --split random-80-20 --seed 0
# Numbers from this protocol are not comparable with the official split.
_base_ = './exdark_official.py'

train_dataloader = dict(
    dataset=dict(ann_file='annotations/exdark_random8020_seed0_train.json'))
val_dataloader = dict(
    dataset=dict(ann_file='annotations/exdark_random8020_seed0_test.json'))
test_dataloader = val_dataloader
