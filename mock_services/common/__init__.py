"""What the three mock services share: money, signatures, identifiers, the payment state
machine, fault injection and the HTTP/SQLite plumbing."""
