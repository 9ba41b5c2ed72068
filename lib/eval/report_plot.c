/* report_plot.c - accuracy against tokens per item: a gnuplot script and
 * its data written into the run directory, then drawn by gnuplot.
 *
 * The script names its files relative to the run directory, so a reader
 * can edit it and redraw with `cd DIR && gnuplot accuracy_vs_tokens.gp`;
 * the library runs exactly that, through /bin/sh, which passes the
 * directory as an argument (no quoting of paths) and reports a missing
 * gnuplot as exit status 127. */
#include "eval/report_plot.h"

#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eval/report_records.h"

extern char **environ;

enum { N_MODES = 3 };

/* Colour-blind-safe colours per mode (Paul Tol's "bright" scheme). */
static const char *const mode_colours[N_MODES] = {"#4477AA", "#EE6677", "#228833"};

static bool is_plotted(const smoa_eval_group *g) {
    return !g->rated && g->items > 0 && isfinite(g->total_tokens);
}

/* ------------------------------------------------------------------------ */
/* The data: one block per mode that has points (gnuplot's "index")         */

/* A data set name as a quoted gnuplot string: quotes, backslashes and
 * control characters, which would end or bend it, become '_'. */
static void write_label(FILE *f, const char *name) {
    fputc('"', f);
    for (const char *c = name; *c; c++)
        fputc(*c == '"' || *c == '\\' || (unsigned char)*c < 0x20 ? '_' : *c, f);
    fputc('"', f);
}

static void write_block(FILE *f, const smoa_eval_summary *s, smoa_mode mode) {
    fprintf(f, "# %s: tokens/item  accuracy%%  low%%  high%%  dataset\n", smoa_eval_mode_name(mode));
    for (size_t i = 0; i < s->n_groups; i++) {
        const smoa_eval_group *g = &s->groups[i];
        if (g->mode != mode || !is_plotted(g)) continue;
        fprintf(f, "%.6g %.6g %.6g %.6g ", g->total_tokens, 100.0 * g->accuracy.estimate,
                100.0 * g->accuracy.low, 100.0 * g->accuracy.high);
        write_label(f, g->dataset);
        fputc('\n', f);
    }
    fputs("\n\n", f); /* two blank lines end a gnuplot index block */
}

static bool mode_has_points(const smoa_eval_summary *s, smoa_mode mode) {
    for (size_t i = 0; i < s->n_groups; i++)
        if (s->groups[i].mode == mode && is_plotted(&s->groups[i])) return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* The script                                                               */

typedef struct x_range {
    double low, high;
    bool logarithmic;
} x_range;

/* Logarithmic when the points span a factor of 10 or more (single vs
 * several layers of agents easily does), with room for the labels. */
static x_range choose_x_range(const smoa_eval_summary *s) {
    double lo = INFINITY, hi = 0.0;
    for (size_t i = 0; i < s->n_groups; i++) {
        if (!is_plotted(&s->groups[i])) continue;
        lo = fmin(lo, s->groups[i].total_tokens);
        hi = fmax(hi, s->groups[i].total_tokens);
    }
    x_range r = {0.0, hi > 0.0 ? hi * 1.25 : 1.0, false};
    if (lo > 0.0 && hi / lo >= 10.0) {
        r.low = lo / 1.6;
        r.high = hi * 2.5;
        r.logarithmic = true;
    }
    return r;
}

/* Tics at 1, 2 and 5 times the powers of ten in range: gnuplot's own
 * logarithmic tics label only the powers, too few over one or two decades. */
static void write_log_tics(FILE *f, x_range x) {
    static const double steps[] = {1.0, 2.0, 5.0};
    fputs("set logscale x 10\nset xtics (", f);
    const char *separator = "";
    for (double decade = pow(10.0, floor(log10(x.low))); decade <= x.high; decade *= 10.0) {
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            double tic = steps[i] * decade;
            if (tic < x.low || tic > x.high) continue;
            fprintf(f, "%s\"%g\" %g", separator, tic, tic);
            separator = ", ";
        }
    }
    fputs(")\n", f);
}

static void write_preamble(FILE *f, x_range x) {
    fputs("# Accuracy against tokens per item, written by `smoa eval`.\n"
          "# Redraw from this directory: gnuplot " EVAL_PLOT_SCRIPT "\n"
          "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
          "    set terminal pngcairo size 1000,640 font \"Sans,11\" noenhanced\n"
          "} else {\n"
          "    set terminal png size 1000,640 noenhanced\n"
          "}\n"
          "set output \"" EVAL_PLOT_IMAGE "\"\n"
          "set title \"Accuracy vs tokens per item (error bars: 95% Wilson interval)\"\n"
          "set xlabel \"tokens per item (prompt + generated, all calls)\"\n"
          "set ylabel \"accuracy (%)\"\n"
          "set yrange [0:105]\n"
          "set ytics 0,20,100\n"
          "set grid xtics ytics lt 1 lc rgb \"#dadada\" lw 1\n"
          "set key outside right top title \"mode\"\n"
          "set border 3\n"
          "set tics nomirror\n",
          f);
    if (x.logarithmic) write_log_tics(f, x);
    fprintf(f, "set xrange [%.6g:%.6g]\n", x.low, x.high);
}

