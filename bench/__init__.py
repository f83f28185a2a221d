"""Benchmarks of the FLIP model service (``flip-models bench``): every figure next to a floor
measured in the same run on the same machine."""
