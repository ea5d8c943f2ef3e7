#!/bin/bash
# Runs the parts as an indexed Job, waits for all of them, then the merge.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubectl apply -f "$here/k8s-parts-job.yaml"
kubectl wait --for=condition=complete --timeout=48h job/prune-stats-parts
kubectl apply -f "$here/k8s-merge-job.yaml"
kubectl wait --for=condition=complete --timeout=2h job/prune-stats-merge
