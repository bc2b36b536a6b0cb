#!/usr/bin/env bash
# rsdetect over a large folder of imagery as a Slurm job array: task K of N
# takes share K (by a hash of each path) and writes its own outputs; merge
# them when all tasks are done:
#
#   jobid=$(sbatch --parsable deploy/slurm-array.sh /data/imagery /data/out)
#   sbatch --dependency=afterok:$jobid --wrap "rsdetect merge /data/out/shard-* --out /data/out/all"
#
# A task that is killed or preempted can be requeued: rasters it finished are
# skipped on rerun.
#SBATCH --job-name=rsdetect
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=3G
#SBATCH --requeue
set -euo pipefail
imagery=${1:?usage: slurm-array.sh IMAGERY_DIR OUT_DIR}
out=${2:?usage: slurm-array.sh IMAGERY_DIR OUT_DIR}
n=$(( SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN + 1 ))
k=$(( SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN ))
exec rsdetect detect "$imagery" --shard "$k/$n" --out "$out/shard-$k"
