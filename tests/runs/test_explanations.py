"""The report's "why" panel: Grad-CAM for a CNN run, saliency for a network without
convolutions, nothing for a run that is not an image classifier."""

from __future__ import annotations

from ember import recipes
from ember.runs import training

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_dense_image_classifier_gets_saliency_overlays_in_its_report(tmp_path):
    recipe = recipes.get("fashion-mlp")
    config = recipe.config(epochs=1, train_samples=300, hidden_units=8, device="cpu")
    result = training.train(recipe, config, out=tmp_path / "mlp", verbose=0)
    panel = result.run_dir / "evaluation" / "test" / "explanations-saliency.png"
    assert panel.read_bytes()[:8] == PNG
    assert 'alt="explanations-saliency"' in (result.run_dir / "report.html").read_text()
    assert not (result.run_dir / "evaluation" / "test" / "explanations-gradcam.png").exists()
