#!/bin/bash
# Interleaved A/B of berth builds: ab.sh N NAME... runs `berth run --rm
# --network none busybox true` N rounds, one run of each /tmp/ab/NAME/berth
# per round (a copy of a build's src/main directory), and prints each one's
# median wall time and, unless NOPHASE=1, its step medians (analyze.py).
# The root is /tmp/hb/root (make it with scripts/make-busybox-image --root).
N=$1; shift
export BERTH_RUNROOT=/run/hb
for n in "$@"; do rm -f /tmp/ab/$n.log /tmp/ab/$n.wall; done
for i in $(seq $N); do for n in "$@"; do
  if [ -n "$NOPHASE" ]; then unset BERTH_PHASES; else export BERTH_PHASES=/tmp/ab/$n.log; fi
  s=$(date +%s%N); /tmp/ab/$n/berth --root /tmp/hb/root run --rm ${NET:---network none} busybox true; e=$(date +%s%N)
  echo $(( (e-s)/1000 )) >> /tmp/ab/$n.wall
done; done
for n in "$@"; do echo "== $n wall median ms: $(sort -n /tmp/ab/$n.wall | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}')"
  [ -z "$NOPHASE" ] && python3 "$(dirname "$0")/analyze.py" /tmp/ab/$n.log | grep -E 'cli run callback|create resolved|cli created|monitor forked|monitor db|rt create begin|rt init created|monitor runtime started|relay init reaped|finish released|cli socket closed'; done
