"""Converters from raw dataset downloads to COCO json."""
from .cli import converter_parser, run_conversion
from .darkface import convert_darkface
from .darkface import format_summary as format_darkface_summary
from .exdark import convert_exdark
from .exdark import format_summary as format_exdark_summary
from .report import BadInputError, ConversionError, ConversionReport
from .result import ConversionResult, write_splits

__all__ = [
    'BadInputError', 'ConversionError', 'ConversionReport',
    'ConversionResult', 'convert_darkface', 'convert_exdark',
    'converter_parser', 'format_darkface_summary', 'format_exdark_summary',
    'run_conversion', 'write_splits'
]
