"""``python -m passport``."""

from passport.cli import main

if __name__ == "__main__":
    main()
