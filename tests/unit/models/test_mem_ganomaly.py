import lightning as L
import torch

from anomaly_bench.models.mem_ganomaly import MemGanomaly
from tests.unit.models.helpers import quiet_trainer, synthetic_data


def tiny() -> MemGanomaly:
    return MemGanomaly(16, 1, latent_dim=8, width=8, memory_size=12)


class RecordStepOrder(L.Callback):
    """Names each optimiser step in the order it happens."""

    def __init__(self) -> None:
        self.order: list[str] = []

    def on_train_start(self, trainer, pl_module):
        for name, optimizer in zip(("G_E/G_D/M", "E/M", "D"), trainer.optimizers, strict=True):
            optimizer.register_step_pre_hook(lambda *_, name=name: self.order.append(name))


def test_updates_follow_algorithm_1_d_then_generator_then_encoder():
    recorder = RecordStepOrder()
    trainer = quiet_trainer(
        max_epochs=1, limit_train_batches=2, callbacks=[recorder], limit_val_batches=0
    )
    trainer.fit(tiny(), datamodule=synthetic_data())
    assert recorder.order == ["D", "G_E/G_D/M", "E/M"] * 2


def test_memory_is_optimised_with_the_generator_and_with_e():
    model = tiny()
    generator, reencoder, discriminator = model.configure_optimizers()
    memory = model.memory.memory
    in_group = [
        any(p is memory for g in opt.param_groups for p in g["params"])
        for opt in (generator, reencoder, discriminator)
    ]
    assert in_group == [True, True, False]


def test_score_is_eq_33_through_the_memory():
    model = tiny().eval()
    images = torch.rand(4, 1, 16, 16)
    latent = model.encoder(images)
    expected = (latent - model.reencoder(model.decoder(model.memory(latent).output))).abs().mean(1)
    assert torch.allclose(model.anomaly_score(images), expected, atol=1e-6)
