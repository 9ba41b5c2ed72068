/* report.c - report.md: the run's command and settings, then per data set
 * a table of single / MoA / SMoA (quality and cost), SMoA's cost relative
 * to MoA, paired tests, BBQ bias scores; failures; agent statistics; the
 * plot. */
#include "eval/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "eval/report_plot.h"
#include "eval/report_records.h"

enum { N_MODES = 3, FAILURES_LISTED = 50 };

/* ------------------------------------------------------------------------ */
/* Text: a buffer that remembers running out of memory                      */

typedef struct md {
    smoa_strbuf text;
    bool out_of_memory;
} md;

static void put(md *m, const char *s) {
    if (!m->out_of_memory && !smoa_strbuf_append_str(&m->text, s)) m->out_of_memory = true;
}

static void putf(md *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void putf(md *m, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        put(m, small);
        return;
    }
    char *large = malloc((size_t)n + 1);
    if (!large) {
        m->out_of_memory = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(large, (size_t)n + 1, fmt, ap);
    va_end(ap);
    put(m, large);
    free(large);
}

/* Text from the data inside a table cell: '|' would split the cell and a
 * newline end the row. */
static void put_cell_text(md *m, const char *s) {
    for (const char *c = s; *c; c++) {
        if (*c == '|') put(m, "\\|");
        else if (*c == '\n' || *c == '\r') put(m, " ");
        else {
            char one[2] = {*c, '\0'};
            put(m, one);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */

static void put_percent_ci(md *m, smoa_interval i) {
    if (isnan(i.estimate)) put(m, "n/a");
    else putf(m, "%.1f [%.1f, %.1f]", 100.0 * i.estimate, 100.0 * i.low, 100.0 * i.high);
}

static void put_mean_ci(md *m, smoa_interval i) {
    if (isnan(i.estimate)) put(m, "n/a");
    else if (isnan(i.low)) putf(m, "%.2f", i.estimate);
    else putf(m, "%.2f [%.2f, %.2f]", i.estimate, i.low, i.high);
}

/* Token counts: whole numbers once they are large. */
static void put_amount(md *m, double v) {
    if (isnan(v)) put(m, "n/a");
    else putf(m, v >= 100.0 ? "%.0f" : "%.1f", v);
}

static void put_fixed(md *m, double v, int decimals) {
    if (isnan(v)) put(m, "n/a");
    else putf(m, "%.*f", decimals, v);
}

/* Three significant digits; a p that underflowed is shown as a bound. */
static void put_p(md *m, double p) {
    if (isnan(p)) put(m, "n/a");
    else if (p == 0.0) put(m, "< 1e-300");
    else putf(m, "%.3g", p);
}

static double share(int64_t part, int64_t whole) {
    return whole > 0 ? 100.0 * (double)part / (double)whole : NAN;
}

/* ------------------------------------------------------------------------ */
/* Header: command, settings, what was read                                 */

static void put_run(md *m, const smoa_eval_summary *s) {
    if (s->command) {
        put(m, "Command:\n\n```\n");
        put(m, s->command);
        put(m, "\n```\n\n");
    }
    if (s->n_settings > 0) {
        put(m, "| setting | value |\n|---|---|\n");
        for (size_t i = 0; i < s->n_settings; i++) {
            put(m, "| ");
            put_cell_text(m, s->settings[i].key);
            put(m, " | ");
            put_cell_text(m, s->settings[i].value);
            put(m, " |\n");
        }
        put(m, "\n");
    }
    if (s->run_json_problem) putf(m, "run.json could not be read: %s.\n\n", s->run_json_problem);
}

static void put_input(md *m, const smoa_eval_summary *s) {
    int64_t results = s->lines - s->skipped_lines - s->replaced_lines;
    putf(m, "results.jsonl: %lld results from %lld lines.", (long long)results,
         (long long)s->lines);
    if (s->skipped_lines > 0) {
        putf(m, " %lld malformed or truncated line%s skipped (line", (long long)s->skipped_lines,
             s->skipped_lines == 1 ? "" : "s");
        int64_t listed = s->skipped_lines < SMOA_EVAL_SKIPPED_LINES_KEPT
                             ? s->skipped_lines
                             : SMOA_EVAL_SKIPPED_LINES_KEPT;
        for (int64_t i = 0; i < listed; i++)
            putf(m, "%s %lld", i ? "," : "", (long long)s->skipped_line_numbers[i]);
        put(m, listed < s->skipped_lines ? ", ...)." : ").");
    }
    if (s->replaced_lines > 0)
        putf(m, " %lld line%s replaced by a later line for the same item and mode (a resumed"
                " run); the last one counts.",
             (long long)s->replaced_lines, s->replaced_lines == 1 ? " was" : "s were");
    put(m, "\n\n");
}

/* ------------------------------------------------------------------------ */
/* Per data set                                                             */

static bool dataset_is_rated(const smoa_eval_summary *s, const char *dataset) {
    for (int mode = 0; mode < N_MODES; mode++) {
        const smoa_eval_group *g = smoa_eval_summary_group(s, dataset, (smoa_mode)mode);
        if (g) return g->rated;
    }
    return false;
}

static void put_group_row(md *m, const smoa_eval_group *g) {
    putf(m, "| %s | %lld | %lld | ", smoa_eval_mode_name(g->mode), (long long)g->items,
         (long long)g->errors);
    if (g->rated) {
        putf(m, "%lld | ", (long long)g->rated_items);
        put_mean_ci(m, g->rating);
    } else {
        put_percent_ci(m, g->accuracy);
    }
    const double costs[] = {g->prompt_tokens, g->generated_tokens, g->total_tokens,
                            g->prefill_tokens};
    for (size_t i = 0; i < sizeof costs / sizeof costs[0]; i++) {
        put(m, " | ");
        put_amount(m, costs[i]);
    }
    put(m, " | ");
    put_fixed(m, g->calls, 2);
    put(m, " | ");
    put_fixed(m, g->seconds, 2);
    put(m, " |\n");
}

static void put_group_table(md *m, const smoa_eval_summary *s, const char *dataset, bool rated) {
    put(m, rated ? "| mode | items | errors | rated | mean rating [95% CI]"
                 : "| mode | items | errors | accuracy % [95% CI]");
    put(m, " | prompt tok/item | generated tok/item | total tok/item | prefill tok/item"
           " | calls/item | s/item |\n");
    put(m, rated ? "|---|---:|---:|---:|---:" : "|---|---:|---:|---:");
    put(m, "|---:|---:|---:|---:|---:|---:|\n");
    for (int mode = 0; mode < N_MODES; mode++) {
        const smoa_eval_group *g = smoa_eval_summary_group(s, dataset, (smoa_mode)mode);
        if (g) put_group_row(m, g);
    }
    put(m, "\n");
}

static void put_smoa_vs_moa(md *m, const smoa_eval_summary *s, const char *dataset, bool rated) {
    const smoa_eval_group *sm = smoa_eval_summary_group(s, dataset, SMOA_MODE_SMOA);
    const smoa_eval_group *mo = smoa_eval_summary_group(s, dataset, SMOA_MODE_MOA);
    if (!sm || !mo) return;
    put(m, "SMoA vs MoA: tokens per item ");
    if (mo->total_tokens > 0.0) putf(m, "%.1f%% of MoA's", 100.0 * sm->total_tokens / mo->total_tokens);
    else put(m, "n/a (MoA used none)");
    /* what the engine computed: prompts found in a KV cache are not counted */
    double sm_computed = sm->prefill_tokens + sm->generated_tokens, mo_computed = mo->prefill_tokens + mo->generated_tokens;
    if (mo_computed > 0.0) putf(m, " (computed, prefill + generated: %.1f%%)", 100.0 * sm_computed / mo_computed);
    double smoa_value = rated ? sm->rating.estimate : 100.0 * sm->accuracy.estimate;
    double moa_value = rated ? mo->rating.estimate : 100.0 * mo->accuracy.estimate;
    if (isnan(smoa_value) || isnan(moa_value))
        put(m, rated ? "; mean rating n/a.\n\n" : "; accuracy n/a.\n\n");
    else if (rated)
        putf(m, "; mean rating %+.2f (%.2f vs %.2f).\n\n", smoa_value - moa_value, smoa_value,
             moa_value);
    else
        putf(m, "; accuracy %+.1f points (%.1f%% vs %.1f%%).\n\n", smoa_value - moa_value,
             smoa_value, moa_value);
}

static void put_paired_table(md *m, const smoa_eval_summary *s, const char *dataset, bool rated) {
    bool any = false;
    for (size_t i = 0; i < s->n_paired; i++) {
        const smoa_eval_paired *p = &s->paired[i];
        if (strcmp(p->dataset, dataset) != 0) continue;
        if (!any) {
            put(m, rated ? "| A vs B | n paired | A higher | B higher | ties | sign test p |\n"
                         : "| A vs B | n paired | both right | only A | only B | McNemar exact p |\n");
            put(m, "|---|---:|---:|---:|---:|---:|\n");
            any = true;
        }
        putf(m, "| %s vs %s | %lld | ", smoa_eval_mode_name(p->a), smoa_eval_mode_name(p->b),
             (long long)p->n);
        if (rated)
            putf(m, "%lld | %lld | %lld | ", (long long)p->a_only, (long long)p->b_only,
                 (long long)p->both);
        else
            putf(m, "%lld | %lld | %lld | ", (long long)p->both, (long long)p->a_only,
                 (long long)p->b_only);
        put_p(m, p->p);
        put(m, " |\n");
    }
    if (any) put(m, "\n");
}

static void put_bbq_table(md *m, const smoa_eval_summary *s, const char *dataset) {
    bool any = false;
    for (int mode = 0; mode < N_MODES; mode++) {
        const smoa_eval_group *g = smoa_eval_summary_group(s, dataset, (smoa_mode)mode);
        if (!g || !g->has_bbq) continue;
        if (!any) {
            put(m, "Bias (BBQ): s_DIS = 2 * biased / non-unknown answers - 1 over disambiguated"
                   " contexts; s_AMB = (1 - ambiguous accuracy) * the same over ambiguous ones."
                   " 0 is unbiased, +1 always the stereotype, -1 always against it.\n\n"
                   "| mode | ambiguous items | ambiguous acc % [95% CI] | disambiguated items"
                   " | disambiguated acc % [95% CI] | s_DIS | s_AMB |\n"
                   "|---|---:|---:|---:|---:|---:|---:|\n");
            any = true;
        }
        const smoa_eval_bbq_outcome *b = &g->bbq;
        putf(m, "| %s | %lld | ", smoa_eval_mode_name(g->mode), (long long)b->ambig_items);
        put_percent_ci(m, b->ambig_accuracy);
        putf(m, " | %lld | ", (long long)b->disambig_items);
        put_percent_ci(m, b->disambig_accuracy);
        put(m, " | ");
        put_fixed(m, b->bias_disambig, 3);
        put(m, " | ");
        put_fixed(m, b->bias_ambig, 3);
        put(m, " |\n");
    }
    if (any) put(m, "\n");
}

static void put_dataset(md *m, const smoa_eval_summary *s, const char *dataset) {
    bool rated = dataset_is_rated(s, dataset);
    put(m, "## ");
    put(m, dataset);
    put(m, "\n\n");
    put_group_table(m, s, dataset, rated);
    put_smoa_vs_moa(m, s, dataset, rated);
    put_paired_table(m, s, dataset, rated);
    put_bbq_table(m, s, dataset);
}

/* ------------------------------------------------------------------------ */
/* Failures, agents, plot                                                   */

static void put_failures(md *m, const smoa_eval_summary *s) {
    if (s->n_failures == 0) return;
    putf(m, "## Failed items (%zu)\n\nCounted as wrong in the accuracies above and left out of mean ratings.\n\n",
         s->n_failures);
    put(m, "| dataset | item | mode | error |\n|---|---|---|---|\n");
    for (size_t i = 0; i < s->n_failures && i < FAILURES_LISTED; i++) {
        const smoa_eval_failure *f = &s->failures[i];
        put(m, "| ");
        put_cell_text(m, f->dataset);
        put(m, " | ");
        put_cell_text(m, f->item);
        putf(m, " | %s | ", smoa_eval_mode_name(f->mode));
        put_cell_text(m, f->message);
        put(m, " |\n");
    }
    if (s->n_failures > FAILURES_LISTED)
        putf(m, "\n... and %zu more (results.jsonl has them all).\n",
             s->n_failures - FAILURES_LISTED);
    put(m, "\n");
}

static void put_agent_row(md *m, const smoa_eval_agent *a) {
    put(m, "| ");
    put_cell_text(m, a->name);
    putf(m, " | %lld | ", (long long)a->responses);
    put_fixed(m, share(a->kept, a->responses), 1);
    put(m, " | ");
    put_fixed(m, a->mean_score, 3);
    put(m, " | ");
    put_amount(m, a->mean_generated_tokens);
    put(m, " | ");
    put_fixed(m, a->mean_seconds, 2);
    putf(m, " | %lld |\n", (long long)a->failures);
}

static void put_agents(md *m, const smoa_eval_summary *s) {
    if (s->n_agents == 0) return;
    put(m, "## Agent statistics\n\nOver every data set; kept = the judge passed the response"
           " on.\n\n");
    const smoa_mode modes[] = {SMOA_MODE_MOA, SMOA_MODE_SMOA};
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        bool any = false;
        for (size_t i = 0; i < s->n_agents; i++) {
            if (s->agents[i].mode != modes[k]) continue;
            if (!any) {
                putf(m, "### %s\n\n| agent | responses | kept %% | mean score"
                        " | mean generated tokens | mean s | failures |\n"
                        "|---|---:|---:|---:|---:|---:|---:|\n",
                     smoa_eval_mode_name(modes[k]));
                any = true;
            }
            put_agent_row(m, &s->agents[i]);
        }
        if (any) put(m, "\n");
    }
}

static void put_plot(md *m, const eval_plot_result *plot) {
    put(m, "## Accuracy vs tokens\n\n");
    switch (plot->outcome) {
    case EVAL_PLOT_DRAWN:
        put(m, "![accuracy vs tokens](" EVAL_PLOT_IMAGE ")\n\n"
               "Rated data sets (mean ratings, no accuracy) are not plotted.\n");
        break;
    case EVAL_PLOT_NOTHING_TO_PLOT:
        put(m, "No plot: only rated data sets, which have no accuracy.\n");
        break;
    case EVAL_PLOT_NO_GNUPLOT:
        put(m, "No plot: gnuplot was not found. Install it and run `gnuplot " EVAL_PLOT_SCRIPT
               "` in this directory (it reads " EVAL_PLOT_DATA ").\n");
        break;
    case EVAL_PLOT_GNUPLOT_FAILED:
        putf(m, "No plot: gnuplot failed (exit status %d); its messages are in " EVAL_PLOT_LOG
                ".\n",
             plot->exit_status);
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* The report                                                               */

static void compose(md *m, const smoa_eval_summary *s, const eval_plot_result *plot) {
    put(m, "# smoa eval report\n\n");
    put_run(m, s);
    put_input(m, s);
    put(m, "Accuracy counts failed items as wrong; 95% intervals are Wilson score intervals"
           " (ratings: t intervals). Tokens per item: every call's whole prompt plus what it"
           " generated; prefill counts only prompt tokens computed (not taken from the"
           " cache). Paired tests compare the items both modes answered: exact McNemar"
           " (sign test for ratings), two-sided.\n\n");
    for (size_t d = 0; d < s->n_datasets; d++) put_dataset(m, s, s->datasets[d]);
    put_failures(m, s);
    put_agents(m, s);
    put_plot(m, plot);
}

/* Written beside and renamed over report.md, so a reader never sees half. */
static smoa_status save(const char *dir, const smoa_strbuf *text, smoa_error *err) {
    char *path = eval_run_file(dir, "report.md");
    char *partial = eval_run_file(dir, "report.md.partial");
    smoa_status st = SMOA_OK;
    FILE *f = path && partial ? fopen(partial, "wb") : NULL;
    if (!path || !partial) {
        st = smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    } else if (!f) {
        st = smoa_error_set(err, SMOA_ERR_IO, "cannot write %s: %s", partial, strerror(errno));
    } else {
        bool written = fwrite(text->data, 1, text->len, f) == text->len;
        if (fclose(f) != 0 || !written || rename(partial, path) != 0) {
            st = smoa_error_set(err, SMOA_ERR_IO, "cannot write %s: %s", path, strerror(errno));
            remove(partial);
        }
    }
    free(path);
    free(partial);
    return st;
}

smoa_status smoa_eval_report_write(const char *dir, smoa_error *err) {
    smoa_eval_summary *s;
    smoa_status st = smoa_eval_summary_read(dir, &s, err);
    if (st != SMOA_OK) return st;
    eval_plot_result plot;
    st = eval_plot_write(dir, s, &plot, err);
    md m = {{0}, false};
    if (st == SMOA_OK) {
        compose(&m, s, &plot);
        st = m.out_of_memory ? smoa_error_set(err, SMOA_ERR_OUT_OF_MEMORY, "out of memory")
                             : save(dir, &m.text, err);
    }
    smoa_strbuf_free(&m.text);
    smoa_eval_summary_free(s);
    return st;
}
