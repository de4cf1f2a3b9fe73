# Entry point of the ORION monitoring VM. The deploy step ships it inside the flake with the modules, the agent's
# source and the rendered data (host/) and builds it with nixos-rebuild build --flake DIR#orion.
{ config, lib, ... }:
let
  agent = (lib.importJSON "${config.orion.dataDir}/host.json").agent;
in
{
  imports = [
    ../../modules/orion-monitoring.nix
    ../../modules/orion-agent.nix
  ];

  orion.monitoring.enable = true;

  # The agent acts once the stack gives it a key (access.agent_key): the deploy step then writes the key and the
  # router's host key beside the other secrets, and the router accepts the key for restart-bgp only.
  orion.agent = {
    enable = true;
    source = ../../../orion_agent;
    settingsFile = "${config.orion.dataDir}/agent-settings.json";
    dryRun = !agent.remediate;
    sshKeyFile = if agent.remediate then agent.ssh_key_file else null;
    knownHostsFile = if agent.remediate then agent.known_hosts_file else null;
  };
}
