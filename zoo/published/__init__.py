"""Published numbers the `reproduce` experiment sets out to reproduce, and
the rows that rerun them: one data package that the experiment (which builds
the runs) and the report (which reads the records) both read. It imports
nothing from the rest of the zoo (the bottom layer), and nothing here is
measured.

    from zoo import published
    published.get("keras_io_imdb_transformer").value    # 0.8745
    published.for_row("scan_length")                     # the entries of one row

numbers.py: one `Published` entry per number (source, setting, value,
spread, conventions). rows.py: one `Row` per row of the reproduction table
(model, task, knobs, budget, what to read beside which number, every way our
setting differs); a report picks a row's records by comparing plain dicts.
"""

from zoo.published.numbers import *  # noqa: F401,F403
from zoo.published.numbers import ENTRIES, Published, for_row, get
from zoo.published.rows import *  # noqa: F401,F403
from zoo.published.rows import ROWS, Row, row, rows, sharing_command

__all__ = ["ENTRIES", "ROWS", "Published", "Row", "for_row", "get", "row", "rows",
           "sharing_command"]
