# What every ORION NixOS VM has: interfaces named by MAC, key-only SSH, the guest agent, a node exporter, time
# sync, bounded logs and store.
{ config, lib, pkgs, ... }:
let
  cfg = config.orion.common;
  host = lib.importJSON "${cfg.dataDir}/host.json";
in
{
  options.orion.common = {
    enable = lib.mkEnableOption "the settings every ORION VM shares";
    dataDir = lib.mkOption {
      type = lib.types.path;
      description = "Directory with the files `orion render` wrote for this VM (host.json among them).";
    };
    nodeExporterPort = lib.mkOption {
      type = lib.types.port;
      default = 9100;
      description = "Port of the Prometheus node exporter.";
    };
  };

  config = lib.mkIf cfg.enable {
    networking.hostName = host.hostname;
    networking.domain = host.domain;

    # systemd-networkd throughout; interfaces get the names host.json gives them, matched by MAC.
    networking.useDHCP = false;
    networking.useNetworkd = true;
    systemd.network.enable = true;
    systemd.network.links = lib.listToAttrs (map
      (nic: lib.nameValuePair "10-${nic.name}" {
        matchConfig.PermanentMACAddress = nic.mac;
        linkConfig.Name = nic.name;
      })
      host.interfaces);

    users.mutableUsers = false;
    users.users.${host.admin_user} = {
      isNormalUser = true;
      extraGroups = [ "wheel" ];
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
    services.timesyncd.enable = lib.mkDefault true;

    services.prometheus.exporters.node = {
      enable = true;
      port = cfg.nodeExporterPort;
      enabledCollectors = [ "systemd" "conntrack" ];
    };

    # A VM with a 50 GB disk must not fill it with old generations or logs.
    nix.gc = {
      automatic = true;
      dates = "weekly";
      options = "--delete-older-than 30d";
    };
    nix.settings.auto-optimise-store = true;
    services.journald.extraConfig = ''
      SystemMaxUse=1G
      MaxRetentionSec=1month
    '';
  };
}
