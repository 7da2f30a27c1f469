#!/bin/sh
# Metric lines with all sorts of other output between them.
echo "loading data..."
echo "tuned: step=10 train_loss=0.9 val_loss=1.25 lr=0.01"
echo "Epoch 1/3 [=====>    ] 50%"
echo "tuned: step=20 train_loss=0.5 bogus val_loss=abc 9lives=1 =3 val_accuracy=0.8 gns=12.5"
echo "tuned: progress 30%"
echo "tuned:step=25"
printf 'no newline yet, '
printf 'now\n'
echo "tuned: step=x train_loss=1"
echo "	tuned: step=99 train_loss=7 (indented: not a metric line)"
printf 'tuned: step=30 train_loss=0.25 val_loss=1e-1 lr=-inf extra=NaN\r\n'
printf 'tuned: step=40 train_loss=0.125'
