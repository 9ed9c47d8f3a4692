"""The data the comparison's runs read: checked, and the embedded night
sample generated when it is what is missing."""
import os
import os.path as osp
from typing import List, Sequence

from lowlight.datasets.annotation_files import \
    annotation_files as dataset_annotation_files
from lowlight.datasets.converters import convert_exdark
from lowlight.datasets.night_sample import generate_night_sample
from .variants import REPO_ROOT, merged_config

#: Where the configs read the embedded night sample; generated when missing.
NIGHT_SAMPLE_ROOT = osp.join(REPO_ROOT, 'data', 'night_sample')


def annotation_files(config: str, cfg_options: Sequence[str]) -> List[str]:
    """Absolute paths of the annotation files that ``config``'s train, val
    and test datasets read, after ``cfg_options`` (``KEY=VALUE`` strings);
    relative paths are taken from the repository root, as the runs do."""
    return [
        path for _, path in dataset_annotation_files(
            merged_config(config, cfg_options), root=REPO_ROOT)
    ]


def prepare_data(configs: Sequence[str],
                 cfg_options: Sequence[str],
                 sample_root: str = NIGHT_SAMPLE_ROOT) -> None:
    """Make sure every annotation file the runs read exists: generate and
    convert the embedded night sample in ``sample_root`` when its files are
    the missing ones (night images and their day twins, as
    ``tools/run_main_job.sh`` does), so that a fresh
    clone needs no other step.

    Raises:
        FileNotFoundError: naming the config and the file, when a file
            outside ``sample_root`` is missing, or still missing after the
            generation.
    """
    absent = [(config, path) for config in configs
              for path in annotation_files(config, cfg_options)
              if not osp.isfile(path)]
    if absent and all(
            path.startswith(osp.join(osp.abspath(sample_root), ''))
            for _, path in absent):
        print(f'{absent[0][1]} is missing: generating the embedded night '
              f'sample in {sample_root} and converting it')
        generate_night_sample(sample_root, workers=os.cpu_count() or 1)
        convert_exdark(sample_root, sample_root)
        day_twins = osp.join(sample_root, 'day')  # day_upper_bound reads it
        convert_exdark(day_twins, day_twins)
        absent = [(config, path) for config, path in absent
                  if not osp.isfile(path)]
    if absent:
        raise FileNotFoundError('annotation file(s) not found: ' +
                                '; '.join(f'{path} (read by {config})'
                                          for config, path in absent))
