# plots.gp - the pictures of docs/benchmarks.md, drawn from the CSV files
# that `hashspace bench all --out DIR` writes. Run by bench/plots.sh:
#   gnuplot -e "data='DIR'; out='docs/img'; ext='svg'" bench/plots.gp
if (!exists("data")) data = 'bench-results'
if (!exists("out")) out = 'docs/img'
if (!exists("ext")) ext = 'svg'

if (ext eq 'png') {
    set terminal pngcairo size 960,560 font 'sans,10' noenhanced
} else {
    set terminal svg size 960,560 font 'sans,11' noenhanced background '#ffffff'
}
set datafile separator ','
set datafile missing 'NaN'
set grid ytics mytics lc rgb '#dddddd'
set border 3
set tics nomirror
set key outside right top
# Twelve colours that stay apart, then dash patterns.
array colour[12] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', \
                    '#e377c2', '#17becf', '#7f7f7f', '#bcbd22', '#000000', '#aec7e8']
do for [i=1:12] { set linetype i lc rgb colour[i] lw 2 pt (i % 7) + 1 ps 0.8 dt 1 }
do for [i=13:24] { set linetype i lc rgb colour[i - 12] lw 2 pt (i % 7) + 1 ps 0.8 dt 2 }

# The distinct values of column 1 of a CSV file, in order.
names(file) = system(sprintf("awk -F, 'NR > 1 && !seen[$1]++ { printf \"%%s \", $1 }' %s", file))

# ---- hash throughput by key size ----
f = data . '/hash_speed.csv'
set output out . '/hash-speed.' . ext
set title 'Hash throughput by key size (higher is better)'
set xlabel 'key size (bytes)'
set ylabel 'GB/s'
set logscale xy
set format x '%.0s%cB'
hashes = names(f)
plot for [h in hashes] f using 2:(strcol(1) eq h ? $4 : 1/0) with linespoints title h
unset format x
unset logscale

# ---- placement lookup cost by member count ----
# Columns by name: the table gains columns now and then.
f = data . '/placement.csv'
set output out . '/placement-lookup.' . ext
set title 'Placement lookup cost by member count (lower is better)'
set xlabel 'members'
set ylabel 'ns per lookup'
set logscale xy
methods = names(f)
plot for [m in methods] f \
     using (column('members')):(strcol(1) eq m ? column('lookup_ns') : 1/0) \
     with linespoints title m
set output out . '/placement-build.' . ext
set title 'Time to build a view of n members (lower is better)'
set ylabel 'ms'
plot for [m in methods] f \
     using (column('members')):(strcol(1) eq m ? column('view_build_ms') : 1/0) \
     with linespoints title m
unset logscale

# ---- the word list over 4 servers ----
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -35 left
set key autotitle columnheader
f = data . '/balance_hash.csv'
set output out . '/balance-words.' . ext
set title 'The English word list over 4 servers: % of words per server'
set xlabel ''
set ylabel '% of keys'
set yrange [0:*]
plot for [i=2:5] f using i:xtic(1) title sprintf('server %d', i - 2)
f = data . '/balance_placement.csv'
set output out . '/balance-words-placement.' . ext
set title 'The English word list over 4 servers, by placement method on xxh3'
plot for [i=2:5] f using i:xtic(1) title sprintf('server %d', i - 2)

# ---- peak-to-mean, 1M keys over 10 members ----
f = data . '/synthetic_balance_placement.csv'
set output out . '/balance-peak.' . ext
set title '1M keys over 10 members: peak-to-mean load (1 is perfect; goal < 1.01)'
set ylabel 'max / mean'
set yrange [0.99:*]
unset key
plot f using (column('peak_to_mean')):xtic(1) with histograms lc rgb '#1f77b4', \
     1.01 with lines lc rgb '#d62728' dt 2 lw 2 notitle
set key outside right top
set yrange [0:*]

# ---- movement on a join or a leave ----
do for [n in '10 1000'] {
    f = data . '/movement_ratio_' . n . '.csv'
    if (system('test -f ' . f . ' && echo y') eq 'y') {
        set output out . '/movement-' . n . '.' . ext
        set title sprintf('Keys moved / ideal when one of %s members joins or leaves (1 is minimal)', n)
        set ylabel 'moved / ideal (log)'
        set logscale y
        set yrange [0.3:*]
        plot for [i=2:5] f using i:xtic(1) title columnhead(i)
        unset logscale y
        set yrange [0:*]
    }
}
