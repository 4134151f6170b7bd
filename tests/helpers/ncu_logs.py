"""ncu logs as `ncu --csv` writes them, for the parsers and for stand-in `ncu` scripts."""

# A sample in the shape `ncu --csv --metrics <ncu_metric_names()> ./prog` prints (auto units), with the program's own
# output and the profiler's messages before the table; two launches of one kernel and one of another.
NCU_CSV_HEADER = ('"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size",'
                  '"Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"')
_METRICS = [
    ("dram__bytes.sum", "Mbyte", "{dram_mb}"),
    ("dram__bytes.sum.per_second", "Tbyte/second", "{dram_tbs}"),
    ("dram__bytes.sum.peak_sustained", "Kbyte/cycle", "1.02"),
    ("dram__cycles_elapsed.avg.per_second", "cycle/nsecond", "2.62"),
    ("gpu__time_duration.sum", "usecond", "{us}"),
    ("sm__cycles_elapsed.avg.per_second", "cycle/nsecond", "1.75"),
    ("sm__sass_thread_inst_executed_op_ffma_pred_on.sum.peak_sustained", "inst/cycle", "16,896"),
    ("smsp__cycles_elapsed.avg.per_second", "cycle/nsecond", "1.75"),
    ("smsp__sass_thread_inst_executed_op_fadd_pred_on.sum.per_cycle_elapsed", "inst/cycle", "{fadd}"),
    ("smsp__sass_thread_inst_executed_op_ffma_pred_on.sum.per_cycle_elapsed", "inst/cycle", "{ffma}"),
    ("smsp__sass_thread_inst_executed_op_fmul_pred_on.sum.per_cycle_elapsed", "inst/cycle", "{fmul}"),
]


def ncu_launch_rows(launch_id, kernel, **vals):
    rows = []
    for name, unit, value in _METRICS:
        rows.append(
            f'"{launch_id}","4242","prog","host","{kernel}","1","7","(256, 1, 1)","(4096, 1, 1)","0","9.0",'
            f'"Command line profiler metrics","{name}","{unit}","{value.format(**vals)}"'
        )
    return rows


SAMPLE_CSV = "\n".join(
    [
        "==PROF== Connected to process 4242 (/tmp/work/prog)",
        "result: T",
        "==PROF== Profiling \"relu_kernel\" - 0: 0%....50%....100% - 9 passes",
        "==PROF== Profiling \"relu_kernel\" - 1: 0%....50%....100% - 9 passes",
        "==PROF== Profiling \"init\" - 2: 0%....50%....100% - 9 passes",
        "==PROF== Disconnected from process 4242",
        NCU_CSV_HEADER,
        *ncu_launch_rows(0, "relu_kernel(const float *, float *, int)", dram_mb="2,147.48", dram_tbs="2.80",
                      us="766.50", fadd="0", ffma="0", fmul="0"),
        *ncu_launch_rows(1, "relu_kernel(const float *, float *, int)", dram_mb="2,147.48", dram_tbs="2.90",
                      us="740.10", fadd="0", ffma="0", fmul="0"),
        *ncu_launch_rows(2, "init(float *, int)", dram_mb="1,073.74", dram_tbs="2.50", us="429.50", fadd="n/a",
                      ffma="0", fmul="0"),
    ]
) + "\n"
