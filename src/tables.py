"""Markdown tables for the reports: pandas' ``to_markdown`` with the project's defaults."""
from __future__ import annotations

import pandas as pd


def md(frame: pd.DataFrame, floatfmt: str = ".4f", numparse: bool = True) -> str:
    """No index; floats to 4 decimals. ``numparse=False`` keeps strings such as '1.2e-08' as written."""
    return frame.to_markdown(index=False, floatfmt=floatfmt, disable_numparse=not numparse)
