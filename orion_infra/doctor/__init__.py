"""`orion doctor`: a pre-flight of the operator's machine and site before `pulumi up`. Each check gives a verdict,
one line of reason and what to do; the checks that wait on the network run at once, with short timeouts."""
