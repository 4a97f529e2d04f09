"""Infrastructure: password hashing and policy, per-IP limits, HTTP security headers,
client addresses and outbound requests, encryption at rest, length-limited forms."""
