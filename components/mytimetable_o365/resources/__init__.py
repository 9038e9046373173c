"""What acts: the dynamic providers (their module path is recorded in every stack's state), the
resource hooks, and the keystore file on disk."""
