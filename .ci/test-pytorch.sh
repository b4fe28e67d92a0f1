#!/usr/bin/env bash
# npm run test:pytorch: installs PyTorch into .venv (a large download, hence not in `npm test`)
# and runs the exported PyTorch files of the same states as the JAX test.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash .ci/setup.sh
source .ci/python-env.sh
pip_install .ci/requirements-torch.txt "PyTorch $(sed -n 's/^torch==//p' .ci/requirements-torch.txt)"
node .ci/build.mjs
PYEXPORT_FRAMEWORK=pytorch node --test tests/pyexport.test.mjs
