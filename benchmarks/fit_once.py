"""One 5-epoch fit of the default PrunedMLPClassifier on 10000 x 784 synthetic data,
after a warm-up fit; prints its seconds. For timing whole processes of two versions
side by side (farm-bench), e.g. before and after a refactor."""

import time

import numpy as np

from skprune import PrunedMLPClassifier

rng = np.random.RandomState(0)
X = rng.rand(10000, 784).astype(np.float32)
y = rng.randint(10, size=10000)
clf = PrunedMLPClassifier((300, 100), max_iter=1, random_state=0).fit(
    X[:400], y[:400]
)  # warm-up (kernels)
t = time.perf_counter()
PrunedMLPClassifier((300, 100), max_iter=5, random_state=0, tol=0).fit(X, y)
print(time.perf_counter() - t)
