# Entry point of VM 300, orion-monitor. The deploy step copies it with the rendered files and the modules to
# /etc/nixos/orion on the VM and runs nixos-rebuild with it; the release is the one the VM was installed with.
{ lib, ... }:
let
  agent = (lib.importJSON ./host.json).agent;
in
{
  imports = [
    # Written by the installer on the VM; the ORION files live beside it in /etc/nixos/orion.
    /etc/nixos/hardware-configuration.nix
    ./modules/orion-monitoring.nix
    ./modules/orion-agent.nix
  ];

  orion.monitoring = {
    enable = true;
    dataDir = ./.;
  };

  # The agent acts once the stack gives it a key (access.agent_key): the deploy step then writes the key and the
  # router's host key beside the other secrets, and the router accepts the key for restart-bgp only.
  orion.agent = {
    enable = true;
    source = ./orion_agent;
    settingsFile = ./agent-settings.json;
    dryRun = !agent.remediate;
    sshKeyFile = if agent.remediate then agent.ssh_key_file else null;
    knownHostsFile = if agent.remediate then agent.known_hosts_file else null;
  };

  system.stateVersion = "26.05";
}
