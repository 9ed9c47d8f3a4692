# The day twins of the embedded night sample: the same scenes, names and
# boxes under daylight (data/night_sample/day/, converted like the night
# images: tools/dataset_converters/exdark.py data/night_sample/day
# data/night_sample/day). The "day upper bound" reference of the comparison
# evaluates on its test split.
_base_ = './night_sample.py'

data_root = 'data/night_sample/day/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
