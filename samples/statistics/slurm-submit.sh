#!/bin/bash
# Queues N parts as a job array and the merge after them.
#   MODEL=/shared/model.gguf TEXT=/shared/wiki.jsonl LAYER=17 OUT=/shared/stats PARTS=8 ./slurm-submit.sh
set -euo pipefail
: "${MODEL:?}" "${TEXT:?}" "${OUT:?}" "${PARTS:?}"
export LAYER=${LAYER:-17} MODEL TEXT OUT PARTS
here=$(cd "$(dirname "$0")" && pwd)
array=$(sbatch --parsable --array="1-$PARTS" --export=ALL "$here/slurm-part.sh")
sbatch --dependency="afterok:${array%%;*}" --export=ALL "$here/slurm-merge.sh"
