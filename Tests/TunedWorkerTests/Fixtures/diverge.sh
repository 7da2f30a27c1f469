#!/bin/sh
echo "tuned: step=1 train_loss=2.5"
echo "tuned: step=2 train_loss=1e308"
echo "tuned: step=3 train_loss=inf val_loss=nan"
sleep 1000
