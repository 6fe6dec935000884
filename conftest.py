"""Collect the doctests of optional modules only when their extras are installed."""

import importlib.util

OPTIONAL_MODULES = {"skprune/onnx.py": "skl2onnx", "skprune/plot.py": "matplotlib"}

collect_ignore = [
    module
    for module, needs in OPTIONAL_MODULES.items()
    if importlib.util.find_spec(needs) is None
]
