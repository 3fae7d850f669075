"""SimPy models for planners: adoption of online fee payment, one-stop-shop counter queues,
their day-by-day coupling, replications and calibration."""
