"""``--cfg-options`` that point a night-sample config at a tiny sample."""


def tiny_loader_options(data_root: str, scale: int) -> list:
    """Every split read from ``data_root``, 2 images per batch, no worker
    processes, images resized to fit ``scale`` x ``scale``."""
    options = []
    for split, resize in (('train', 2), ('val', 1), ('test', 1)):
        loader = f'{split}_dataloader'
        options += [
            f'{loader}.dataset.data_root={data_root}',
            f'{loader}.batch_size=2', f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False',
            f'{loader}.dataset.pipeline.{resize}.scale=({scale},{scale})'
        ]
    return options
