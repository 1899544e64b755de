"""The Fréchet distance against its closed form, the domain FID, and class coverage."""

import numpy as np
import pytest
import scipy.linalg
import torch

from ember.errors import ConfigError, DataError
from ember.metrics.frechet import class_coverage, domain_fid, frechet_distance


def gaussian(n, dimensions, seed, scale=1.0):
    generator = torch.Generator().manual_seed(seed)
    mixing = torch.randn(dimensions, dimensions, generator=generator) * scale
    return torch.randn(n, dimensions, generator=generator, dtype=torch.float64) @ mixing.double()


def closed_form(a, b):
    """d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 sqrtm(S_a S_b)), with scipy's general sqrtm."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    mean_term = np.sum((a.mean(0) - b.mean(0)) ** 2)
    return mean_term + np.trace(cov_a + cov_b - 2 * root)


def test_identical_sets_are_at_distance_zero():
    features = gaussian(300, 6, seed=0)
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-9)


def test_a_shift_of_the_mean_costs_its_squared_length():
    features = torch.randn(2000, 4, generator=torch.Generator().manual_seed(1))  # ~ identity
    shift = torch.tensor([1.0, -2.0, 0.5, 0.0])
    assert frechet_distance(features, features + shift) == pytest.approx(5.25, rel=1e-6)


def test_scaling_matches_the_closed_form_for_proportional_covariances():
    # b = 2a: S_b = 4 S_a, so Tr(S_a + 4 S_a - 2 * 2 S_a) = Tr(S_a), plus ||mu_a - 2 mu_a||^2
    a = gaussian(500, 5, seed=2).numpy() + 1.0
    expected = np.sum(a.mean(0) ** 2) + np.trace(np.cov(a, rowvar=False))
    assert frechet_distance(a, 2 * a) == pytest.approx(expected, rel=1e-9)


def test_general_gaussians_match_scipy_sqrtm():
    a, b = gaussian(400, 8, seed=3), gaussian(300, 8, seed=4, scale=0.7) + 0.3
    assert frechet_distance(a, b) == pytest.approx(closed_form(a, b), rel=1e-8)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_domain_fid_is_the_distance_between_classifier_features_in_any_batch_size():
    torch.manual_seed(0)
    classifier = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 6), torch.nn.ReLU())
    real, fake = torch.rand(50, 4, 4, 1), torch.rand(40, 4, 4, 1) ** 2
    with torch.no_grad():
        expected = frechet_distance(classifier(real), classifier(fake))
    for batch_size in (7, 64):
        # float32 features: the batch size changes the GEMM blocking, hence the last bits
        assert domain_fid(classifier, real, fake, batch_size) == pytest.approx(expected, rel=1e-6)
    assert domain_fid(classifier, real.numpy(), fake.numpy()) == pytest.approx(expected, rel=1e-6)


def test_class_coverage_gives_each_class_share():
    shares = class_coverage(torch.tensor([0, 1, 1, 3, 3, 3, 3, 3]), num_classes=5)
    assert shares.tolist() == [0.125, 0.25, 0.0, 0.625, 0.0]
    assert class_coverage(np.array([2, 2]), 3).tolist() == [0.0, 0.0, 1.0]


def test_bad_inputs_are_explained():
    with pytest.raises(DataError, match="different sizes: 3 vs 4"):
        frechet_distance(torch.randn(10, 3), torch.randn(10, 4))
    with pytest.raises(DataError, match=r"\(N, D\) with N >= 2, received shape \(1, 3\)"):
        frechet_distance(torch.randn(1, 3), torch.randn(10, 3))
    with pytest.raises(DataError, match="NaN"):
        frechet_distance(torch.full((4, 2), float("nan")), torch.randn(4, 2))
    with pytest.raises(ConfigError, match="batch_size=0"):
        domain_fid(lambda x: x, torch.rand(4, 2), torch.rand(4, 2), batch_size=0)
    with pytest.raises(DataError, match=r"ids in \[0, 10\]"):
        class_coverage(torch.tensor([0, 10]), num_classes=10)
    with pytest.raises(DataError, match="integer class ids"):
        class_coverage(torch.tensor([0.2, 0.8]), num_classes=2)
