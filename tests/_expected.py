"""Expected sparsities under the default layer scope (output layer at its rate)."""

from skprune._pruning import layer_rates


def layer_sizes(clf):
    units = [clf.n_features_in_, *clf._fit_hidden_layer_sizes, clf.n_outputs_]
    return [a * b for a, b in zip(units, units[1:])]


def expected_layer_sparsity(clf, sparsity):
    sizes = layer_sizes(clf)
    return [round(sparsity * r * s) / s for r, s in zip(layer_rates(len(sizes)), sizes)]


def expected_sparsity(clf, sparsity):
    sizes = layer_sizes(clf)
    pruned = [round(sparsity * r * s) for r, s in zip(layer_rates(len(sizes)), sizes)]
    return sum(pruned) / sum(sizes)
