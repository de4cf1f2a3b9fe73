# The first system of ORION's NixOS VMs, built into the qcow2 image Proxmox imports: just enough to be reached over
# SSH as the admin user with the deploy key. One image serves every NixOS VM: each NIC of each of them is named and
# addressed by its MAC (host.json), so each VM boots with its own names and addresses. Then the deploy step switches
# it to its own configuration (orion-trial).
# Built by the deploy step from `orion render`'s base/ flake:
#   nix build DIR#nixosConfigurations.orion.config.system.build.images.qemu
{ config, lib, ... }:
let
  host = lib.importJSON "${config.orion.dataDir}/host.json";
in
{
  imports = [ ../../modules/orion-vm.nix ];

  networking.useDHCP = false;
  networking.useNetworkd = true;
  systemd.network.enable = true;
  systemd.network.networks = lib.listToAttrs (map
    (nic: lib.nameValuePair "20-${nic.name}-${lib.replaceStrings [ ":" ] [ "" ] nic.mac}" {
      matchConfig.PermanentMACAddress = nic.mac;
      address = lib.optional (nic.ipv4 != "dhcp") nic.ipv4;
      gateway = lib.optional (nic.gateway != null) nic.gateway;
      dns = nic.dns;
      networkConfig.DHCP = if nic.ipv4 == "dhcp" then "ipv4" else "no";
    })
    host.interfaces);
}
