"""Train and evaluate T2, its baselines and its ablations on the embedded
night sample, with the same data and schedule, over several seeds.

Variants (``--variants`` picks a subset, ``--variant NAME=CONFIG`` points a
variant at another config):

1. ``plain``: the detector alone;
2. ``preprocess``: the detector behind a frozen enhancer used as plain
   pre-processing (no illumination guidance, no aggregation);
3. ``t2``: T2, i.e. decomposition + illumination guidance + aggregation;
4. ``t2_no_guidance``: T2 without illumination guidance;
5. ``t2_no_aggregation``: T2 without semantic aggregation.

The embedded night sample (``data/night_sample``) is generated and
converted first when its annotation files are missing; any other missing
annotation file is an error naming it. Every run (variant x seed) calls
``tools/train.py`` and then ``tools/test.py`` in a subprocess, with
``--cfg-options randomness.seed=S`` plus any ``--cfg-options`` given here.
A schedule length (``--epochs``) shortens the whole schedule: the epochs, a
validation interval equal to the schedule, and the end of every epoch-based
LR scheduler that ended with it (a cosine decay over 8 epochs cut at 3
would never decay). ``--jobs N`` runs N runs at a time, each with
``OMP_NUM_THREADS`` = cores / N unless set (for machines where one small
run cannot use every core). Runs go seed by seed, so an interrupted
comparison has whole seeds. Model selection uses the val split only: the
checkpoint tested is the best one on the val split when the config saves
one (``save_best``), else the last one; the test split is evaluated once
per run, at the end. A run is finished when its ``result.json`` exists;
finished runs are never redone, and an interrupted training resumes from
its last checkpoint. The summary (mean and sample standard deviation of
AP@0.5 overall and per lighting type) is printed and written to
``results.md`` and ``results.json`` in the work dir, after every finished
run (so a partial comparison still has a table).

Protocols (``--protocol``): ``pretrained`` (the default, the setting of
every published low-light detector) fine-tunes every variant from the
configs' ``load_from``, the plain detector pretrained on the day corpus
(``configs/pretrain/``); ``scratch`` trains every variant from random
weights (``load_from=None``). Each protocol has its own work dir. The
pretrained protocol adds three reference rows, test-only runs made after
the variants of a seed: ``zero_shot`` (the pretrained detector on the night
test split, no fine-tuning), ``zero_shot_preprocess`` (the same behind the
enhancer that T2 learned with that seed) and ``day_upper_bound`` (the
fine-tuned plain detector on the day twins of the test images: how much of
the gap is the darkness).

The logic lives in :mod:`lowlight.analysis.comparison`; each run's AP is
read from the ``lighting_eval_test.json`` that ``LightingAwareVOCMetric``
writes into the run's test work dir.

Examples::

    # first look: one seed, short schedule
    python tools/analysis_tools/compare_on_sample.py --quick --jobs 2
    # the full comparison: 3 seeds, the configs' schedule (measured times:
    # configs/t2/README.md)
    python tools/analysis_tools/compare_on_sample.py --jobs 2
"""
import argparse
import sys

from lowlight.analysis.comparison import (PROTOCOLS, QUICK_EPOCHS, VARIANTS,
                                          comparison_settings, run_comparison)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Compare T2, its baselines and ablations on the '
        'embedded night sample (train + test, several seeds, resumable).')
    parser.add_argument(
        '--variants',
        nargs='+',
        choices=list(VARIANTS),
        default=list(VARIANTS),
        help='variants to run (default: all)')
    parser.add_argument(
        '--variant',
        action='append',
        default=[],
        metavar='NAME=CONFIG',
        help='use CONFIG for variant NAME (repeatable)')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        help='seeds (default: 0 1 2; 0 with --quick)')
    parser.add_argument(
        '--epochs',
        type=int,
        help='training epochs (default: the configs\' schedule; '
        f'{QUICK_EPOCHS} with --quick)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help=f'one seed and {QUICK_EPOCHS} epochs: a first look')
    parser.add_argument(
        '--protocol',
        choices=PROTOCOLS,
        default='pretrained',
        help="'pretrained': fine-tune every variant from the configs' "
        "load_from (default); 'scratch': from random weights")
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='runs at a time (default 1); each gets cores / jobs threads')
    parser.add_argument(
        '--work-dir',
        help='where runs and the summary go (default: '
        'work_dirs/compare_on_sample_<protocol>[_quick])')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='passed to every train.py and test.py call')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='print the commands without running them')
    args = parser.parse_args(argv)
    command = 'python tools/analysis_tools/compare_on_sample.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    try:
        return comparison_settings(
            variants=args.variants,
            overrides=args.variant,
            seeds=args.seeds,
            epochs=args.epochs,
            quick=args.quick,
            protocol=args.protocol,
            jobs=args.jobs,
            work_dir=args.work_dir,
            cfg_options=args.cfg_options,
            dry_run=args.dry_run,
            command=command)
    except ValueError as err:
        parser.error(str(err))


def main(argv=None):
    return run_comparison(parse_args(argv))


if __name__ == '__main__':
    main()
