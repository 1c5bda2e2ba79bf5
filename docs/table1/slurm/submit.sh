#!/bin/bash
# Submits the array and the merge, which runs once every shard has finished.
set -euo pipefail
cd "$(dirname "$0")"
jid=$(sbatch --parsable sweep.sbatch)
sbatch --dependency=afterok:"${jid%%;*}" merge.sbatch
