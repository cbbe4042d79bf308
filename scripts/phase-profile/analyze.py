#!/usr/bin/env python3
"""Medians of a $BERTH_PHASES log (see instrument.py): for each step, when it
came after the CLI's main (at) and after the step before it (step), in ms,
over all runs but the first three (warm-up)."""
import sys, statistics, collections
lines=[l.split(None,2) for l in open(sys.argv[1])]
runs=[]; cur=None
for t,pid,what in lines:
    t=float(t); what=what.strip()
    if what=="berth main" and (cur is None or cur.get("_done")):
        cur={"_t0":t,"_ev":[]}; runs.append(cur)
    if what=="cli socket closed": cur["_done"]=True
    cur["_ev"].append((what,t))
acc=collections.OrderedDict()
for r in runs[3:]:
    prev=r["_t0"]; seen=collections.Counter()
    for what,t in r["_ev"]:
        seen[what]+=1
        key=f"{what}#{seen[what]}"
        acc.setdefault(key,[]).append(((t-r["_t0"])*1000,(t-prev)*1000)); prev=t
for k,v in acc.items():
    print(f"{k:32s} at {statistics.median(x[0] for x in v):7.2f}  step {statistics.median(x[1] for x in v):6.2f}")
