"""Reading and writing delimited files: record chunks with line numbers and raw bytes, detection, writer.

Import from the modules (``impex.formats.reader``…): this package imports none of them, so that a
command needing one (an export writes, it never reads a file) does not load the others.
"""
