# perf/suite.sh's plot: latency percentiles against players, floord and its redis peer, with
# the original engine's published figures at 400 players.
#   gnuplot -e "dat='suite_plot.dat'; png='suite_latency.png'" perf/suite_plot.gp
set terminal pngcairo size 1000,640 noenhanced
set output png
set title "fix -> applied (floord) / fix -> stored (redis peer), paced at capture speed"
set xlabel "players"
set ylabel "latency (us, log scale)"
set logscale xy
set xrange [150:100000]
set grid
set key outside right
# index 0: floord, 1: peer_redis, 2: original engine (published)
plot dat index 0 using 1:2 with linespoints lw 2 lc rgb "#1f77b4" pt 7 title "floord p50", \
     dat index 0 using 1:4 with linespoints lw 2 lc rgb "#1f77b4" pt 5 dt 2 title "floord p99", \
     dat index 0 using 1:5 with linespoints lw 2 lc rgb "#1f77b4" pt 9 dt 3 title "floord p99.9", \
     dat index 1 using 1:2 with linespoints lw 2 lc rgb "#d62728" pt 7 title "redis peer p50", \
     dat index 1 using 1:4 with linespoints lw 2 lc rgb "#d62728" pt 5 dt 2 title "redis peer p99", \
     dat index 1 using 1:5 with linespoints lw 2 lc rgb "#d62728" pt 9 dt 3 title "redis peer p99.9", \
     dat index 2 using 1:2 with points pt 6 ps 2 lc rgb "#2ca02c" title "original p50 (published)", \
     dat index 2 using 1:4 with points pt 4 ps 2 lc rgb "#2ca02c" title "original p99 (published)", \
     dat index 2 using 1:5 with points pt 8 ps 2 lc rgb "#2ca02c" title "original p99.9 (published)"
