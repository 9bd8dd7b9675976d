"""Finding candidate republishers nobody listed."""
