#!/bin/sh
# Starts a grandchild, records its pid in $PID_FILE, reports a metric and waits forever.
sleep 1000 &
echo $! > "$PID_FILE"
echo "tuned: step=1 loss=1"
wait
