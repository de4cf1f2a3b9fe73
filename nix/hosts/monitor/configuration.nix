# Entry point of VM 300, orion-monitor. The deploy step copies it with the rendered files and the modules to
# /etc/nixos on the VM and runs nixos-rebuild; the NixOS release is the one the VM was installed with (26.05).
{ ... }:
{
  imports = [
    ./hardware-configuration.nix
    ./modules/orion-monitoring.nix
  ];

  orion.monitoring = {
    enable = true;
    dataDir = ./.;
  };

  system.stateVersion = "26.05";
}
