# The day corpus: the night sample's stand-in for COCO, a day-only set of
# the same classes rendered from another seed (no scene shared with the
# night sample), in the raw ExDark layout and converted like it:
#   python tools/misc/make_night_sample.py data/day_corpus --kind day \
#       --seed 1000 --num-train 2000 --num-val 200 --num-test 0
#   python tools/dataset_converters/exdark.py data/day_corpus data/day_corpus
# 2000 train / 200 held-out val images of 320x240; the held-out val split is
# also the test split (there is no third split).
_base_ = './night_sample.py'

data_root = 'data/day_corpus/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file='annotations/exdark_val.json'))
