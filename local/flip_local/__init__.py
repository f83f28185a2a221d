"""Dev tools outside the Lambda layer: the Docker-free local stack (SPEC §7), the demo data and the
``flip-models`` command. Installed by ``pip install -e .``; nothing here ships to AWS."""
