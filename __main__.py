"""ORION's Pulumi entry point (`pulumi up -s orion`)."""

from orion_infra.program import main

main()
