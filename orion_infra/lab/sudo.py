"""The sudoers file of a lab machine, as NixOS renders it (nixos/modules/security/sudo.nix, index id 240927343, and
terminfo.nix's extraConfig): root may do anything, wheel without a password (security.sudo.wheelNeedsPassword =
false), then the extra rules, each `user     ALL=(ALL:ALL)    OPTIONS: COMMAND`."""

from __future__ import annotations

from collections.abc import Sequence


def sudoers(rules: Sequence[tuple[str, str]] = ()) -> str:
    """`rules`: (user, command) pairs each allowed as root without a password, as security.sudo.extraRules."""
    lines = [
        "# Don't edit this file. Set the NixOS options 'security.sudo.configFile'",
        "# or 'security.sudo.extraRules' instead.",
        "",
        "root     ALL=(ALL:ALL)    SETENV: ALL",
        "%wheel  ALL=(ALL:ALL)    NOPASSWD:SETENV: ALL",
        *(f"{user}     ALL=(ALL:ALL)    NOPASSWD: {command}" for user, command in rules),
        "",
        "# Keep terminfo database for root and %wheel.",
        "Defaults:root,%wheel env_keep+=TERMINFO_DIRS",
        "Defaults:root,%wheel env_keep+=TERMINFO",
    ]
    return "\n".join(lines) + "\n"
