"""Shared by the tests of the verbs that rebuild finished runs from their rows and checkpoints
(memory-sparsity, batchnorm-check): a one-epoch run on the synthetic images, and the printed
table's rows."""

from anomaly_bench.engine.run import train


def quick_run(make_config, model: str) -> dict:
    return train(
        make_config(
            f"model={model}",
            "data=synthetic",
            "trainer.max_epochs=1",
            "trainer.enable_progress_bar=false",
        )
    )


def table_lines(output: str) -> list[list[str]]:
    return [line.strip("| ").split(" | ") for line in output.splitlines()[2:]]
