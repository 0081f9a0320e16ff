# cluster.gp - the picture of docs/benchmarks.md's cluster section, from the
# cluster.csv that bench/peers_cluster/peers_cluster.py writes:
#   gnuplot -e "data='docs/data'; out='docs/img'" bench/peers_cluster/cluster.gp
# (ext='png' for a PNG).
if (!exists("data")) data = 'docs/data'
if (!exists("out")) out = 'docs/img'
if (!exists("ext")) ext = 'svg'
if (ext eq 'png') {
    set terminal pngcairo size 960,520 font 'sans,10' noenhanced
} else {
    set terminal svg size 960,520 font 'sans,11' noenhanced background '#ffffff'
}
set output out . '/cluster.' . ext
set datafile separator ','
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set xtics rotate by -20 left
set key autotitle columnhead  # the CSV's first line names the columns
unset key
set multiplot layout 1,2 title 'Same workload, 4 consumers (median of the rounds)'
set title 'delivered msg/s (higher is better)'
set logscale y
set format y '%.0s%c'
plot data . '/cluster.csv' using (column('msg_per_s')):xtic(1) lc rgb '#1f77b4'
set title 'CPU µs per message, servers/hubs (lower is better)'
unset format y
plot data . '/cluster.csv' using (column('server_cpu_us')):xtic(1) lc rgb '#d62728'
unset multiplot
