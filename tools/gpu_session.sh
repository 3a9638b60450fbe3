#!/usr/bin/env bash
# The README's "On a GPU" list as one time-boxed run for a device lease of about 15 minutes.
#
#     OUT=/tmp/gpu-out bash tools/gpu_session.sh          # on the GPU machine, from the repo root
#     GPU_QUICK=1 OUT=/tmp/gpu-out bash tools/gpu_session.sh   # a tiny dry run (any machine)
#
# Every step runs under `timeout` with its own box, so one slow step cannot eat the lease;
# the log ($OUT/log.txt) says what ran, for how long and with which exit status. What the
# steps write in the work tree (weights and cards, results, figures, the benchmark page)
# comes back as $OUT/weights.tar and $OUT/docs.tar; unpack them over a clone of the same commit.
set -u
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
QUICK=${GPU_QUICK:-0}
BUDGET=${GPU_BUDGET:-560}  # seconds for the whole script
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
LOG="$OUT/log.txt"
LOGS=$(mktemp -d)  # one log per step; they come back as $OUT/logs.tar (few files travel)
T0=$(date +%s)
touch "$LOGS/.start"

elapsed() { echo $(($(date +%s) - T0)); }
left() { echo $((BUDGET - $(elapsed))); }

# step NAME BOX CMD...: run CMD for at most BOX seconds (never past the budget)
step() {
  local name=$1 box=$2
  shift 2
  local l
  l=$(left)
  ((box > l)) && box=$l
  if ((box < 5)); then
    echo "== skip $name: no time left" >>"$LOG"
    return 124
  fi
  echo "== start $name at +$(elapsed)s (box ${box}s): $*" >>"$LOG"
  timeout -k 10 "$box" "$@" >"$LOGS/$name.log" 2>&1
  local rc=$?
  echo "== end   $name at +$(elapsed)s: rc $rc" >>"$LOG"
  return $rc
}

{
  echo "== $(date -u +%FT%TZ) quick=$QUICK budget=${BUDGET}s"
  nvidia-smi -L 2>&1
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  nproc
} >>"$LOG" 2>&1

if [ "$QUICK" = 1 ]; then
  BENCH=(--quick --presets 64x64_diffusion)
  TRAIN=(--steps 20)
  LATENT=(--quick)
  MEASURE=(--quick)
  FEW=(--quick --out "$OUT/fewstep-quick")  # not the cache that --ship reads
  FEWBENCH=(--quick)
  OBJ=(--quick)
  FIGS=(--quick --only schedules odes)
else
  BENCH=(--presets 64x64_diffusion 256x256_diffusion_uncond --modes eager --warmup 3 --iters 10)
  # (contiguous memory by default; --channels-last measured slower on an H200, 2026-11-29)
  TRAIN=()
  LATENT=()
  MEASURE=(--threads 2)
  FEW=()
  FEWBENCH=(--out docs/fewstep/benchmark-cpu.md)
  OBJ=()
  # every family but the chapter map (it reads the nav through mkdocs, which the GPU image lacks)
  FIGS=(--force --only $(python3 -c "from tools.figures import families; print(*(f for f in families() if f != 'chapter_map'))"))
fi

# 1. no host-device synchronisation inside the sampler loops
step sync 90 python3 -m tools.gpu_checks sync

# 2. the ADM UNet forward benchmark, alone on the GPU (eager; compiled at the end if time is left);
#    SKIP_BENCH=1 skips it when an earlier session measured it
[ "${SKIP_BENCH:-0}" = 1 ] || step unet-eager 150 python3 -m benchmarks.unet "${BENCH[@]}" --json "$OUT/unet-eager.json"

# 3. optional (FEWSTEP=1; trained at full spec on two CPU cores on 2026-11-30, at most 14 min a
#    model): the few-step students of the "Few steps" chapter, one process per model on the GPU;
#    reflow after its 1-rectified flow. Then they are shipped, and the benchmark runs on the CPU cores.
BENCH_PID=
if [ "${FEWSTEP:-0}" = 1 ] || [ "$QUICK" = 1 ]; then
  pids=()
  for m in digits-pd digits-cd digits-ict ring8-pd ring8-cd ring8-ict; do
    step "fewstep-$m" 300 python3 -m tools.train_fewstep --only "$m" --quiet "${FEW[@]}" &
    pids+=($!)
  done
  for d in digits ring8; do
    { step "fewstep-$d-rf1" 200 python3 -m tools.train_fewstep --only "$d-rf1" --quiet "${FEW[@]}" &&
      step "fewstep-$d-rf2" 120 python3 -m tools.train_fewstep --only "$d-rf2" --quiet "${FEW[@]}"; } &
    pids+=($!)
  done
  wait "${pids[@]}"
  [ "$QUICK" = 1 ] || step fewstep-ship 30 python3 -m tools.train_fewstep --ship  # (a dry run ships nothing)
  step fewstep-bench 200 python3 -m benchmarks.fewstep "${FEWBENCH[@]}" &
  BENCH_PID=$!
