/* report_plot.h - the plot of accuracy against tokens per item: one point
 * per (dataset, mode) of the right/wrong data sets, drawn by gnuplot.
 * Internal to the report modules. */
#ifndef SMOA_EVAL_REPORT_PLOT_H
#define SMOA_EVAL_REPORT_PLOT_H

#include "eval/report.h"

typedef enum eval_plot_outcome {
    EVAL_PLOT_DRAWN,           /* accuracy_vs_tokens.png written            */
    EVAL_PLOT_NOTHING_TO_PLOT, /* only rated data sets: no accuracy to show */
    EVAL_PLOT_NO_GNUPLOT,      /* .gp and .dat written, gnuplot not found   */
    EVAL_PLOT_GNUPLOT_FAILED   /* gnuplot ran and failed: see the .log      */
} eval_plot_outcome;

typedef struct eval_plot_result {
    eval_plot_outcome outcome;
    int exit_status; /* gnuplot's, when it failed; -1 when it was killed */
} eval_plot_result;

#define EVAL_PLOT_SCRIPT "accuracy_vs_tokens.gp"
#define EVAL_PLOT_DATA "accuracy_vs_tokens.dat"
#define EVAL_PLOT_IMAGE "accuracy_vs_tokens.png"
#define EVAL_PLOT_LOG "accuracy_vs_tokens.log"

/* Writes dir's .gp and .dat and runs gnuplot on them (found on the PATH,
 * in dir, output to its .log which is removed on success). Only failing to
 * write the files is an error (SMOA_ERR_IO, SMOA_ERR_OUT_OF_MEMORY); what
 * became of the drawing is in *result. */
smoa_status eval_plot_write(const char *dir, const smoa_eval_summary *summary,
                            eval_plot_result *result, smoa_error *err);

#endif
