"""Training-only losses that teach the detector from a normal-light one."""
from .day_teacher_distillation import DayTeacherDistillation

__all__ = ['DayTeacherDistillation']
