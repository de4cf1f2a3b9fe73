# The ORION monitoring VM: Prometheus, Alertmanager and Grafana with the files `orion render` wrote.
# Grafana's admin password and secret key are generated secrets the deploy step writes; Grafana reads them as
# systemd credentials, never from the Nix store.
{ config, lib, ... }:
let
  cfg = config.orion.monitoring;
  data = config.orion.dataDir;
  host = lib.importJSON "${data}/host.json";
  nic = builtins.head host.interfaces;
in
{
  imports = [ ./orion-common.nix ];

  options.orion.monitoring.enable = lib.mkEnableOption "the ORION monitoring VM (Prometheus, Alertmanager, Grafana)";

  config = lib.mkIf cfg.enable {
    orion.common.enable = true;

    systemd.network.networks."20-${nic.name}" = {
      matchConfig.Name = nic.name;
      address = [ nic.ipv4 ];
      gateway = [ nic.gateway ];
      dns = [ nic.dns ];
      domains = [ host.domain ];
    };

    # Grafana is the monitoring VM's one service on the LAN (and SSH); the rest listen on loopback.
    networking.firewall.allowedTCPPorts = [ host.grafana.port ];
    services.prometheus.exporters.node.listenAddress = host.local_address;

    # Prometheus and Grafana read these by the paths prometheus.yml and the dashboards provider name.
    environment.etc.${lib.removePrefix "/etc/" host.prometheus.rule_file}.source = "${data}/alert-rules.yml";
    environment.etc.${lib.removePrefix "/etc/" host.grafana.dashboards_dir}.source = "${data}/grafana/dashboards";

    services.prometheus = {
      enable = true;
      listenAddress = host.local_address;
      port = host.prometheus.port;
      retentionTime = "${toString host.prometheus.retention_days}d";
      configText = builtins.readFile "${data}/prometheus.yml";
      # The rule file is outside the store-built config; check it with promtool at render time instead.
      checkConfig = "syntax-only";

      alertmanager = {
        enable = true;
        listenAddress = host.local_address;
        port = host.alertmanager.port;
        configText = builtins.readFile "${data}/alertmanager.yml";
      };
    };

    services.grafana = {
      enable = true;
      settings = {
        server = {
          http_addr = "0.0.0.0";
          http_port = host.grafana.port;
        };
        security = {
          admin_user = host.grafana.admin_user;
          admin_password = "$__file{${host.grafana.admin_password_file}}";
          # Encrypts what Grafana keeps in its database; it has no default since NixOS 26.05.
          secret_key = "$__file{${host.grafana.secret_key_file}}";
        };
        # Grafana is on the LAN: nobody in without the admin's password or an account the admin made.
        "auth.anonymous".enabled = false;
        users.allow_sign_up = false;
        analytics.reporting_enabled = false;
      };
      provision = {
        enable = true;
        datasources.path = "${data}/grafana/datasources.yml";
        dashboards.path = "${data}/grafana/dashboards.yml";
      };
    };
  };
}
