# Every ORION NixOS VM's SSH host key is the one the deploy made before the VM first booted, so the deploy can pin
# it on its first connection: the key reaches the first boot on the VM's cloud-init drive (NoCloud, label cidata),
# and orion-host-key installs it before sshd-keygen would make one of sshd's own.
{ config, lib, pkgs, ... }:
let
  host = lib.importJSON "${config.orion.dataDir}/host.json";
in
{
  config = {
    services.openssh.hostKeys = [ { path = "/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; } ];

    systemd.mounts = [{
      what = "/dev/disk/by-label/cidata";
      where = host.host_key.seed_dir;
      type = "iso9660";
      options = "ro";
    }];

    systemd.services.orion-host-key = {
      description = "Install the SSH host key the deploy made for this VM";
      wantedBy = [ "multi-user.target" ];
      before = [ "sshd-keygen.service" "sshd.service" ];
      unitConfig = {
        ConditionPathExists = "!/etc/ssh/ssh_host_ed25519_key";
        RequiresMountsFor = host.host_key.seed_dir;
      };
      environment.SEED_DIR = host.host_key.seed_dir;
      serviceConfig = {
        Type = "oneshot";
        ExecStart = lib.getExe (pkgs.writeShellApplication {
          name = "orion-host-key";
          runtimeInputs = [ pkgs.coreutils pkgs.gawk pkgs.gnused config.programs.ssh.package ];
          text = builtins.readFile ../scripts/orion-host-key;
        });
      };
    };
  };
}
