"""The second factor: TOTP (RFC 6238), recovery codes and the sign-in's second step."""
