# What the router and the monitoring VM share beyond the base (orion-vm.nix): their name, networkd, a node
# exporter, time sync, bounded logs and store. Everything comes from host.json.
{ config, lib, ... }:
let
  cfg = config.orion.common;
  host = lib.importJSON "${config.orion.dataDir}/host.json";
in
{
  imports = [ ./orion-vm.nix ];

  options.orion.common.enable = lib.mkEnableOption "the settings the router and the monitoring VM share";

  config = lib.mkIf cfg.enable {
    networking.hostName = host.hostname;
    networking.domain = host.domain;

    # systemd-networkd throughout (the interfaces' names: orion-vm.nix).
    networking.useDHCP = false;
    networking.useNetworkd = true;
    systemd.network.enable = true;

    services.timesyncd.enable = lib.mkDefault true;

    services.prometheus.exporters.node = {
      enable = true;
      port = host.exporters.node;
      enabledCollectors = [ "systemd" "conntrack" ];
    };

    # A VM with a 50 GB disk must not fill it with old generations or logs.
    nix.gc = {
      automatic = true;
      dates = "weekly";
      options = "--delete-older-than 30d";
    };
    nix.settings.auto-optimise-store = true;
    services.journald.settings.Journal = {
      SystemMaxUse = "1G";
      MaxRetentionSec = "1month";
    };
  };
}
