"""T2, its baselines and its ablations trained and tested on the embedded
night sample with the same data and schedule, over several seeds, behind
``tools/analysis_tools/compare_on_sample.py``.

- :mod:`.variants`: the variants, the reference rows, the configs after
  their options, the schedule and the run order;
- :mod:`.settings`: one comparison's settings with their defaults;
- :mod:`.data`: the annotation files the runs read, the night sample made
  when missing;
- :mod:`.runs`: one run (train, select on val, test, score the
  decomposition) as subprocesses; its AP from the ``lighting_eval_*.json``
  file the metric writes;
- :mod:`.scheduler`: which runs are left, ``jobs`` at a time, progress,
  :func:`run_comparison`;
- :mod:`.summary`: mean ± sd tables, ``results.md`` and ``results.json``.
"""
from .scheduler import run_comparison
from .settings import ComparisonSettings, comparison_settings
from .summary import summarise
from .variants import (PROTOCOLS, QUICK_EPOCHS, REFERENCES, VARIANTS,
                       reference_names)

__all__ = [
    'ComparisonSettings', 'PROTOCOLS', 'QUICK_EPOCHS', 'REFERENCES',
    'VARIANTS', 'comparison_settings', 'reference_names', 'run_comparison',
    'summarise'
]
