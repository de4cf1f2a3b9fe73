# Entry point of VM 200, orion-router. The deploy step copies it with the rendered files and the modules to
# /etc/nixos/orion on the VM and runs nixos-rebuild with it; the release is the one the VM was installed with.
{ ... }:
{
  imports = [
    # Written by the installer on the VM; the ORION files live beside it in /etc/nixos/orion.
    /etc/nixos/hardware-configuration.nix
    ./modules/orion-router.nix
  ];

  orion.router = {
    enable = true;
    dataDir = ./.;
  };

  system.stateVersion = "26.05";
}
