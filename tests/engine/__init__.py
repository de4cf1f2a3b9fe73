"""Tests that run the real Pulumi CLI (`make engine` builds it into .engine/bin) on a temporary copy of the project."""
