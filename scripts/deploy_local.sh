#!/usr/bin/env bash
# `make deploy-local`: sam build + sam deploy of template.yaml to LocalStack's CloudFormation (stage
# "local", stack flip-models-local), printing the stack's outputs. LocalStack is started (with our
# plugins) when nothing answers on LOCALSTACK_ENDPOINT. Arguments go to flip_local.localstack_deploy:
#   make deploy-local ARGS=--delete        remove the stack and everything it kept
#   make deploy-local ARGS="--stage demo"  another stage
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
ensure_venv
ensure_tool sam-cli "$(python_version 3.12)"
export LOCALSTACK_ENDPOINT=${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}
bash scripts/localstack.sh start
exec .venv/bin/python -m flip_local.localstack_deploy "$@"
