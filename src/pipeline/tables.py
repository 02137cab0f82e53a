"""Markdown tables for the reports: pandas' ``to_markdown`` with the project's defaults."""
from __future__ import annotations

import pandas as pd


MISSING = "–"


def md(frame: pd.DataFrame, floatfmt: str = ".4f", numparse: bool = True) -> str:
    """No index; floats to 4 decimals; a missing value (NaN, None) as "–" (e.g. the dev
    accuracy of a dataset without a dev split). ``numparse=False`` keeps strings such as
    '1.2e-08' as written."""
    cells = frame.astype(object).where(frame.notna(), None)  # tabulate spells None, not NaN, as missingval
    return cells.to_markdown(index=False, floatfmt=floatfmt, disable_numparse=not numparse, missingval=MISSING)
