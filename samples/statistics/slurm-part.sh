#!/bin/bash
# One part of prune-stats on a Slurm job array: task K of N computes the K-th of N slices of the
# text. Submit with slurm-submit.sh (which also queues the merge), or by hand:
#   sbatch --array=1-8 --export=ALL,MODEL=/shared/model.gguf,TEXT=/shared/wiki.jsonl,LAYER=17,OUT=/shared/stats slurm-part.sh
# A requeued or preempted task resumes from OUT/part-K-of-N.stats.checkpoint (--resume): the result
# is byte-identical to an uninterrupted run. MODEL, TEXT and OUT must be on a shared file system.
#SBATCH --job-name=prune-stats-part
#SBATCH --cpus-per-task=16
#SBATCH --mem=48G
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=prune-stats-%A_%a.log
set -euo pipefail
: "${MODEL:?set MODEL}" "${TEXT:?set TEXT}" "${OUT:?set OUT}"
LAYER=${LAYER:-17}
K=${SLURM_ARRAY_TASK_ID:?run as a job array (sbatch --array=1-N)}
N=${PARTS:-${SLURM_ARRAY_TASK_COUNT:?}}
# The parts add up to one run's bytes only with the same OpenBLAS kernels on every node.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
mkdir -p "$OUT"
exec prune-stats compute "$MODEL" "$TEXT" --layer "$LAYER" --part "$K/$N" --resume \
    --threads "${SLURM_CPUS_PER_TASK:-0}" --quiet -o "$OUT/part-$K-of-$N.stats"
