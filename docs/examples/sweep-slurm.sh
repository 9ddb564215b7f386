#!/bin/bash
# The study's sweep on a Slurm cluster: PARTS array tasks each run one part of the grid
# (`sweep --shard k/PARTS`), then one job merges the parts into a single report.
#
#   bash docs/examples/sweep-slurm.sh        # from the project's folder, on a file system every node sees
#
# Run by hand, the script submits itself: an array of PARTS tasks, and a merge job that starts when the
# whole array has ended (afterany: a failed part leaves its runs out, and the merged report lists them as
# missing; submitting the array again resumes the unfinished runs from their checkpoints).
#SBATCH --job-name=snn-voice-sweep
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=48:00:00
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail

PARTS=${PARTS:-8}
OUT=${OUT:-runs/sweep}
# The grid: every part must run the same flags (sweep.json in each part's folder records them).
SWEEP_FLAGS=${SWEEP_FLAGS:---models m5,piczak,hjh,tcy --steps 1,5,15,30 --epochs 10 --convert ecc}

if [ "${1:-}" = merge ]; then
  npx snn-voice sweep --merge "$OUT"/part-* --out "$OUT/all"
elif [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
  # Slurm counts array tasks from 0, --shard counts parts from 1.
  k=$((SLURM_ARRAY_TASK_ID + 1))
  # shellcheck disable=SC2086 # SWEEP_FLAGS is a list of flags
  npx snn-voice sweep $SWEEP_FLAGS --shard "$k/$PARTS" --out "$OUT/part-$k"
else
  export PARTS OUT SWEEP_FLAGS
  array=$(sbatch --parsable --export=ALL --array=0-$((PARTS - 1)) "$0")
  sbatch --export=ALL --job-name=snn-voice-merge --dependency=afterany:"$array" "$0" merge
fi
