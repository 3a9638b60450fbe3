#!/usr/bin/env bash
# How the digits models of the "Few steps" chapter were trained for the committed results:
# the same `python -m tools.train_fewstep` specs, four models in parallel on one GPU
# (the session's time did not allow the ~1 h of CPU they need one after the other).
# Usage: OUT=/some/dir bash tools/train_fewstep_gpu.sh   (python3 with torch, CUDA)
set -u
export PYTHONPATH=src PYTHONUNBUFFERED=1
python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name())"
mkdir -p "$OUT/logs"
# 1. a tiny run of each on the GPU: stop early if one fails
for m in digits-pd digits-cd digits-ict; do
  timeout 120 python3 -m tools.train_fewstep --quick --quiet --out /tmp/q --only $m \
    > "$OUT/logs/quick-$m.log" 2>&1 &
done
timeout 120 python3 -m tools.train_fewstep --quick --quiet --out /tmp/q --only digits-rf1 \
  --only digits-rf2 > "$OUT/logs/quick-digits-rf.log" 2>&1 &
fail=0; for j in $(jobs -p); do wait $j || fail=1; done
tail -n 3 "$OUT"/logs/quick-*.log
if [ $fail = 1 ]; then tar czf "$OUT/fewstep.tgz" -C "$OUT" logs; exit 3; fi
# 2. the full specs, in parallel
for m in digits-pd digits-cd digits-ict; do
  timeout "${LIMIT:-480}" python3 -m tools.train_fewstep --quiet --only $m > "$OUT/logs/$m.log" 2>&1 &
done
timeout "${LIMIT:-480}" python3 -m tools.train_fewstep --quiet --only digits-rf1 --only digits-rf2 \
  > "$OUT/logs/digits-rf.log" 2>&1 &
for j in $(jobs -p); do wait $j; echo "job $j: $?"; done
tail -n 6 "$OUT"/logs/digits-*.log
# 3. bring back: the records, and the weights in float16 (the size of the transfer)
mkdir -p "$OUT/models" && cp .cache/fewstep/*.json "$OUT/models/"
python3 - <<'PY'
import os, pathlib
from safetensors.torch import load_file, save_file
for f in pathlib.Path(".cache/fewstep").glob("*.safetensors"):
    t = load_file(str(f))
    save_file({k: v.half() for k, v in t.items()}, os.environ["OUT"] + "/models/" + f.name)
PY
tar cf - -C "$OUT" logs models | split -b 15M - "$OUT/fewstep.tar.part-"
rm -rf "$OUT/logs" "$OUT/models"; ls -la "$OUT"
