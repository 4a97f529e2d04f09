"""Password hashing and policy, brute-force protection, HTTP security headers."""
