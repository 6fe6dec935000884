"""Data sets shared by the tests: small, bundled with scikit-learn, built once."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="session")
def digits():
    """All of digits, standardized: (X, y)."""
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def digits_split():
    """Digits standardized, split 75/25 stratified: X_train, X_test, y_train, y_test."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="session")
def digits_600():
    """The first 600 digits, pixels scaled to [0, 1]: (X, y)."""
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


@pytest.fixture(scope="session")
def digits_600_scaled():
    """The first 600 digits after standardizing all of them: (X, y)."""
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X)[:600], y[:600]


@pytest.fixture(scope="session")
def iris():
    """Iris, standardized: (X, y)."""
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def diabetes():
    """Diabetes, X standardized and y divided by 100: (X, y)."""
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y / 100.0


@pytest.fixture(scope="session")
def diabetes_2d(diabetes):
    """Diabetes with two targets: y and y**2 / 4."""
    X, y = diabetes
    return X, np.column_stack([y, y**2 / 4])
