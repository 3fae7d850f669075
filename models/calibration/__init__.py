"""Calibration: fit the adoption parameters of a scenario to observed online shares.

*Scenario.* Sơn La reported that 2.97%, 4.39% and 10.7% of people used online public services in 2020, 2021 and
2022. Which innovation p, imitation q and outreach-effort weight make the model pass through those figures, how
sure can we be, and when — as a band, not a date — would the 50% target be reached?

The fit runs against the deterministic mean field of the adoption model (`models.theory.mean_field_share`,
Generalized Bass in closed form): per unit, dF/dt = (p + qF/m)(m − F)·x(t) with m the potential share and
effort x(t) = 1 + effort_weight · (sum of the intensities of the unit's active outreach interventions —
`models.adoption.OUTREACH_KINDS`: information campaigns, community digital teams, post-office help points),
the same x(t) the agent model uses, so a fitted effort_weight means the same thing there. It is fast (no
agents), so a parametric bootstrap of a few hundred refits takes seconds. A plain Bass curve (effort_weight
fixed at 0) cannot produce an accelerating series such as Sơn La's (×1.48, then ×2.44): its year-on-year
ratio only falls. The effort term can. With ``agent=`` the fit goes on to the agent model as `motcua simulate`
runs it, from the mean field's optimum.

Observations average the model's daily share over their period (a year, a month, "the first five
months"), per unit, or over the region (``unit = *``: units weighted by their fee-bearing dossiers).
Uncertainty comes from the Jacobian at the optimum (when there are more observations than free
parameters) and from a parametric bootstrap; warnings say when the data cannot identify the parameters.

Where each concept lives (every name below is importable from `models.calibration`; the layers run down):

- `fitting`: `fit`, from observations to a `Calibration`;
- `backtesting`: `split_holdout`, `backtest`, `Backtest`; `scenario_output`: `calibrated_scenario`,
  `write_scenario` (the calibrated scenario, a NEW file);
- `results`: `Calibration`, what a fit found, and its ``summary.json`` data (the text ``motcua calibrate``
  prints is the command's, `motcua.commands.calibrate`);
- `targets`: `TargetBand`, when a target is reached, from the mean field or the agent model;
- `agent_fit`: `fit_agent_model`, `AgentSettings`, `AgentFit`, the search on the agent model;
- `problem`: `Problem`, the least-squares problem (immutable), `with_parameters`; `agent_model`: the agent model
  as calibration runs it (`agent_shares`, `guidance_flow`, `run_agent`);
- `mean_field`: `MeanField`; `observations`: `Observation`, `read_observed`.
"""

from motcua.models.calibration.agent_fit import (
    DAMPING_START,
    DIFFERENCE_STEP,
    FIT_TOLERANCE,
    MAX_ITERATIONS,
    AgentFit,
    AgentSearch,
    AgentSettings,
    Evaluate,
    fit_agent_model,
    largest_miss,
    run_draws,
    search_fit,
)
from motcua.models.calibration.agent_model import (
    AGREEMENT_TOLERANCE,
    COUNTER_GUIDANCE,
    GuidanceFlow,
    agent_shares,
    agent_shares_task,
    guidance_flow,
    reach_days,
    run_agent,
)
from motcua.models.calibration.backtesting import (
    Backtest,
    HeldOut,
    backtest,
    split_holdout,
)
from motcua.models.calibration.fitting import (
    MISFIT_TOLERANCE,
    fit,
)
from motcua.models.calibration.mean_field import (
    MeanField,
    intensity_by_day,
)
from motcua.models.calibration.observations import (
    DEFAULT_PROXY_SD,
    OBSERVATION_KINDS,
    PAYMENT_SHARE,
    Observation,
    read_observed,
)
from motcua.models.calibration.problem import (
    ASSUMED_NOISE,
    CONDITION_LIMIT,
    CORRELATION_LIMIT,
    EXTRA_YEARS,
    PARAMETERS,
    Problem,
    correlation,
    with_parameters,
)
from motcua.models.calibration.results import (
    Calibration,
)
from motcua.models.calibration.scenario_output import (
    FITTED,
    calibrated_scenario,
    write_scenario,
)
from motcua.models.calibration.targets import (
    TargetBand,
    agent_band,
    mean_field_band,
)
from motcua.models.theory import DAYS_PER_YEAR

__all__ = [
    "AGREEMENT_TOLERANCE",
    "ASSUMED_NOISE",
    "CONDITION_LIMIT",
    "CORRELATION_LIMIT",
    "COUNTER_GUIDANCE",
    "DAMPING_START",
    "DAYS_PER_YEAR",
    "DEFAULT_PROXY_SD",
    "DIFFERENCE_STEP",
    "EXTRA_YEARS",
    "FITTED",
    "FIT_TOLERANCE",
    "MAX_ITERATIONS",
    "MISFIT_TOLERANCE",
    "OBSERVATION_KINDS",
    "PARAMETERS",
    "PAYMENT_SHARE",
    "AgentFit",
    "AgentSearch",
    "AgentSettings",
    "Backtest",
    "Calibration",
    "Evaluate",
    "GuidanceFlow",
    "HeldOut",
    "MeanField",
    "Observation",
    "Problem",
    "TargetBand",
    "agent_band",
    "agent_shares",
    "agent_shares_task",
    "backtest",
    "calibrated_scenario",
    "correlation",
    "fit",
    "fit_agent_model",
    "guidance_flow",
    "intensity_by_day",
    "largest_miss",
    "mean_field_band",
    "reach_days",
    "read_observed",
    "run_agent",
    "run_draws",
    "search_fit",
    "split_holdout",
    "with_parameters",
    "write_scenario",
]
