"""The one-stop-shop counters (Bộ phận một cửa) of one unit, as a SimPy model.

*Scenario.* Each working day the doors of a district's one-stop shop open at 07:30. Citizens come
in to file dossiers (hồ sơ) in person: fee-bearing dossiers whose fee was not paid online (the
share paid online comes from a callable, so the adoption model can drive it day by day), free
dossiers, and people who come for help to file or pay online. Most arrive in the morning rush;
Mondays and the months before Tết are busier. A citizen who finds the hall packed goes home
(balks); one who waits too long gives up (reneges); both usually come back another day. Officers
(cán bộ một cửa) sit at the counters through two opening windows with lunch in between (fewer may
staff the afternoon; the shop shuts on holidays), each takes one short break per window, and always
finishes the citizen in front of them before leaving.
Receiving a dossier takes minutes that depend on the procedure; collecting cash adds minutes, a QR
payment fewer; walking a citizen through paying online ("cầm tay chỉ việc") costs guidance minutes
but hands the adoption model a citizen who has *tried* paying online (``on_guided``).

The clock is in minutes from 00:00 (Asia/Ho_Chi_Minh) of ``start``; a day is 1,440 minutes.

*How it runs.* Officers and the doors are SimPy processes; citizens are entries in the shop's queue.
An officer with nobody to serve calls the next expected citizen ahead of time and wakes when done
serving them; citizens who come while every officer is busy or away join the queue at their minute,
and those whose patience runs out leave at theirs, the next time anyone looks at the queue. So a
visit costs one SimPy event (the end of its service) instead of a process, a request, a patience
timer and a condition, and the numbers are those of arrivals as events (with a ``trace`` they are
events, and a test checks both ways give the same numbers).

*As the law runs them (issue 20).* Citizens with priority at reception (``priority_share``: the elderly,
pregnant women, people with disabilities…) wait in a queue of their own that officers call first; nobody's
service is interrupted (non-pre-emptive, `PRIORITY_RULE` gives the basis). Joining may fall with the queue
(``join_theta``: p = exp(−n/θ), or a declared ``join_table``), and patience may be lognormal or Weibull
(``patience_distribution``, ``patience_cv``). The daily model needs no warm-up: the shop opens empty every
morning and sends everyone home at closing, so each day starts from the same state (only the returning
citizens carry over, and they are part of the law, not a start-up bias); the M/M/c harness discards a
warm-up — a tenth of the run, a given count, or one chosen from the data by MSER-5 (`motcua.models.warmup`) —
and ``motcua validate erlang-c`` warns when it is shorter than the queue's relaxation time.

With `CounterParams.mmc` the same code runs as an M/M/c queue (Poisson arrivals, exponential
service, c officers always on, no balking, reneging or breaks); `simulate_mmc` uses it for the
Erlang C check in `motcua validate erlang-c`, so the check exercises the real model code.

Where each concept lives (all the names are importable from `models.counters`):

- `models.counters.params`: `CounterParams`, `Procedure`, the assumed defaults, `parse_window`;
- `models.counters.arrivals`: `Visit`, the day's draws (`poisson_quantile`), the doors;
- `models.counters.officers`: the officers' shifts and their service loop;
- `models.counters.shop`: `OneStopShop`, the officers' queue;
- `models.counters.books`: the daily ledger (`DAILY_COLUMNS`) and `CounterSummary`;
- `models.counters.mmc`: `simulate_mmc`, the M/M/c harness of the Erlang C check;
- `models.counters.example`: `python -m models.counters [DAYS] [SEED]`.

Figures marked *assumed* are not from the source articles (see `/work/shared/domain.md`).
"""

from motcua.models.counters.arrivals import (
    ArrivalDraws,
    Visit,
    doors,
    patience_draw,
    poisson_doors,
    poisson_quantile,
    walk_in,
    weibull_shape,
)
from motcua.models.counters.books import (
    DAILY_COLUMNS,
    Books,
    CounterSummary,
)
from motcua.models.counters.example import (
    describe,
    main,
)
from motcua.models.counters.mmc import (
    MMCResult,
    simulate_mmc,
)
from motcua.models.counters.officers import (
    citizen_at_counter,
    officer_at_counter,
    officer_on_shift,
)
from motcua.models.counters.params import (
    ACTIVITIES,
    DEFAULT_HOURLY,
    DEFAULT_MONTH_FACTORS,
    DEFAULT_PROCEDURES,
    DEFAULT_WEEKDAY_FACTORS,
    FEE_CASH,
    FEE_QR,
    FREE,
    FREE_PER_FEE_DOSSIER,
    HELP,
    KIND_NAMES,
    MINUTES_PER_DAY,
    PATIENCE_DISTRIBUTIONS,
    PRIORITY_RULE,
    QR_PAYMENT_MINUTES,
    CounterParams,
    Procedure,
    open_days_per_year,
    parse_window,
)
from motcua.models.counters.shop import (
    OneStopShop,
)

__all__ = [
    "ACTIVITIES",
    "DAILY_COLUMNS",
    "DEFAULT_HOURLY",
    "DEFAULT_MONTH_FACTORS",
    "DEFAULT_PROCEDURES",
    "DEFAULT_WEEKDAY_FACTORS",
    "FEE_CASH",
    "FEE_QR",
    "FREE",
    "FREE_PER_FEE_DOSSIER",
    "HELP",
    "KIND_NAMES",
    "MINUTES_PER_DAY",
    "PATIENCE_DISTRIBUTIONS",
    "PRIORITY_RULE",
    "QR_PAYMENT_MINUTES",
    "ArrivalDraws",
    "Books",
    "CounterParams",
    "CounterSummary",
    "MMCResult",
    "OneStopShop",
    "Procedure",
    "Visit",
    "citizen_at_counter",
    "describe",
    "doors",
    "main",
    "officer_at_counter",
    "officer_on_shift",
    "open_days_per_year",
    "parse_window",
    "patience_draw",
    "poisson_doors",
    "poisson_quantile",
    "simulate_mmc",
    "walk_in",
    "weibull_shape",
]
