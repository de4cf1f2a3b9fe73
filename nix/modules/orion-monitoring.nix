# The ORION monitoring VM: Prometheus, Alertmanager and Grafana with the files `orion render` wrote.
# Grafana's admin password and secret key are generated secrets the deploy step writes; Grafana reads them as
# systemd credentials, never from the Nix store.
{ config, lib, pkgs, ... }:
let
  cfg = config.orion.monitoring;
  data = config.orion.dataDir;
  host = lib.importJSON "${data}/host.json";
  nic = builtins.head host.interfaces;
  grafana = config.services.grafana;

  # The config file the nixpkgs grafana module runs its server with (`grafana server -homepath DATADIR -config FILE`),
  # made as that module makes it (nixos/modules/services/monitoring/grafana.nix: settingsFormatIni, "config.ini"):
  # the same settings give the same file. An assertion below holds the two together.
  grafanaIni = (pkgs.formats.ini {
    listToValue = lib.concatMapStringsSep " " (lib.generators.mkValueStringDefault { });
    mkKeyValue = lib.generators.mkKeyValueDefault {
      mkValueString = v: if v == null then "" else lib.generators.mkValueStringDefault { } v;
    } "=";
  }).generate "config.ini" grafana.settings;
  grafanaServer = "${lib.getExe grafana.package} server -homepath ${grafana.dataDir} -config ${grafanaIni}";

  # Sets the admin's password to the credential's and refuses a secret key other than the database's, before the
  # server starts (nix/scripts/orion-grafana).
  grafanaSecrets = pkgs.writeShellApplication {
    name = "orion-grafana";
    runtimeInputs = [ pkgs.coreutils ];
    runtimeEnv = {
      GRAFANA = lib.getExe grafana.package;
      GRAFANA_HOME = grafana.dataDir;
      GRAFANA_CONFIG = grafanaIni;
      GRAFANA_DATABASE = grafana.settings.database.path;
      ADMIN_PASSWORD_FILE = host.grafana.admin_password_file;
      SECRET_KEY_FILE = host.grafana.secret_key_file;
    };
    text = builtins.readFile ../scripts/orion-grafana;
  };
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

    # Grafana applies admin_password only when it creates its database: a rotated password (a new set of secrets,
    # which restarts the unit) is set by orion-grafana before each start, after the module's own preStart (which
    # links conf/ into the home path the CLI reads). The unit's start timeout bounds it: the CLI migrates the
    # database as the server would after an upgrade of Grafana.
    systemd.services.grafana.serviceConfig = {
      ExecStartPre = lib.mkAfter [ (lib.getExe grafanaSecrets) ];
      TimeoutStartSec = "5min";
    };

    assertions = [
      {
        # Discarding the store paths' context: only the text is compared.
        assertion = lib.hasInfix (builtins.unsafeDiscardStringContext grafanaServer)
          (builtins.unsafeDiscardStringContext config.systemd.services.grafana.script);
        message = "orion-grafana must run Grafana's CLI with the server's own -homepath and -config (`${grafanaServer}`), which the nixpkgs grafana module no longer starts the server with: update orion-monitoring.nix";
      }
      {
        assertion = grafana.settings.database.type == "sqlite3";
        message = "orion-grafana tells a new Grafana database by its SQLite file (services.grafana.settings.database.path)";
      }
    ];
  };
}
