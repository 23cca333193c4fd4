"""Reference computations for the NTK tests: per-sample Jacobians by plain autograd, the kernel
they give, and a small conv generator with BatchNorm in eval mode."""

import torch
from torch import nn

from tests.helpers import DT


def reference_jacobians(model: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """Per-sample Jacobians (N, D, P) by plain autograd, one output coordinate at a time."""
    params = [p for p in model.parameters()]
    rows = []
    for i in range(z.shape[0]):
        out = model(z[i : i + 1]).reshape(-1)
        jac = []
        for d in range(out.shape[0]):
            grads = torch.autograd.grad(out[d], params, retain_graph=True, allow_unused=True)
            jac.append(
                torch.cat(
                    [
                        (g if g is not None else torch.zeros_like(p)).reshape(-1)
                        for g, p in zip(grads, params)
                    ]
                )
            )
        rows.append(torch.stack(jac))
    return torch.stack(rows)


def reference_ntk(model, z1, z2):
    j1, j2 = reference_jacobians(model, z1), reference_jacobians(model, z2)
    return torch.einsum("adp,bep->abde", j1, j2)


class ConvGen(nn.Module):
    """A small conv generator with BatchNorm (eval mode: buffers matter)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 8 * 2 * 2)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 4, 2, 1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Conv2d(4, 1, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(self.fc(z).reshape(-1, 8, 2, 2))


def make_conv():
    m = ConvGen().to(DT)
    with torch.no_grad():  # non-trivial running statistics, then eval mode
        m.net[1].running_mean.uniform_(-0.5, 0.5)
        m.net[1].running_var.uniform_(0.5, 2.0)
    return m.eval()


def rel_err(a, b):
    return ((a - b).norm() / b.norm()).item()
