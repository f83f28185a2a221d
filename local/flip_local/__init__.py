"""The Docker-free local stack of the FLIP model service (SPEC §7): not part of the Lambda layer."""
