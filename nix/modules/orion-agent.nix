# The ORION agent on the monitoring VM: it watches Prometheus and probes the router's BGP directly, reports, and
# restarts BGP within guard rails. It reads the agent-settings.json `orion render` wrote; the SSH key and the
# router's host key are files outside the Nix store, handed to the unit as systemd credentials.
{ config, lib, pkgs, ... }:
let
  cfg = config.orion.agent;
  settings = lib.importJSON cfg.settingsFile;
  port = settings.listen_port;

  # Only what orion_agent imports: the agent needs none of the Pulumi side of the project.
  python = pkgs.python3.withPackages (ps: with ps; [ click pydantic pydantic-settings prometheus-client requests ]);
  source = pkgs.runCommand "orion-agent-source" { } ''
    mkdir -p $out
    cp -r ${cfg.source} $out/orion_agent
  '';
  defaultPackage = pkgs.writeShellApplication {
    name = "orion-agent";
    runtimeInputs = [ python ];
    runtimeEnv.PYTHONPATH = "${source}";
    text = builtins.readFile ../scripts/orion-agent;
  };

  remediates = !cfg.dryRun;
in
{
  options.orion.agent = {
    enable = lib.mkEnableOption "the ORION autonomous agent";

    source = lib.mkOption {
      type = lib.types.path;
      description = "The orion_agent Python package directory, copied beside the modules by the deploy step.";
    };

    package = lib.mkOption {
      type = lib.types.package;
      default = defaultPackage;
      defaultText = lib.literalMD "`python -m orion_agent` over `source`, with its five dependencies from nixpkgs";
      description = "A package with bin/orion-agent.";
    };

    settingsFile = lib.mkOption {
      type = lib.types.path;
      description = "agent-settings.json as `orion render` wrote it (no secrets in it: paths only).";
    };

    dryRun = lib.mkOption {
      type = lib.types.bool;
      # Acting needs the router's forced command and a deployed key; until both exist the agent only says what
      # it would have done (the audit log), which is also how an operator gains trust in it.
      default = true;
      description = "Decide and audit, but never run a remediation command.";
    };

    sshKeyFile = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = "/var/lib/orion/secrets/orion-agent-ssh-key";
      description = "Private key whose public half the router accepts only for its restart-bgp forced command.";
    };

    knownHostsFile = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = "/var/lib/orion/secrets/orion-agent-known-hosts";
      description = "known_hosts with the router's host key (StrictHostKeyChecking is on).";
    };

    environment = lib.mkOption {
      type = lib.types.attrsOf lib.types.str;
      default = { };
      example = { ORION_AGENT_REMEDIATION__BUDGET_PER_HOUR = "1"; };
      description = "Further ORION_AGENT_* overrides of the settings file.";
    };

    openFirewall = lib.mkOption {
      type = lib.types.bool;
      # Prometheus and Alertmanager reach it on loopback (the rendered settings bind it there).
      default = false;
      description = "Open the agent's port to the network, for an agent that listens beyond loopback.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = !remediates || (cfg.sshKeyFile != null && cfg.knownHostsFile != null);
        message = "orion.agent: dryRun = false needs sshKeyFile and knownHostsFile (the router is reached by SSH)";
      }
    ];

    # The CLI (`orion-agent report`, `orion-agent clear restart-bgp`) finds the running agent through the same file.
    environment.systemPackages = [ cfg.package ];
    environment.variables.ORION_AGENT_SETTINGS_FILE = "${cfg.settingsFile}";

    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [ port ];

    systemd.services.orion-agent = {
      description = "ORION autonomous agent";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" "prometheus.service" "alertmanager.service" ];
      path = [ pkgs.openssh ];
      environment = {
        ORION_AGENT_SETTINGS_FILE = "${cfg.settingsFile}";
        ORION_AGENT_REMEDIATION__DRY_RUN = lib.boolToString cfg.dryRun;
        # The only places ProtectSystem=strict leaves writable, whatever the rendered file says.
        ORION_AGENT_STATE_DIR = "/var/lib/orion-agent";
        ORION_AGENT_AUDIT_LOG = "/var/lib/orion-agent/audit.jsonl";
        ORION_AGENT_LOG_FILE = "/var/log/orion-agent/agent.log";
      } // lib.optionalAttrs (cfg.sshKeyFile != null) {
        # %d is the unit's credentials directory: only this unit's user can read the copies there.
        ORION_AGENT_REMEDIATION__SSH_KEY_FILE = "%d/ssh-key";
      } // lib.optionalAttrs (cfg.knownHostsFile != null) {
        ORION_AGENT_REMEDIATION__KNOWN_HOSTS_FILE = "%d/known-hosts";
      } // cfg.environment;

      serviceConfig = {
        ExecStart = "${cfg.package}/bin/orion-agent run";
        Restart = "on-failure";
        RestartSec = 5;

        DynamicUser = true;
        StateDirectory = "orion-agent";
        StateDirectoryMode = "0700";
        LogsDirectory = "orion-agent";
        LogsDirectoryMode = "0750";
        LoadCredential =
          lib.optional (cfg.sshKeyFile != null) "ssh-key:${cfg.sshKeyFile}"
          ++ lib.optional (cfg.knownHostsFile != null) "known-hosts:${cfg.knownHostsFile}";
        UMask = "0077";

        NoNewPrivileges = true;
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ProtectProc = "invisible";
        ProcSubset = "pid";
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        # HTTP to Prometheus, Alertmanager and the router, SSH to the router; nothing else.
        RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" ];
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" "~@privileged" "~@resources" ];
      };
    };
  };
}
