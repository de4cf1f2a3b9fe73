"""The stack configuration: typed, frozen, validated as a whole before anything is built."""

from orion_infra.model.loading import RawConfig, StackConfigError, load_stack, read_stack_file
from orion_infra.model.stack import OrionStack

__all__ = ["OrionStack", "RawConfig", "StackConfigError", "load_stack", "read_stack_file"]
