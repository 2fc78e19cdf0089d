"""Embedded datasets generated in-process from a seed: no file, no network.

Each generator is a function ``(**params) -> (array, extra_meta)`` registered in ``GENERATORS``
under the name that ``datasets.yaml`` gives as an entry's ``generator``. Its keyword defaults are
the parameters a user may override (``load_dataset("jets-synthetic", n_rows=1000, seed=3)``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from codecbench.errors import DatasetError

#: Column names of ``jets-synthetic`` (GeV for pt and mass; eta dimensionless; phi in radians).
JET_COLUMNS = ["pt", "eta", "phi", "mass"]


def synthetic_jets(
    n_rows: int = 100_000,
    seed: int = 0,
    pt_min: float = 20.0,
    spectral_index: float = 4.5,
    eta_width: float = 1.6,
    eta_max: float = 4.7,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Jets with a physically shaped (pt, eta, phi, mass), as float32 rows.

    - pt (GeV): a falling power law ``dN/dpt ~ pt^-spectral_index`` above ``pt_min`` (inverse-CDF
      sampling), so the spectrum spans two to three decades like a QCD jet sample;
    - eta: a normal of width ``eta_width`` truncated to ``|eta| < eta_max`` (resampled, not clipped);
    - phi (rad): uniform in (-pi, pi];
    - mass (GeV): ``pt * f`` with ``f`` log-normal around 0.12 (the jet mass grows with pt),
      capped at 0.8 pt.
    """
    n_rows = int(n_rows)
    if n_rows < 1:
        raise DatasetError(f"jets-synthetic: n_rows must be at least 1, not {n_rows}")
    if spectral_index <= 1.0 or pt_min <= 0:
        raise DatasetError("jets-synthetic: spectral_index must be > 1 and pt_min > 0")
    rng = np.random.default_rng(seed)
    u = rng.random(n_rows)
    pt = pt_min * (1.0 - u) ** (-1.0 / (spectral_index - 1.0))
    eta = rng.normal(0.0, eta_width, n_rows)
    bad = np.abs(eta) >= eta_max
    while bad.any():  # truncated normal by resampling the tails
        eta[bad] = rng.normal(0.0, eta_width, int(bad.sum()))
        bad = np.abs(eta) >= eta_max
    phi = np.pi - 2.0 * np.pi * rng.random(n_rows)  # (-pi, pi]
    frac = np.exp(rng.normal(np.log(0.12), 0.45, n_rows))
    mass = pt * np.minimum(frac, 0.8)
    data = np.stack([pt, eta, phi, mass], axis=1).astype(np.float32)
    return data, {"columns": list(JET_COLUMNS)}


def synthetic_cfd(
    n_steps: int = 60,
    nx: int = 60,
    ny: int = 60,
    seed: int = 0,
    u_inf: float = 1.0,
    noise: float = 0.002,
) -> tuple[np.ndarray, dict[str, Any]]:
    """x-velocity of a 2-D flow past an obstacle: a uniform stream, a Gaussian wake and a street of
    Lamb-Oseen vortices shed alternately above and below the wake axis and advected downstream.

    Shape ``(n_steps, ny, nx)``, float32. The domain is x in [0, 4], y in [-1, 1], the obstacle at
    (0.5, 0). Vortex circulations and shedding phase carry a seeded jitter; a small seeded noise
    (``noise`` * ``u_inf``) stands in for turbulence so the data are not exactly smooth.
    """
    n_steps, nx, ny = int(n_steps), int(nx), int(ny)
    if n_steps < 1 or nx < 2 or ny < 2:
        raise DatasetError(f"cfd-synthetic: need n_steps >= 1 and nx, ny >= 2, got {n_steps}, {nx}, {ny}")
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 4.0, nx)
    y = np.linspace(-1.0, 1.0, ny)
    X, Y = np.meshgrid(x, y)  # (ny, nx)
    x0, dt = 0.5, 0.05
    u_conv = 0.8 * u_inf  # vortices travel slower than the free stream
    shed_period = 0.4  # time between two vortices (alternating sides)
    nu = 2e-3
    gamma0 = 0.35 * u_inf
    n_vort = int(np.ceil((4.0 - x0) / (u_conv * shed_period))) + int(np.ceil(n_steps * dt / shed_period)) + 2
    jitter = 1.0 + 0.1 * rng.standard_normal(n_vort)
    phase = rng.random() * shed_period
    # wake: velocity deficit decaying and widening downstream of the obstacle
    xd = np.maximum(X - x0, 0.0)
    width = 0.12 + 0.08 * np.sqrt(xd)
    deficit = 0.6 * u_inf / np.sqrt(1.0 + 4.0 * xd) * np.exp(-(Y**2) / (2 * width**2)) * (X > x0 - 0.1)
    base = u_inf - deficit
    out = np.empty((n_steps, ny, nx), dtype=np.float64)
    for step in range(n_steps):
        t = step * dt + 4.0 / u_conv  # start with a fully developed street
        u = base.copy()
        for k in range(n_vort):
            birth = phase + k * shed_period
            age = t - birth
            if age <= 0:
                continue
            xc = x0 + u_conv * age
            if xc > 4.5:
                continue
            sign = 1.0 if k % 2 == 0 else -1.0
            yc = sign * 0.18
            gamma = -sign * gamma0 * jitter[k]
            rc2 = 0.01 + 4.0 * nu * age
            dx, dy = X - xc, Y - yc
            r2 = dx**2 + dy**2 + 1e-12
            v_theta_over_r = gamma / (2.0 * np.pi * r2) * (1.0 - np.exp(-r2 / rc2))
            u += -v_theta_over_r * dy  # x-component of the swirl
        out[step] = u
    if noise > 0:
        out += noise * u_inf * rng.standard_normal(out.shape)
    return out.astype(np.float32), {"columns": None}


GENERATORS: dict[str, Callable[..., tuple[np.ndarray, dict[str, Any]]]] = {
    "jets": synthetic_jets,
    "cfd": synthetic_cfd,
}


def generator_defaults(func: Callable[..., Any]) -> dict[str, Any]:
    """The keyword parameters of a generator with their defaults."""
    return {
        n: p.default for n, p in inspect.signature(func).parameters.items() if p.default is not inspect.Parameter.empty
    }
