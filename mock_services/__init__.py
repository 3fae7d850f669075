"""Mock payment services: the national payment platform (gateway), the banks, and an agency's
electronic one-stop-shop system (Hệ thống một cửa điện tử). Real HTTP servers on loopback, each
with its own SQLite database in WAL mode, so that "nothing lost" can be tested."""
