# Entry point of VM 300, orion-monitor. The deploy step copies it with the rendered files and the modules to
# /etc/nixos/orion on the VM and runs nixos-rebuild with it; the release is the one the VM was installed with.
{ ... }:
{
  imports = [
    # Written by the installer on the VM; the ORION files live beside it in /etc/nixos/orion.
    /etc/nixos/hardware-configuration.nix
    ./modules/orion-monitoring.nix
    ./modules/orion-agent.nix
  ];

  orion.monitoring = {
    enable = true;
    dataDir = ./.;
  };

  # Dry-run until the router's restart-bgp forced command and the agent's key are deployed (see the module).
  orion.agent = {
    enable = true;
    source = ./orion_agent;
    settingsFile = ./agent-settings.json;
  };

  system.stateVersion = "26.05";
}
