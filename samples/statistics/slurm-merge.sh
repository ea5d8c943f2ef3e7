#!/bin/bash
# The merge after every task of the array succeeded (slurm-submit.sh queues it with
# --dependency=afterok:<array job>). Writes OUT/layer-LAYER.stats, byte-identical to one
# prune-stats run over the whole text.
#SBATCH --job-name=prune-stats-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=16G
#SBATCH --time=1:00:00
#SBATCH --output=prune-stats-merge-%j.log
set -euo pipefail
: "${OUT:?set OUT}" "${PARTS:?set PARTS}"
LAYER=${LAYER:-17}
parts=()
for k in $(seq 1 "$PARTS"); do parts+=("$OUT/part-$k-of-$PARTS.stats"); done
prune-stats merge "${parts[@]}" -o "$OUT/layer-$LAYER.stats"