static void write_plot_command(FILE *f, const smoa_eval_summary *s) {
    fputs("plot", f);
    int block = 0;
    for (int m = 0; m < N_MODES; m++) {
        if (!mode_has_points(s, (smoa_mode)m)) continue;
        const char *colour = mode_colours[m];
        fprintf(f,
                "%s \\\n    \"" EVAL_PLOT_DATA "\" index %d using 1:2:3:4 with yerrorbars"
                " pt 7 ps 1.4 lw 2 lc rgb \"%s\" title \"%s\", \\\n"
                "    \"\" index %d using 1:2:5 with labels left offset char 1,0.6"
                " tc rgb \"%s\" notitle",
                block ? "," : "", block, colour, smoa_eval_mode_name((smoa_mode)m), block,
                colour);
        block++;
    }
    fputc('\n', f);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

typedef void (*file_writer)(FILE *f, const smoa_eval_summary *s);

static void write_data(FILE *f, const smoa_eval_summary *s) {
    for (int m = 0; m < N_MODES; m++)
        if (mode_has_points(s, (smoa_mode)m)) write_block(f, s, (smoa_mode)m);
}

static void write_script(FILE *f, const smoa_eval_summary *s) {
    write_preamble(f, choose_x_range(s));
    write_plot_command(f, s);
}

static smoa_status write_file(const char *dir, const char *name, file_writer writer,
                              const smoa_eval_summary *s, smoa_error *err) {
    char *path = eval_run_file(dir, name);
    if (!path) return smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    FILE *f = fopen(path, "wb");
    smoa_status st = SMOA_OK;
    if (!f) {
        st = smoa_error_set(err, SMOA_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    } else {
        writer(f, s);
        bool failed = ferror(f) != 0;
        if (fclose(f) != 0 || failed)
            st = smoa_error_set(err, SMOA_ERR_IO, "cannot write %s", path);
    }
    free(path);
    return st;
}

static void remove_file(const char *dir, const char *name) {
    char *path = eval_run_file(dir, name);
    if (path) unlink(path);
    free(path);
}

static bool file_exists(const char *dir, const char *name) {
    char *path = eval_run_file(dir, name);
    bool exists = path && access(path, F_OK) == 0;
    free(path);
    return exists;
}

/* ------------------------------------------------------------------------ */
/* gnuplot                                                                  */

/* Runs gnuplot on the script in dir; its exit status, -1 when it could not
 * be started or was killed. */
static int run_gnuplot(const char *dir) {
    char *argv[] = {"sh", "-c",
                    "cd -- \"$1\" && exec gnuplot " EVAL_PLOT_SCRIPT " </dev/null >" EVAL_PLOT_LOG
                    " 2>&1",
                    "sh", (char *)dir, NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0) return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static eval_plot_result draw(const char *dir) {
    remove_file(dir, EVAL_PLOT_IMAGE); /* a stale image must not pass for a new one */
    int status = run_gnuplot(dir);
    eval_plot_result r = {EVAL_PLOT_DRAWN, status};
    if (status == 127) {
        remove_file(dir, EVAL_PLOT_LOG); /* only the shell's "not found" */
        r.outcome = EVAL_PLOT_NO_GNUPLOT;
    } else if (status != 0 || !file_exists(dir, EVAL_PLOT_IMAGE)) {
        r.outcome = EVAL_PLOT_GNUPLOT_FAILED;
    } else {
        remove_file(dir, EVAL_PLOT_LOG);
    }
    return r;
}

smoa_status eval_plot_write(const char *dir, const smoa_eval_summary *s,
                            eval_plot_result *result, smoa_error *err) {
    result->exit_status = 0;
    bool any = false;
    for (int m = 0; m < N_MODES; m++) any = any || mode_has_points(s, (smoa_mode)m);
    if (!any) {
        result->outcome = EVAL_PLOT_NOTHING_TO_PLOT;
        return SMOA_OK;
    }
    smoa_status st = write_file(dir, EVAL_PLOT_DATA, write_data, s, err);
    if (st == SMOA_OK) st = write_file(dir, EVAL_PLOT_SCRIPT, write_script, s, err);
    if (st == SMOA_OK) *result = draw(dir);
    return st;
}
