# What every ORION NixOS VM is, from its base image on: the disk and boot loader the image was built with, the
# admin account the deploy step logs in as, key-only SSH, the guest agent, and orion-trial. The image and every
# later system import this module, so a switch never loses the root file system or the boot loader
# (there is no hardware-configuration.nix: no installer ever runs).
{ config, lib, pkgs, modulesPath, ... }:
let
  host = lib.importJSON "${config.orion.dataDir}/host.json";
in
{
  imports = [
    (modulesPath + "/profiles/qemu-guest.nix") # virtio-scsi and virtio-net in the initrd
    ./orion-host-key.nix
  ];

  options.orion.dataDir = lib.mkOption {
    type = lib.types.path;
    description = "Directory with the files `orion render` wrote for this system (host.json among them).";
  };

  config = {
    # The qemu image variant's layout (nixos/modules/virtualisation/disk-image.nix with efiSupport = false): one
    # ext4 partition labelled nixos on an MBR disk, GRUB in the MBR. The image applies it only while it is built.
    fileSystems."/" = {
      device = "/dev/disk/by-label/nixos";
      fsType = "ext4";
      autoResize = true;
    };
    boot.growPartition = true;
    boot.loader.grub = {
      enable = true;
      # Proxmox's scsi0 on virtio-scsi-single; the image build links it to its own disk.
      device = "/dev/sda";
    };

    # Interfaces get the names their system uses, matched by MAC, from the first boot on: udev renames only as a
    # device appears, so a switch could not.
    systemd.network.links = lib.listToAttrs (map
      (nic: lib.nameValuePair "10-${nic.name}-${lib.replaceStrings [ ":" ] [ "" ] nic.mac}" {
        matchConfig.PermanentMACAddress = nic.mac;
        linkConfig.Name = nic.name;
      })
      host.interfaces);

    users.mutableUsers = false;
    users.users.${host.admin_user} = {
      isNormalUser = true;
      extraGroups = [ "wheel" ];
      # The operators' keys and the deploy key's public half: a rebuild keeps the deploy step's way in.
      openssh.authorizedKeys.keys = host.authorized_keys;
    };
    # Key-only logins: there is no password to sudo with, so wheel needs none.
    security.sudo.wheelNeedsPassword = false;

    services.openssh = {
      enable = true;
      settings = {
        PasswordAuthentication = false;
        KbdInteractiveAuthentication = false;
        PermitRootLogin = "no";
      };
    };
    services.qemuGuest.enable = true;

    # Safe activation: every configuration after the image is switched to on probation.
    environment.systemPackages = [
      (pkgs.writeShellApplication {
        name = "orion-trial";
        runtimeInputs = [ pkgs.coreutils pkgs.util-linux config.nix.package ];
        text = builtins.readFile ../scripts/orion-trial;
      })
    ];
    # Systems come from the flake the deploy step ships; no channel to drift from it.
    nix.channel.enable = false;
    nix.settings.experimental-features = [ "nix-command" "flakes" ];

    # Secrets stay root-only in the secrets directory the deploy step writes; each unit gets exactly its own
    # as systemd credentials, readable by the unit's user alone (host.json: unit -> secret file names).
    systemd.services = lib.mapAttrs
      (_unit: names: { serviceConfig.LoadCredential = map (name: "${name}:${host.secrets_dir}/${name}") names; })
      host.credentials;

    system.stateVersion = host.state_version;
  };
}
