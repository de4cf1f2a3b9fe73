"""`python -m orion_agent`: what the NixOS module runs, without an installed console script."""

from orion_agent.cli import main

main()