fi

# 4. optional (measured on the CPU already): the glyph family and its experiments (GLYPHS=1,
#    2026-11-30 on two CPU cores), the four training objectives on digits (OBJECTIVES=1)
if [ "${GLYPHS:-0}" = 1 ]; then
  step glyphs-vae 240 python3 -m tools.train_shipped --only glyphs-vae --threads 8 --quiet "${TRAIN[@]}"
  pids=()
  step glyphs-unet 240 python3 -m tools.train_shipped --only glyphs-unet --threads 4 --quiet "${TRAIN[@]}" &
  pids+=($!)
  step glyphs-dit 240 python3 -m tools.train_shipped --only glyphs-dit --threads 4 --quiet "${TRAIN[@]}" &
  pids+=($!)
  for v in unet-flow dit-vp mmdit-flow dit-vp-unscaled; do
    step "train-$v" 240 python3 -m tools.latent_experiments --train-only --quiet --variants "$v" "${LATENT[@]}" &
    pids+=($!)
  done
  wait "${pids[@]}"
  for v in unet-vp unet-flow dit-vp dit-flow mmdit-flow dit-vp-unscaled; do
    step "grid-$v" 220 python3 -m tools.latent_experiments --only grid --quiet --variants "$v" "${MEASURE[@]}" &
  done
  step guidance 220 python3 -m tools.latent_experiments --only guidance --quiet "${MEASURE[@]}" &
  wait $(jobs -p | grep -v "^$BENCH_PID\$")
  step latent-merge 60 python3 -m tools.latent_experiments --merge-only "${MEASURE[@]}"
fi
[ "${OBJECTIVES:-0}" = 1 ] && step objectives 330 python3 -m tools.train_objectives --threads 2 "${OBJ[@]}"

# 5. every figure, once the results they read are written
[ -z "$BENCH_PID" ] || wait "$BENCH_PID"
step figures 220 python3 -m tools.figures --jobs 4 "${FIGS[@]}"

# 6. compiled UNet rows, if time is left (alone on the GPU again)
if [ "$QUICK" != 1 ]; then
  step unet-compiled 150 python3 -m benchmarks.unet --presets 64x64_diffusion 256x256_diffusion_uncond \
    --batch 64 --modes compiled --compiled-dtypes bf16 --dtypes bf16 --warmup 3 --iters 10 \
    --json "$OUT/unet-compiled.json"
fi
wait
jsons=$(ls benchmarks/results/unet-*.json "$OUT"/unet-*.json 2>/dev/null)  # with the rows measured before
if [ "$QUICK" = 1 ]; then  # a dry run prints the table; the page keeps its measured rows
  step unet-table 30 python3 -m benchmarks.unet --from-json "$OUT"/unet-*.json
elif [ -n "$jsons" ]; then
  step unet-table 30 python3 -m benchmarks.unet --from-json $jsons --out docs/models/benchmark.md
fi

# what the steps changed in the work tree: weights and the rest in two archives (each comes
# back only under 16 MB)
find src/difflearn/weights -type f -newer "$LOGS/.start" -not -name '*.tmp' >"$LOGS/weights.txt"
find docs tools/results -type f -newer "$LOGS/.start" -not -name '*.tmp' >"$LOGS/docs.txt" 2>/dev/null
tar -cf "$OUT/weights.tar" -T "$LOGS/weights.txt"
tar -cf "$OUT/docs.tar" -T "$LOGS/docs.txt"
echo "== done at +$(elapsed)s; $(cat "$LOGS"/weights.txt "$LOGS"/docs.txt | wc -l) files changed" >>"$LOG"
tar -cf "$OUT/logs.tar" -C "$LOGS" .
cat "$LOG"
