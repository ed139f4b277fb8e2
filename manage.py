#!/usr/bin/env python
"""Django's command-line utility; `sim` is the same thing, installed as a console command."""

from sim.cli import main

if __name__ == "__main__":
    main()
