"""measures engine: the domain and its runtime."""
