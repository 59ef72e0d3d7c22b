"""Optional speedups of a method's networks, chosen in the config and applied before training.

channels_last and compile change how the arithmetic is laid out, not what is computed; TF32
rounds the inputs of a GPU's float32 products. All are off by default, so that a run is plain
eager float32 (with torch's TF32 defaults) unless asked otherwise. bf16 autocast is Lightning's
own switch (`trainer.precision=bf16-mixed`), and cuDNN autotuning is `trainer.benchmark` (on in
`trainer=gpu`).
"""

from __future__ import annotations

import logging

import lightning as L
import torch
from torch import nn

from anomaly_bench.settings.checks import check_choice

log = logging.getLogger(__name__)

COMPILE_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def networks(module: nn.Module) -> list[nn.Module]:
    """The module's top-level networks that hold parameters (encoder, decoder, critic, ...)."""
    return [child for child in module.children() if any(True for _ in child.parameters())]


def compile_failure(backend: str, mode: str | None, device: torch.device) -> str | None:
    """Why torch.compile cannot run here (no C++ compiler, no Triton, ...), or None when it can.

    torch.compile fails only at the first call, in the middle of a training step; compiling a
    one-line function on the training device first turns that into a message before training.
    """
    try:
        torch.compile(torch.neg, backend=backend, mode=mode)(torch.ones(2, device=device))
    except Exception as err:  # any backend's failure means: train without it
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return None


class Speedups(L.Callback):
    """TF32, channels_last weights and torch.compile of each network, in place.

    Compiling with `nn.Module.compile` keeps the parameter names, so checkpoints load with or
    without it. Where torch.compile cannot run, the run says why and trains without it.
    """

    def __init__(
        self,
        channels_last: bool = False,
        compile: bool = False,
        compile_backend: str = "inductor",
        compile_mode: str | None = None,
        tf32: bool | None = None,
    ) -> None:
        """`tf32`: True lets float32 matrix products and convolutions run in TF32 on a GPU that
        has it (10-bit mantissa inputs, float32 sums); False keeps both strict float32; None
        leaves torch's defaults (TF32 convolutions in cuDNN, strict float32 matmuls)."""
        super().__init__()
        check_choice("tf32", tf32, (None, True, False))
        check_choice("compile_mode", compile_mode, COMPILE_MODES)
        if compile:  # listing the backends imports Dynamo: only worth it when compiling
            backends = torch.compiler.list_backends(exclude_tags=())
            check_choice("compile_backend", compile_backend, backends)
        self.channels_last, self.compile = channels_last, compile
        self.compile_backend, self.compile_mode = compile_backend, compile_mode
        self.compiled = False
        self.tf32 = tf32

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self.tf32 is not None:
            torch.backends.cuda.matmul.allow_tf32 = self.tf32
            torch.backends.cudnn.allow_tf32 = self.tf32
        if self.channels_last:
            pl_module.to(memory_format=torch.channels_last)
        if self.compile and not self.compiled:
            self._compile(pl_module, trainer.strategy.root_device)

    def _compile(self, pl_module: L.LightningModule, device: torch.device) -> None:
        failure = compile_failure(self.compile_backend, self.compile_mode, device)
        if failure is not None:
            log.warning(
                "compile=true: torch.compile (backend %s) cannot run on %s here (%s); "
                "training without it",
                self.compile_backend,
                device,
                failure,
            )
            return
        for net in networks(pl_module):
            net.compile(backend=self.compile_backend, mode=self.compile_mode)
        self.compiled = True
