"""`motcua validate`: check the models against their closed forms.

- ``erlang-c``: the counter model (`models.counters`) with its realism switched off is an M/M/c
  queue; its pooled mean wait must be within the tolerance of Erlang C.
- ``bass``: the adoption model (`models.adoption`) with barriers off and constant effort must
  follow the Bass curve F(t).

Both print model against theory in a small table and exit with `ToleranceExceeded` (exit 5)
when a gated figure is outside the tolerance (for Erlang C: the tolerance plus the run's own 95% CI, so a
correct model passes with any seed); bad arguments exit 2 naming the flag and value.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any, Literal

from motcua.errors import InputError, ToleranceExceeded

DEFAULT_SEED = 1
WAIT_QUANTILES = (0.5, 0.9, 0.95)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check the counter and adoption models against Erlang C and the Bass curve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    checks = parser.add_subparsers(dest="check", metavar="CHECK", required=True)

    erlang = checks.add_parser(
        "erlang-c",
        help="the counter model as M/M/c against Erlang C",
        description="Run the one-stop-shop counter model with Poisson arrivals, exponential service and C "
        "officers always on (no balking, reneging or breaks), and compare it with Erlang C. "
        "Rates are per unit of time (e.g. per minute); the gate is the pooled mean wait.",
    )
    erlang.add_argument("--servers", type=int, required=True, metavar="C", help="officers (servers), >= 1")
    erlang.add_argument("--arrival-rate", type=float, required=True, metavar="L", help="λ, arrivals per unit time")
    erlang.add_argument("--service-rate", type=float, required=True, metavar="M", help="μ, services per server")
    erlang.add_argument("--customers", type=int, required=True, metavar="N", help="measured customers per replication")
    erlang.add_argument("--replications", type=int, default=5, metavar="R", help="independent replications (5)")
    erlang.add_argument("--warmup", type=_warmup, default=None, metavar="W",
                        help="customers discarded at the start of each replication (default N/10), or 'mser5': "
                        "chosen from each replication's waits by MSER-5, the N customers then including it")
    erlang.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"root seed ({DEFAULT_SEED})")
    erlang.add_argument("--tolerance", type=float, default=0.02,
                        help="largest relative error of the pooled mean wait beyond its own 95%% CI (0.02 = 2%%)")
    erlang.set_defaults(func=run_erlang_c)

    bass = checks.add_parser(
        "bass",
        help="the adoption model against the Bass curve",
        description="Run the adoption model with barriers off and constant effort and compare its adopted "
        "share with F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t}) at several t.",
    )
    bass.add_argument("--p", type=float, required=True, help="innovation coefficient, per year, > 0")
    bass.add_argument("--q", type=float, required=True, help="imitation coefficient, per year, >= 0")
    bass.add_argument("--population", type=int, required=True, metavar="N", help="citizens simulated")
    bass.add_argument("--years", type=float, required=True, metavar="Y", help="horizon in years")
    bass.add_argument("--replications", type=int, default=5, metavar="R", help="independent replications (5)")
    bass.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"root seed ({DEFAULT_SEED})")
    bass.add_argument("--tolerance", type=float, default=0.01,
                      help="largest relative error of the adopted share F(t) once it passes the burn-in "
                      "share (0.01 = 1%%)")
    bass.set_defaults(func=run_bass)


# -- Erlang C ---------------------------------------------------------------------------------------
def check_erlang_arguments(args: argparse.Namespace) -> None:
    """Refuses arguments that make no M/M/c queue, naming the flag and the value."""
    _positive_int("--servers", args.servers)
    _positive_int("--customers", args.customers)
    _positive_int("--replications", args.replications)
    _positive("--arrival-rate", args.arrival_rate)
    _positive("--service-rate", args.service_rate)
    _positive("--tolerance", args.tolerance)
    if isinstance(args.warmup, int) and args.warmup < 0:
        raise InputError(f"--warmup {args.warmup}: must be >= 0 customers")
    capacity = args.servers * args.service_rate
    if args.arrival_rate >= capacity:
        raise InputError(
            f"--arrival-rate {args.arrival_rate:g} >= --servers × --service-rate = {capacity:g}: the queue is "
            f"unstable (utilisation {args.arrival_rate / capacity:.3f} >= 1) and has no Erlang C wait; "
            "lower --arrival-rate or raise --servers or --service-rate"
        )


def _warmup(text: str) -> int | Literal["mser5"]:
    """``--warmup``: a number of customers, or ``mser5``."""
    if text.strip().lower() == "mser5":
        return "mser5"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of customers (e.g. 500) or mser5") from None


def run_length_warning(servers: int, arrival_rate: float, service_rate: float, customers: int,
                       warmup: int | str | None) -> str | None:
    """A warning when the run is too short for its load, else None.

    The queue forgets its empty start over its relaxation time τ ≈ 1/(cμ(1 − √ρ)²) (the M/M/1 relaxation time of
    Morse, with the c servers pooled: a heavy-traffic approximation). A warm-up shorter than the customers who
    arrive in τ leaves the start's bias in; a measured run shorter than 50 τ leaves a wide interval.
    """
    rho = arrival_rate / (servers * service_rate)
    in_relaxation = arrival_rate / (servers * service_rate * (1 - math.sqrt(rho)) ** 2)
    warmup = customers // 10 if warmup is None else warmup
    problems = []
    if isinstance(warmup, int) and warmup < in_relaxation:  # MSER-5 judges its own (`MMCResult.warmup_at_bound`)
        problems.append(f"the warm-up ({warmup} customers) is shorter than the queue's relaxation time at "
                        f"utilisation {rho:.3f} (about {in_relaxation:,.0f} customers)")
    if customers < 50 * in_relaxation:
        problems.append(f"the measured run ({customers} customers) is shorter than 50 relaxation times "
                        f"(about {50 * in_relaxation:,.0f} customers)")
    if not problems:
        return None
    return "warning: " + "; ".join(problems) + "; raise --customers (and --warmup) for a steady-state figure"


def run_erlang_c(args: argparse.Namespace) -> int:
    check_erlang_arguments(args)
    warning = run_length_warning(args.servers, args.arrival_rate, args.service_rate, args.customers, args.warmup)
    if warning:
        print(warning, file=sys.stderr)
    comparison = compare_erlang_c(args.servers, args.arrival_rate, args.service_rate, args.customers,
                                  args.replications, seed=args.seed, warmup=args.warmup)
    print(format_erlang_c(comparison, args))
    agrees, _ = erlang_verdict(comparison, args.tolerance)
    if not agrees:
        relative = comparison["mean_wait_relative_error"]
        raise ToleranceExceeded(
            f"pooled mean wait {comparison['mean_wait']:.6g} is {relative:+.2%} off Erlang C "
            f"{comparison['theory_mean_wait']:.6g}, outside --tolerance {args.tolerance:g} "
            f"({args.tolerance * 100:g}%) plus its sampling error (95% CI ±{_relative_ci(comparison):.2%}); "
            "if the 95% CI is wide, raise --customers or --replications"
        )
    return 0


def erlang_verdict(comparison: dict[str, Any], tolerance: float) -> tuple[bool, str]:
    """Whether the model agrees with Erlang C, and why: the decision uses the run's own interval.

    A correct model misses a fixed tolerance whenever its sampling error is larger than the tolerance (about a
    quarter of seeds for the README's command, whose 95% CI is ±4–7%), so the gate is the tolerance PLUS the
    half-width of the pooled mean wait's 95% CI, both relative to the theory; the reason names which part held.
    """
    error = abs(comparison["mean_wait_relative_error"])
    noise = _relative_ci(comparison)
    if error <= tolerance:
        return True, f"within tolerance ±{tolerance * 100:g}%"
    if error <= noise:
        return True, f"Erlang C inside the model's 95% CI (±{noise:.2%})"
    if error <= tolerance + noise:
        return True, f"within tolerance ±{tolerance * 100:g}% plus the 95% CI (±{noise:.2%})"
    return False, f"OUTSIDE tolerance ±{tolerance * 100:g}% plus the 95% CI (±{noise:.2%})"


def _relative_ci(comparison: dict[str, Any]) -> float:
    """The 95% CI half-width of the pooled mean wait relative to Erlang C (0 with one replication: no interval)."""
    half = comparison["mean_wait_ci95"]
    return 0.0 if math.isnan(half) else half / comparison["theory_mean_wait"]


def compare_erlang_c(servers: int, arrival_rate: float, service_rate: float, customers: int, replications: int,
                     *, seed: int = DEFAULT_SEED, warmup: int | Literal["mser5"] | None = None) -> dict[str, Any]:
    """Runs `replications` independent M/M/c replications of the counter model and returns model
    figures (pooled over replications) beside the closed forms."""
    import numpy as np

    from motcua.models.counters import simulate_mmc
    from motcua.models.replications import mean_ci, spawn_seeds
    from motcua.models.theory import erlang_c, mmc_mean_wait, mmc_utilisation, mmc_wait_quantile

    runs = [simulate_mmc(servers, arrival_rate, service_rate, customers, np.random.default_rng(child), warmup=warmup)
            for child in spawn_seeds(seed, replications)]
    waits = np.concatenate([run.waits for run in runs])
    # Equal customers per replication: the pooled mean is the mean of the replication means, and
    # their spread gives the confidence interval (replications are independent, waits are not).
    interval = mean_ci([run.mean_wait for run in runs])
    theory_wait = mmc_mean_wait(servers, arrival_rate, service_rate)
    pooled = float(waits.mean())
    return {
        "mean_wait": pooled,
        "mean_wait_ci95": (interval.high - interval.low) / 2,
        "theory_mean_wait": theory_wait,
        "mean_wait_relative_error": pooled / theory_wait - 1,
        "p_wait": float((waits > 0).mean()),
        "theory_p_wait": erlang_c(servers, arrival_rate, service_rate),
        "utilisation": float(np.mean([run.utilisation for run in runs])),
        "theory_utilisation": mmc_utilisation(servers, arrival_rate, service_rate),
        "quantiles": {q: (float(np.quantile(waits, q)), mmc_wait_quantile(q, servers, arrival_rate, service_rate))
                      for q in WAIT_QUANTILES},
        "customers": int(waits.size),
        "warmup": [run.warmup for run in runs],
        "warmup_at_bound": sum(run.warmup_at_bound for run in runs),
    }


def format_erlang_c(result: dict[str, Any], args: argparse.Namespace) -> str:
    ci = result["mean_wait_ci95"]
    wait = f"{result['mean_wait']:.4f}" + ("" if math.isnan(ci) else f" ± {ci:.4f}")
    rows = [("mean wait Wq", wait, result["theory_mean_wait"], f"gate ±{args.tolerance * 100:g}%"),
            ("P(wait > 0)", f"{result['p_wait']:.4f}", result["theory_p_wait"], ""),
            ("utilisation", f"{result['utilisation']:.4f}", result["theory_utilisation"], "")]
    for q, (model, theory) in result["quantiles"].items():
        rows.append((f"wait p{round(q * 100)}", f"{model:.4f}", theory, ""))
    header = (f"Erlang C check: M/M/{args.servers}, λ = {args.arrival_rate:g}, μ = {args.service_rate:g}, "
              f"{args.replications} replication(s) × {args.customers:,} customers, seed {args.seed}")
    lines = [header, warmup_line(result, args.warmup, args.customers),
             f"{'figure':<14} {'model (± 95% CI)':>22} {'theory':>10} {'error':>8}  note"]
    for name, model, theory, note in rows:
        value = float(model.split(" ")[0])
        error = f"{value / theory - 1:+.2%}" if theory else f"{value - theory:+.4f}"
        lines.append(f"{name:<14} {model:>22} {theory:>10.4f} {error:>8}  {note}".rstrip())
    _, reason = erlang_verdict(result, args.tolerance)
    lines.append(f"pooled mean wait {result['mean_wait_relative_error']:+.2%} off Erlang C: {reason}")
    return "\n".join(lines)


def warmup_line(result: dict[str, Any], warmup: int | str | None, customers: int) -> str:
    """What was discarded at the start of each replication, and why (with MSER-5, of the `customers` simulated)."""
    cut = result["warmup"]
    if warmup != "mser5":
        source = "--warmup" if warmup is not None else "N/10"
        return f"warm-up: {cut[0]:,} customers discarded per replication ({source})"
    line = (f"warm-up: chosen by MSER-5, {min(cut):,}–{max(cut):,} customers discarded "
            f"(mean {sum(cut) / len(cut):,.0f}) of {customers:,} per replication")
    if result["warmup_at_bound"]:
        line += (f"; in {result['warmup_at_bound']} replication(s) the minimum fell at half the run: too short for "
                 "its start-up transient, raise --customers")
    return line


# -- Bass -------------------------------------------------------------------------------------------
def check_bass_arguments(args: argparse.Namespace) -> None:
    _positive("--p", args.p)
    if not args.q >= 0:
        raise InputError(f"--q {args.q!r}: the imitation coefficient must be >= 0")
    _positive_int("--population", args.population)
    _positive("--years", args.years)
    _positive_int("--replications", args.replications)
    _positive("--tolerance", args.tolerance)
    if args.seed < 0:
        raise InputError(f"--seed {args.seed}: must be a non-negative integer, e.g. --seed 2024")
    if not args.tolerance < 1:
        raise InputError(f"--tolerance {args.tolerance!r}: must be below 1 (a relative error, e.g. 0.01 for 1%)")


def run_bass(args: argparse.Namespace) -> int:
    check_bass_arguments(args)
    from motcua.models.bass_check import validate_bass

    result = validate_bass(args.p, args.q, args.population, args.years, args.seed, args.replications,
                           tolerance=args.tolerance)
    print(format_bass(result, args))
    if not result.within_tolerance:
        raise ToleranceExceeded(
            f"the adopted share is {result.max_relative_error:.2%} off the Bass curve F(t) (relative, once F >= "
            f"{result.burn_in_share:.0%}), outside --tolerance {args.tolerance:g}; the sampling noise alone is about "
            f"{result.noise_at_burn_in:.2%}: raise --population or --replications if it is near the tolerance"
        )
    return 0


def format_bass(result: Any, args: argparse.Namespace) -> str:
    """Model against theory at every half year, then the gated figure."""
    lines = [f"Bass check: p = {args.p:g}, q = {args.q:g} per year, {args.population:,} citizens, "
             f"{args.replications} replication(s), seed {args.seed}",
             f"{'t (years)':>9} {'model F(t)':>11} {'Bass F(t)':>10} {'error':>9}"]
    rows = [(t, model, theory) for t, model, theory, _ in result.rows(every_years=0.5 if args.years <= 10 else 1.0)]
    if rows[-1][0] < float(result.t_years[-1]):  # always show the end of the horizon
        rows.append((float(result.t_years[-1]), float(result.model[-1]), float(result.theory[-1])))
    for t, model, theory in rows:
        lines.append(f"{t:>9.2f} {model:>11.4f} {theory:>10.4f} {model - theory:>+9.4f}")
    verdict = "within" if result.within_tolerance else "OUTSIDE"
    lines.append(f"largest relative error once F >= {result.burn_in_share:.0%}: {result.max_relative_error:.2%} "
                 f"({verdict} tolerance {args.tolerance:g}); largest absolute error {result.max_absolute_error:.4f}")
    return "\n".join(lines)


# -- shared argument checks -------------------------------------------------------------------------
def _positive(flag: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise InputError(f"{flag} {value!r}: must be a finite number > 0")


def _positive_int(flag: str, value: int) -> None:
    if not value >= 1:
        raise InputError(f"{flag} {value!r}: must be an integer >= 1")
