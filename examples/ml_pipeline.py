"""A small ML pipeline in pure Python: load → train (mapped over learning rates, cached) →
pick the best → evaluate on held-out data.

    skyloom run examples/ml_pipeline.py:training_wf --learning-rates '[0.01, 0.05, 0.1]'
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from skyloom import CronSchedule, LaunchPlan, Resources, map_task, task, workflow


@dataclass
class Dataset:
    xs: list[float]
    ys: list[float]


@dataclass
class Model:
    weight: float
    bias: float
    learning_rate: float


@task(cache=True, cache_version="1")
def load_data(n_samples: int, seed: int) -> tuple[Dataset, Dataset]:
    """Noisy points on y = 3x + 2, split 80/20 into train and test sets."""
    rng = random.Random(seed)
    xs = [rng.uniform(-1, 1) for _ in range(n_samples)]
    ys = [3 * x + 2 + rng.gauss(0, 0.1) for x in xs]
    cut = int(n_samples * 0.8)
    return Dataset(xs[:cut], ys[:cut]), Dataset(xs[cut:], ys[cut:])


@task(cache=True, cache_version="1", retries=2, requests=Resources(cpu="1", mem="512Mi"))
def train(data: Dataset, learning_rate: float, epochs: int) -> Model:
    """Fit a line by gradient descent."""
    w = b = 0.0
    n = len(data.xs)
    for _ in range(epochs):
        grad_w = sum((w * x + b - y) * x for x, y in zip(data.xs, data.ys, strict=True)) * 2 / n
        grad_b = sum(w * x + b - y for x, y in zip(data.xs, data.ys, strict=True)) * 2 / n
        w -= learning_rate * grad_w
        b -= learning_rate * grad_b
    return Model(w, b, learning_rate)


@task
def mse(model: Model, data: Dataset) -> float:
    """Mean squared error of ``model`` on ``data``."""
    errors = [
        (model.weight * x + model.bias - y) ** 2 for x, y in zip(data.xs, data.ys, strict=True)
    ]
    return sum(errors) / len(errors)


@task
def pick_best(models: list[Model], data: Dataset) -> Model:
    """The model with the lowest training error."""
    return min(models, key=lambda m: mse.execute(model=m, data=data))


@workflow
def training_wf(
    learning_rates: list[float] = [0.01, 0.05, 0.2],  # noqa: B006
    epochs: int = 200,
    n_samples: int = 200,
    seed: int = 7,
) -> tuple[Model, float]:
    """Train one model per learning rate, keep the best, report its test error.

    Args:
        learning_rates: one model is trained per rate
        epochs: gradient steps per model
        n_samples: points to generate
        seed: random seed of the data
    """
    train_set, test_set = load_data(n_samples=n_samples, seed=seed)
    models = map_task(functools.partial(train, data=train_set, epochs=epochs), concurrency=4)(
        learning_rate=learning_rates
    )
    best = pick_best(models=models, data=train_set)
    return best, mse(model=best, data=test_set)


nightly = LaunchPlan.get_or_create(
    training_wf,
    "ml_pipeline.nightly",
    default_inputs={"epochs": 500},
    schedule=CronSchedule("0 3 * * *"),
)
