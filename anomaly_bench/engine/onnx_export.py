"""A trained run's scoring graph as an ONNX file, checked against the PyTorch model.

Where a method's score is one forward pass of ONNX operators (GANomaly, Mem_GANomaly, MemAE,
f-AnoGAN's encoder score, WGAN's critic, Deep SVDD), `anomaly_score` is exported whole, with the
batch size free, through torch's exporter, then run by onnxruntime on the CPU on the images being
scored; the file is written only if its scores equal the PyTorch model's within `TOLERANCE`
(otherwise a previous file of that name stays as it was). A method whose score is no such graph
says why (`AnomalyModule.export_refusal`): AnoGAN's latent search, iForest's forest, DAGMM's
triangular solve (no ONNX operator).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from anomaly_bench.models.base import AnomalyModule
from anomaly_bench.settings.whole_files import written_whole

# ONNX Runtime's kernels differ from torch's in the last bits of a float32 sum.
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


class ScoringGraph(nn.Module):
    """`anomaly_score` as a module's forward: what the exporter traces."""

    def __init__(self, model: AnomalyModule) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: Tensor) -> Tensor:
        return self.model.anomaly_score(images)


def check_exportable(model: AnomalyModule) -> None:
    """Refuse a method whose score is no ONNX graph, or an environment without the exporter,
    before any image is scored: the refusal is known without them."""
    refusal = model.export_refusal()
    if refusal is not None:
        raise ValueError(f"--export: {type(model).__name__} cannot be one ONNX graph: {refusal}")
    if importlib.util.find_spec("onnxruntime") is None:
        raise ValueError(
            "--export needs onnx, onnxruntime and onnxscript: pip install 'anomaly-bench[export]'"
        )


def export_onnx(model: AnomalyModule, images: Tensor, path: Path) -> float:
    """Write the scoring graph to `path`; the largest score difference between onnxruntime and
    PyTorch on `images` (an error, and no file, beyond `TOLERANCE`)."""
    check_exportable(model)
    import onnxruntime

    graph = ScoringGraph(model.cpu()).eval()
    images = images.cpu()
    batch = torch.export.Dim("batch", min=1)
    with written_whole(path) as partial:
        with torch.no_grad():
            torch.onnx.export(
                graph,
                (images,),
                str(partial),
                input_names=["images"],
                output_names=["scores"],
                dynamo=True,
                dynamic_shapes={"images": {0: batch}},
                external_data=False,
                verbose=False,
            )
            expected = graph(images).float().numpy()
        session = onnxruntime.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
        got = session.run(None, {"images": images.numpy()})[0]
        difference = float(np.abs(got - expected).max())
        if not np.allclose(got, expected, **TOLERANCE):
            raise ValueError(
                f"--export: onnxruntime's scores differ from PyTorch's by up to {difference:.3g} "
                f"(allowed: rtol {TOLERANCE['rtol']}, atol {TOLERANCE['atol']}); {path} not "
                "written"
            )
    return difference
