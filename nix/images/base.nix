# The first system of ORION's NixOS VMs: just enough to be reached over SSH with the deploy key (cloud-init sets
# the address and the keys Proxmox passes), then the real configuration is pushed and activated.
# Built on the operator's machine: nixos-rebuild build-image --image-variant qemu -I nixos-config=nix/images/base.nix
{ pkgs, ... }:
{
  services.cloud-init = {
    enable = true;
    network.enable = true;
  };
  networking.useNetworkd = true;
  services.qemuGuest.enable = true;
  services.openssh = {
    enable = true;
    settings = {
      PasswordAuthentication = false;
      KbdInteractiveAuthentication = false;
    };
  };
  # The first push runs under orion-trial already, so the base system carries it.
  environment.systemPackages = [
    (pkgs.writeShellApplication {
      name = "orion-trial";
      runtimeInputs = [ pkgs.coreutils pkgs.util-linux ];
      text = builtins.readFile ../scripts/orion-trial;
    })
  ];
  security.sudo.wheelNeedsPassword = false;
  system.stateVersion = "26.05";
}
