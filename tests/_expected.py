"""Expected sparsities: ``sparsity`` is the fraction of all weights removed."""


def layer_sizes(clf):
    units = [clf.n_features_in_, *clf._fit_hidden_layer_sizes, clf.n_outputs_]
    return [a * b for a, b in zip(units, units[1:])]


def expected_layer_sparsity(clf, sparsity):
    """The layer scope: the same sparsity in every layer (to a weight)."""
    return [sparsity] * len(layer_sizes(clf))


def expected_sparsity(clf, sparsity):
    """Every scope: round(sparsity * total) weights removed."""
    total = sum(layer_sizes(clf))
    return round(sparsity * total) / total
