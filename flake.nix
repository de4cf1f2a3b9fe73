{
  description = "ORION's NixOS systems: the VMs' base image, the router and the monitoring VM";

  # One nixpkgs for every system ORION builds; flake.lock pins its exact content (decision 0021).
  inputs.nixpkgs.url = "https://releases.nixos.org/nixos/unstable/nixos-26.11pre1035164.753cc8a3a874/nixexprs.tar.xz";

  outputs = { self, nixpkgs }:
    let
      # A system of `role` from the files `orion render` wrote for it into `data` (host.json among them).
      orionSystem = role: data:
        let host = nixpkgs.lib.importJSON "${data}/host.json";
        in
        assert nixpkgs.lib.assertMsg (host.role == role) "${data}/host.json is for the ${host.role}, not the ${role}";
        assert nixpkgs.lib.assertMsg (host.nixos_release == nixpkgs.lib.trivial.release)
          "host.json asks for NixOS ${host.nixos_release}, but flake.lock pins ${nixpkgs.lib.trivial.release}";
        nixpkgs.lib.nixosSystem {
          modules = [
            ./nix/hosts/${role}/configuration.nix
            { orion.dataDir = data; nixpkgs.hostPlatform = "x86_64-linux"; }
          ];
        };
      # On a VM (and for the base image) the deploy step puts the flake beside `host/`, the data of that system.
      deployed = nixpkgs.lib.optionalAttrs (builtins.pathExists ./host/host.json) {
        orion = orionSystem (nixpkgs.lib.importJSON ./host/host.json).role ./host;
      };
      # The default stack's systems, rendered into nix/examples by `make fixtures`: `nix flake check` evaluates
      # them, assertions and all, wherever Nix runs. A system's own flake (from `orion render`) has no examples.
      examples = nixpkgs.lib.optionalAttrs (builtins.pathExists ./nix/examples) {
        example-base = orionSystem "base" ./nix/examples/base;
        example-router = orionSystem "router" ./nix/examples/router;
        example-monitor = orionSystem "monitor" ./nix/examples/monitor;
      };
    in
    {
      nixosConfigurations = deployed // examples;
      # `nix flake check` builds these: BIRD's and nftables' checks of the rendered files run in the build.
      checks.x86_64-linux = builtins.mapAttrs (_name: system: system.config.system.build.toplevel) examples;
    };
}
