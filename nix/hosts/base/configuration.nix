# The first system of ORION's NixOS VMs, built into the qcow2 image Proxmox imports: just enough to be reached over
# SSH as the admin user with the deploy key. Cloud-init gives each VM its addresses and name from Proxmox; then the
# deploy step switches it to its own configuration (orion-trial).
# Built by the deploy step: nixos-rebuild build-image --flake DIR#orion --image-variant qemu (DIR: `orion render`'s
# base/ directory).
{ ... }:
{
  imports = [ ../../modules/orion-vm.nix ];

  services.cloud-init = {
    enable = true;
    network.enable = true;
  };
  networking.useNetworkd = true;
}
