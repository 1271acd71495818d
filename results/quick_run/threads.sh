#!/usr/bin/env bash
# Why the README's first run sets OMP_NUM_THREADS=1: its two trainings side by side on a 2-core machine at 2000 steps
# (1000 updates each), twice with torch's default threads (2 per process here, 4 on 2 cores) and twice with one
# thread each, alternating, each pair capped at 300 s (rc 124: stopped by the cap). threads.log is its output of 2026-12-05 on this project's
# 2-core machine with every other training paused (results/walker2d_v5/pauses.md).
# Run from the repo root:  bash results/quick_run/threads.sh > results/quick_run/threads.log
py=${PYTHON:-python} r=$(pwd)
for mode in default one default one; do
  rm -rf /tmp/thr && mkdir -p /tmp/thr && cd /tmp/thr
  [ $mode = one ] && export OMP_NUM_THREADS=1 || unset OMP_NUM_THREADS
  s=$(date +%s.%N)
  timeout 300 $py $r/td3_pave.py --env-id Pendulum-v1 --total-timesteps 2000 --learning-starts 1000 --gamma 0.98 --buffer-size 200000 --lambda1 0 --lambda2 0 --lambda3 0 --exp-name td3 --checkpoint-interval 0 > a.txt 2>&1 & a=$!
  timeout 300 $py $r/td3_pave_fast.py --env-id Pendulum-v1 --total-timesteps 2000 --learning-starts 1000 --gamma 0.98 --buffer-size 200000 --lambda1 2.0 --lambda2 0.005 --lambda3 2.0 --exp-name td3_pave --checkpoint-interval 0 > b.txt 2>&1 & b=$!
  wait $a; ra=$?; wait $b; rb=$?  # 124: stopped by the 300 s cap
  echo "$mode threads: rc $ra $rb, both ended in $($py -c "print(round($(date +%s.%N) - $s, 1))") s; load $(cut -d' ' -f1-3 /proc/loadavg)"
done
