"""Sample-quality metrics.

- 2-D data (:mod:`.lowdim`, :mod:`.kde`): exact W2, Gaussian-kernel MMD², mode coverage, and the
  KDE log-likelihood of held-out data.
- Feature-based (:mod:`.frechet`, :mod:`.kid`, :mod:`.precision_recall`): Fréchet distance (FID)
  with streaming float64 statistics, KID, k-NN precision/recall.
- Feature spaces (:mod:`.features`): FID-InceptionV3 from a local weights file, and the MNIST
  classifier that ships with ipm. Every FID names its feature space.
- :mod:`.class_balance`: which classes a model draws, under the MNIST classifier.
"""

from .class_balance import ClassBalance, class_balance
from .frechet import FeatureStats, GaussianFit, fid_from_features, frechet_distance
from .kde import kde_log_likelihood, select_bandwidth
from .kid import KID, kid, polynomial_mmd2_unbiased
from .lowdim import SampleMetrics, evaluate_samples, mmd2_gaussian, mode_coverage, wasserstein2
from .precision_recall import PrecisionRecall, knn_radii, precision_recall

__all__ = [
    "ClassBalance",
    "KID",
    "FeatureStats",
    "GaussianFit",
    "PrecisionRecall",
    "SampleMetrics",
    "class_balance",
    "evaluate_samples",
    "fid_from_features",
    "frechet_distance",
    "kde_log_likelihood",
    "kid",
    "knn_radii",
    "mmd2_gaussian",
    "mode_coverage",
    "polynomial_mmd2_unbiased",
    "precision_recall",
    "select_bandwidth",
    "wasserstein2",
]
