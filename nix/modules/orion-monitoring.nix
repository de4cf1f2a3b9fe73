# The ORION monitoring VM: Prometheus, Alertmanager and Grafana with the files `orion render` wrote.
# Grafana's admin password is read from a file the deploy step writes from a generated secret.
{ config, lib, pkgs, ... }:
let
  cfg = config.orion.monitoring;
  host = lib.importJSON "${cfg.dataDir}/host.json";
  nic = builtins.head host.interfaces;
in
{
  imports = [ ./orion-common.nix ];

  options.orion.monitoring = {
    enable = lib.mkEnableOption "the ORION monitoring VM (Prometheus, Alertmanager, Grafana)";
    dataDir = lib.mkOption {
      type = lib.types.path;
      description = "Directory with the files `orion render` wrote for the monitoring VM.";
    };
  };

  config = lib.mkIf cfg.enable {
    orion.common = {
      enable = true;
      dataDir = cfg.dataDir;
    };

    systemd.network.networks."20-${nic.name}" = {
      matchConfig.Name = nic.name;
      address = [ nic.ipv4 ];
      gateway = [ nic.gateway ];
      dns = [ nic.dns ];
      domains = [ host.domain ];
    };

    networking.firewall.allowedTCPPorts = [
      host.prometheus.port
      host.alertmanager.port
      host.grafana.port
      config.orion.common.nodeExporterPort
    ];

    # Prometheus reads the rule file by this path, as prometheus.yml names it.
    environment.etc."orion/alert-rules.yml".source = "${cfg.dataDir}/alert-rules.yml";
    environment.etc."orion/grafana/dashboards".source = "${cfg.dataDir}/grafana/dashboards";

    services.prometheus = {
      enable = true;
      port = host.prometheus.port;
      retentionTime = "${toString host.prometheus.retention_days}d";
      configText = builtins.readFile "${cfg.dataDir}/prometheus.yml";
      # The rule file is outside the store-built config; check it with promtool at render time instead.
      checkConfig = "syntax-only";

      alertmanager = {
        enable = true;
        port = host.alertmanager.port;
        configText = builtins.readFile "${cfg.dataDir}/alertmanager.yml";
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
        };
        analytics.reporting_enabled = false;
      };
      provision = {
        enable = true;
        datasources.path = "${cfg.dataDir}/grafana/datasources.yml";
        dashboards.path = "${cfg.dataDir}/grafana/dashboards.yml";
      };
    };
  };
}
