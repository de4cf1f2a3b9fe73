# flake.nix's outputs evaluated with a stand-in for nixpkgs' lib (only what flake.nix uses; nixosSystem returns its
# arguments): which systems the flake offers, and whether its assertions hold. Used by tests/nix/test_flake.py.
flakeDir: release:
let
  flake = import (flakeDir + "/flake.nix");
  lib = {
    optionalAttrs = cond: set: if cond then set else { };
    importJSON = path: builtins.fromJSON (builtins.readFile path);
    assertMsg = cond: msg: cond || throw msg;
    trivial.release = release;
    nixosSystem = args: { inherit (args) modules; };
  };
  outputs = flake.outputs { self = { }; nixpkgs = { inherit lib; }; };
in
builtins.mapAttrs (name: system: builtins.length system.modules) outputs.nixosConfigurations
