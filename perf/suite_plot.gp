# perf/suite.sh's plots, from suite_plot.dat (perf/suite.py writes it): latency percentiles,
# median over the runs with min..max bars, floord against its redis peer, with the original
# engine's published figures at 400 players.
#   gnuplot -e "dat='suite_plot.dat'; png='suite_latency.png'; png_rate='suite_rate.png'; png_claim='suite_claim.png'" perf/suite_plot.gp
# Blocks (index): 0 floord / 1 peer against players (20 Hz; 65 535 at 30 Hz), 2 / 3 against the
# fix rate at 400 players, 4 / 5 at 65 535 players, 6 the original engine, 7 / 8 claim latency
# against players. Columns: x, then median min max of p50, p95, p99, p99.9 (us).
set terminal pngcairo size 1100,680 noenhanced
set grid
set key outside right
set logscale y
set ylabel "latency (us, log scale)"
F = "#1f77b4"; P = "#d62728"; O = "#2ca02c"

set output png
set title "latency against players, paced at capture speed (median of the runs, bars min..max)"
set xlabel "players (20 Hz; 65 535 at 30 Hz)"
set logscale x
set xrange [150:100000]
plot dat index 0 using 1:2:3:4 with yerrorlines lw 2 lc rgb F pt 7 title "floord p50", \
     dat index 0 using 1:8:9:10 with yerrorlines lw 2 lc rgb F pt 5 dt 2 title "floord p99", \
     dat index 0 using 1:11:12:13 with yerrorlines lw 2 lc rgb F pt 9 dt 3 title "floord p99.9", \
     dat index 1 using 1:2:3:4 with yerrorlines lw 2 lc rgb P pt 7 title "redis peer p50", \
     dat index 1 using 1:8:9:10 with yerrorlines lw 2 lc rgb P pt 5 dt 2 title "redis peer p99", \
     dat index 1 using 1:11:12:13 with yerrorlines lw 2 lc rgb P pt 9 dt 3 title "redis peer p99.9", \
     dat index 6 using 1:2 with points pt 6 ps 2 lc rgb O title "original p50 (published)", \
     dat index 6 using 1:4 with points pt 4 ps 2 lc rgb O title "original p99 (published)", \
     dat index 6 using 1:5 with points pt 8 ps 2 lc rgb O title "original p99.9 (published)"

set output png_rate
set title "latency against fix rate: 400 players solid, 65 535 dashed (median, bars min..max)"
set xlabel "fixes per player per second (Hz)"
unset logscale x
set logscale x
set xrange [8:120]
plot dat index 2 using 1:2:3:4 with yerrorlines lw 2 lc rgb F pt 7 title "floord 400 p p50", \
     dat index 2 using 1:11:12:13 with yerrorlines lw 2 lc rgb F pt 9 title "floord 400 p p99.9", \
     dat index 3 using 1:2:3:4 with yerrorlines lw 2 lc rgb P pt 7 title "redis peer 400 p p50", \
     dat index 3 using 1:11:12:13 with yerrorlines lw 2 lc rgb P pt 9 title "redis peer 400 p p99.9", \
     dat index 4 using 1:2:3:4 with yerrorlines lw 2 lc rgb F pt 7 dt 2 title "floord 65 535 p p50", \
     dat index 4 using 1:11:12:13 with yerrorlines lw 2 lc rgb F pt 9 dt 2 title "floord 65 535 p p99.9", \
     dat index 5 using 1:2:3:4 with yerrorlines lw 2 lc rgb P pt 7 dt 2 title "redis peer 65 535 p p50", \
     dat index 5 using 1:11:12:13 with yerrorlines lw 2 lc rgb P pt 9 dt 2 title "redis peer 65 535 p p99.9"

set output png_claim
set title "claim latency against players (floord: when its report has claim_latency_ns)"
# A fixed range: without it an empty plot (no floord figures, no peer) is an error, not a plot.
set yrange [1:1e8]
set xlabel "players (20 Hz; 65 535 at 30 Hz)"
set logscale x
set xrange [150:100000]
plot dat index 7 using 1:2:3:4 with yerrorlines lw 2 lc rgb F pt 7 title "floord claim p50", \
     dat index 7 using 1:8:9:10 with yerrorlines lw 2 lc rgb F pt 5 dt 2 title "floord claim p99", \
     dat index 8 using 1:2:3:4 with yerrorlines lw 2 lc rgb P pt 7 title "redis peer claim p50", \
     dat index 8 using 1:8:9:10 with yerrorlines lw 2 lc rgb P pt 5 dt 2 title "redis peer claim p99"
