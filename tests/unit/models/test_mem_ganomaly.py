import copy

import lightning as L
import pytest
import torch
import torch.nn.functional as F

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.components.losses import discriminator_bce_loss
from anomaly_bench.models.mem_ganomaly import MemGanomaly
from tests.unit.models.helpers import quiet_trainer, synthetic_data


def tiny() -> MemGanomaly:
    return MemGanomaly(image_size=16, in_channels=1, latent_dim=8, width=8, memory_size=12)


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
    networks = model.generator
    latent = networks.encoder(images)
    reconstructed = networks.reencoder(networks.decoder(networks.memory(latent).output))
    expected = (latent - reconstructed).abs().mean(1)
    assert torch.allclose(model.anomaly_score(images), expected, atol=1e-6)


def reference_step(model: MemGanomaly, images: torch.Tensor, optimizers) -> None:
    """Algorithm 1 under eq. 31 written plainly, three full forwards, every gradient computed:
    what the model's cheaper step must equal."""
    opt_g, opt_e, opt_d = optimizers
    hp = model.hparams
    encoder, decoder, reencoder, memory = (
        model.generator.encoder,
        model.generator.decoder,
        model.generator.reencoder,
        model.generator.memory,
    )

    def read_memory():
        latent = encoder(images)
        readout = memory(latent)
        fake = decoder(readout.output)
        return fake, latent, reencoder(fake), readout

    with torch.no_grad():
        fake = read_memory()[0]
    real_logits, _ = model.discriminator(images)
    fake_logits, _ = model.discriminator(fake)
    d_loss = discriminator_bce_loss(real_logits, fake_logits)
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    fake, latent, reconstructed, readout = read_memory()
    with torch.no_grad():
        _, real_features = model.discriminator(images)
    _, fake_features = model.discriminator(fake)
    g_loss = (
        hp.w_adv * F.mse_loss(fake_features, real_features)
        + hp.w_con * F.mse_loss(fake, images)
        + hp.w_enc * F.l1_loss(reconstructed, latent)
        + hp.w_entropy * readout.entropy
    )
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    _, latent, reconstructed, _ = read_memory()
    e_loss = hp.w_enc * F.l1_loss(reconstructed, latent)
    opt_e.zero_grad()
    e_loss.backward()
    opt_e.step()


def test_one_step_updates_the_parameters_as_three_plain_forwards_would():
    torch.manual_seed(0)
    ours = tiny().double()
    plain = copy.deepcopy(ours)
    images = torch.rand(8, 1, 16, 16, dtype=torch.float64) * 2 - 1
    ours.optimizers = lambda: optimizers_ours
    ours.manual_backward = lambda loss: loss.backward()
    ours.log_dict = lambda *args, **kwargs: None
    optimizers_ours = ours.configure_optimizers()
    reference_step(plain, images, plain.configure_optimizers())
    ours.training_step(Batch(images, torch.zeros(8), torch.zeros(8)), 0)
    for (name, mine), theirs in zip(ours.named_parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-9, atol=1e-12, msg=name)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"update_rule": "eq32"}, "update_rule='eq32' is not allowed; allowed: eq31, algorithm1"),
        ({"memory_lr": 0.0}, "model.memory_lr=0.0 is not allowed; allowed: null or a positive"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MemGanomaly(image_size=16, in_channels=1, latent_dim=8, width=8, memory_size=12, **kwargs)


def test_algorithm1_adds_the_gan_term_to_both_generator_updates():
    torch.manual_seed(0)
    eq31 = tiny()
    algorithm1 = MemGanomaly(
        image_size=16,
        in_channels=1,
        latent_dim=8,
        width=8,
        memory_size=12,
        update_rule="algorithm1",
    )
    algorithm1.load_state_dict(eq31.state_dict())
    images = torch.rand(4, 1, 16, 16) * 2 - 1
    assert algorithm1._reencoder_loss(images) > eq31._reencoder_loss(images)  # + -log D(G(x))
    memory = algorithm1.memory.memory
    algorithm1._reencoder_loss(images).backward()
    with_term = memory.grad.clone()
    eq31._reencoder_loss(images).backward()
    assert not torch.allclose(with_term, eq31.memory.memory.grad)  # D's term reaches M
    assert all(p.grad is None for p in algorithm1.generator.decoder.parameters())  # passed on


def test_memory_lr_gives_the_memory_its_own_rate_in_both_updates():
    model = MemGanomaly(
        image_size=16, in_channels=1, latent_dim=8, width=8, memory_size=12, memory_lr=2e-3
    )
    generator, reencoder, discriminator = model.configure_optimizers()
    for optimizer in (generator, reencoder):
        rates = [group["lr"] for group in optimizer.param_groups]
        assert rates == [2e-4, 2e-3]
    assert [g["lr"] for g in discriminator.param_groups] == [2e-4]


def test_a_checkpoint_from_before_the_generator_piece_loads_under_todays_names(tmp_path):
    """Such checkpoints name G_E, G_D, E and M at the top level (`encoder.*`, `memory.*`)."""
    torch.manual_seed(0)
    model = tiny()
    old_names = {k.removeprefix("generator."): v for k, v in model.state_dict().items()}
    assert "memory.memory" in old_names and "encoder.features.0.weight" in old_names
    checkpoint = {
        "state_dict": old_names,
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": "2.6.0",
    }
    torch.save(checkpoint, tmp_path / "old.ckpt")
    restored = MemGanomaly.load_from_checkpoint(tmp_path / "old.ckpt", weights_only=True)
    for name, value in model.state_dict().items():
        assert torch.equal(restored.state_dict()[name], value), name
