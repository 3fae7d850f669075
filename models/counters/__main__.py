"""``python -m models.counters [DAYS] [SEED]``: see `models.counters.example`."""

from motcua.models.counters.example import main

raise SystemExit(main())
