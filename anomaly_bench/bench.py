"""Speed benchmarks, run by `make bench`; timings live here, never in the test suite.

`python -m anomaly_bench.bench [--images N] [--steps S] [--output FILE]` measures AnoGAN's latent
search with the whole batch searched at once against one image at a time, on random images of
the real size (32x32, 1 and 3 channels) with the default DCGAN nets, after a warm-up search. It
prints a markdown table and writes the same figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from anomaly_bench.models.anogan import Anogan
from anomaly_bench.models.components.latent_search import latent_search


def images_per_second(work: Callable[[], object], n_images: int) -> float:
    """Throughput of `work` over `n_images`, timed after one untimed warm-up call."""
    work()
    started = time.perf_counter()
    work()
    return n_images / (time.perf_counter() - started)


def latent_search_speed(channels: int, n_images: int, steps: int, device: str) -> dict[str, Any]:
    """Images/s of the search batched vs one image at a time, same nets, images and z."""
    torch.manual_seed(0)
    model = Anogan(32, channels).to(device).eval()
    images = torch.rand(n_images, channels, 32, 32, device=device) * 2 - 1
    latent = model.sample_latent(n_images)

    def search(lo: int, hi: int) -> torch.Tensor:
        return latent_search(
            model.generator,
            model.discriminator_features,
            images[lo:hi],
            latent[lo:hi],
            steps,
            model.hparams.search_lr,
            model.hparams.search_weight,
        )

    batched = images_per_second(lambda: search(0, n_images), n_images)
    alone = images_per_second(lambda: [search(i, i + 1) for i in range(n_images)], n_images)
    return {
        "benchmark": "latent_search",
        "channels": channels,
        "images": n_images,
        "steps": steps,
        "batched_images_per_second": round(batched, 2),
        "one_at_a_time_images_per_second": round(alone, 2),
        "speedup": round(batched / alone, 2),
    }


def markdown_table(rows: list[dict[str, Any]]) -> str:
    header = "| channels | images | steps | batched img/s | one at a time img/s | speedup |"
    lines = [header, "|---|---|---|---|---|---|"]
    lines += [
        f"| {r['channels']} | {r['images']} | {r['steps']} | {r['batched_images_per_second']} "
        f"| {r['one_at_a_time_images_per_second']} | {r['speedup']}x |"
        for r in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64, help="images searched per measurement")
    parser.add_argument("--steps", type=int, default=20, help="search steps (AnoGAN uses 500)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--output", type=Path, default=Path("results/bench.json"))
    args = parser.parse_args(argv)
    rows = [latent_search_speed(c, args.images, args.steps, args.device) for c in (1, 3)]
    print(
        f"AnoGAN latent search on {args.device} ({platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads)\n"
    )
    print(markdown_table(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"device": args.device, "results": rows}, indent=2) + "\n")
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
