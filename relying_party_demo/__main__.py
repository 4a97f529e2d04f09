"""``python -m relying_party_demo``."""

from relying_party_demo.cli import main

if __name__ == "__main__":
    main()
