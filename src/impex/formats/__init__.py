"""Reading and writing delimited files: record chunks with line numbers and raw bytes, detection, writer."""

from impex.formats.chunk import RecordChunk
from impex.formats.detect import DetectedFormat, detect_format
from impex.formats.errors import FormatError, InternalParseError, NotText
from impex.formats.reader import DelimitedReader
from impex.formats.writer import CsvWriter, write_raw_records

__all__ = [
    "CsvWriter",
    "DelimitedReader",
    "DetectedFormat",
    "FormatError",
    "InternalParseError",
    "NotText",
    "RecordChunk",
    "detect_format",
    "write_raw_records",
]
