# Accuracy against tokens per item, written by `smoa eval`.
# Redraw from this directory: gnuplot accuracy_vs_tokens.gp
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1000,640 font "Sans,11" noenhanced
} else {
    set terminal png size 1000,640 noenhanced
}
set output "accuracy_vs_tokens.png"
set title "Accuracy vs tokens per item (error bars: 95% Wilson interval)"
set xlabel "tokens per item (prompt + generated, all calls)"
set ylabel "accuracy (%)"
set yrange [0:105]
set ytics 0,20,100
set grid xtics ytics lt 1 lc rgb "#dadada" lw 1
set key outside right top title "mode"
set border 3
set tics nomirror
set logscale x 10
set xtics ("100" 100, "200" 200, "500" 500, "1000" 1000, "2000" 2000, "5000" 5000)
set xrange [78.8375:6002.94]
plot \
    "accuracy_vs_tokens.dat" index 0 using 1:2:3:4 with yerrorbars pt 7 ps 1.4 lw 2 lc rgb "#4477AA" title "single", \
    "" index 0 using 1:2:5 with labels left offset char 1,0.6 tc rgb "#4477AA" notitle, \
    "accuracy_vs_tokens.dat" index 1 using 1:2:3:4 with yerrorbars pt 7 ps 1.4 lw 2 lc rgb "#EE6677" title "moa", \
    "" index 1 using 1:2:5 with labels left offset char 1,0.6 tc rgb "#EE6677" notitle, \
    "accuracy_vs_tokens.dat" index 2 using 1:2:3:4 with yerrorbars pt 7 ps 1.4 lw 2 lc rgb "#228833" title "smoa", \
    "" index 2 using 1:2:5 with labels left offset char 1,0.6 tc rgb "#228833" notitle
