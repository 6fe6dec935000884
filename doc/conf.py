"""Sphinx configuration of the skprune documentation.

Build (warnings are errors; the gallery in ../examples is executed)::

    python -m pip install ".[doc]"
    sphinx-build -W -b html doc doc/_build/html

The build needs no network: intersphinx links to other projects' documentation
are only made when ``SKPRUNE_DOC_INTERSPHINX=1`` is set.
"""

import os
import sys
from datetime import date

import skprune

# sphinx-gallery resolves the sort key below from this folder.
sys.path.insert(0, os.path.abspath("."))

project = "skprune"
author = "The skprune developers"
copyright = f"{date.today().year}, {author}"
version = release = skprune.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

# -- API reference -----------------------------------------------------------
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- Links to other projects (opt-in: no network access at build time) --------
intersphinx_mapping = {}
if os.environ.get("SKPRUNE_DOC_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }

# Inherited scikit-learn docstrings (score, set_params, ...) refer to terms and
# sections of scikit-learn's documentation. Without intersphinx, link them to
# scikit-learn's site directly instead of failing the build; any other unresolved
# reference still fails it.
SKLEARN_DOCS = "https://scikit-learn.org/stable/"
SKLEARN_TARGETS = {
    ("term", "fit"): "glossary.html#term-fit",
    ("term", "meta-estimator"): "glossary.html#term-meta-estimator",
    ("ref", "metadata_routing"): "metadata_routing.html",
    ("ref", "accuracy_score"): "modules/model_evaluation.html#accuracy-score",
}


def link_sklearn_targets(app, env, node, contnode):
    from docutils import nodes

    key = (node.get("reftype"), str(node.get("reftarget", "")).lower())
    if node.get("refdomain") != "std" or key not in SKLEARN_TARGETS:
        return None
    uri = SKLEARN_DOCS + SKLEARN_TARGETS[key]
    return nodes.reference("", "", contnode, refuri=uri, internal=False)


def setup(app):
    app.connect("missing-reference", link_sklearn_targets)


# -- Gallery -----------------------------------------------------------------
# The gallery's small fits gain nothing from several BLAS threads, and threads
# competing for a busy machine's cores can slow them down many times over.
try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
    pass
else:
    threadpool_limits(1)

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "gallery_order.by_reading_order",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skprune",),
    "reference_url": {"skprune": None},
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
}

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skprune {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
# The top-level pages have no section to navigate: no left sidebar there.
html_sidebars = {
    page: []
    for page in (
        "index",
        "getting_started",
        "drop_in",
        "user_guide",
        "sparse_storage",
        "persistence",
    )
}
html_show_sourcelink = False
html_static_path = []
