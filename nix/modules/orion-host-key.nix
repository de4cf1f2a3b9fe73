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

    # The drive carries the host's private key. Linux's isofs shows Rock Ridge files with the modes the ISO records
    # (0644 on Proxmox's cloud-init drive): overriderockperm makes mode/dmode apply anyway, root-only, and uid/gid
    # override Rock Ridge's owners; Rock Ridge and Joliet stay on, so `user-data` keeps its name (norock would show
    # ISO 9660's 8.3 name). Mounted only while orion-host-key needs it: not at all once the key is in place (the
    # condition; a skipped mount still satisfies the service's RequiresMountsFor), and unmounted as soon as the
    # one-shot service is done (StopWhenUnneeded: nothing active requires it any more).
    systemd.mounts = [{
      what = "/dev/disk/by-label/cidata";
      where = host.host_key.seed_dir;
      type = "iso9660";
      options = "ro,uid=0,gid=0,mode=0400,dmode=0500,overriderockperm";
      unitConfig = {
        ConditionPathExists = "!/etc/ssh/ssh_host_ed25519_key";
        StopWhenUnneeded = true;
      };
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
