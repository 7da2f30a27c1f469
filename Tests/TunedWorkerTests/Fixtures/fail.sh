#!/bin/sh
# Prints a metric, then a lot of stderr ending in the real error, then exits 3.
echo "tuned: step=1 loss=0.5"
i=0
while [ $i -lt 200 ]; do echo "noise line $i: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" >&2; i=$((i + 1)); done
echo "Traceback (most recent call last):" >&2
echo "ValueError: learning rate must be positive" >&2
exit 3
