"""Rules and crypto: pure functions and frozen values, no Pulumi resources and no I/O."""
