"""Order of the gallery's examples: from a first look to specific tasks."""

READING_ORDER = [
    "plot_tradeoff_digits.py",
    "plot_input_masks.py",
    "plot_pruning_history.py",
    "plot_grid_search.py",
    "plot_feature_selection.py",
    "plot_from_mlp.py",
]


def by_reading_order(filename):
    """Sort key for sphinx-gallery: listed examples first, then by name."""
    if filename in READING_ORDER:
        return (0, READING_ORDER.index(filename), filename)
    return (1, 0, filename)
