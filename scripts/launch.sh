#!/bin/sh
# Runs the bot (npm start, npm run dev) or the benchmarks with glibc's malloc
# returning freed memory to the system.
#
# By default glibc raises its mmap threshold (up to 32 MB) each time a large
# block is freed, so after the first model load the generation workers'
# multi-MB buffers (the weights read from disk, the per-step activations) come
# from per-thread arenas that keep their high-water mark. Fixing the threshold
# at 4 MB sends the large buffers to mmap, freed at once; fixing it also fixes
# the trim threshold at 128 kB, which made every decoding step give pages back
# and fault them in again, so that one is set to 16 MB. Soak of the 2x512
# model (npm run bench -- --only soak, 20 hot-swaps): RSS +21.5 % by default,
# +2.5 % and -0.8 % in two runs with these. glibc reads them once, at process start, so they are set
# here, before node; other C libraries (macOS, musl) ignore them. An
# operator's own values win.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-4194304}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-16777216}"
exec "$@"
