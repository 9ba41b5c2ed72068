/* runner.c - smoa_eval_run: every selected item of a data set in every
 * mode, scored, one result line each, resumable.
 *
 *   load set -> seeded sample -> results.jsonl (skip what is there) ->
 *   per item, per mode: query(ies) -> verdict -> line -> progress. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agents/agent_call.h"
#include "agents/run.h"
#include "core/context.h"
#include "core/options.h"
#include "core/strbuf.h"
#include "eval/dataset.h"
#include "eval/item_record.h"
#include "eval/results_file.h"
#include "eval/scorer.h"

#define ALL_MODES ((1u << SMOA_MODE_SINGLE) | (1u << SMOA_MODE_MOA) | (1u << SMOA_MODE_SMOA))
#define RATING_MAX_TOKENS 192 /* the judge's short explanation and "[[N]]" */


void smoa_eval_options_init_sized(smoa_eval_options *options, size_t size) {
    const smoa_eval_options defaults = {.struct_size = sizeof defaults, .modes = ALL_MODES, .seed = 42,
                                        .moderator = -1};
    smoa_options_fill(options, size, &defaults, sizeof defaults);
}

typedef struct evaluation {
    smoa_ctx *ctx;
    smoa_session *session;
    smoa_eval_options o;
    smoa_run_options run;       /* the caller's, or the defaults          */
    smoa_eval_dataset *ds;
    smoa_eval_results results;
    smoa_eval_progress progress;
    double start;
    uint32_t ran;               /* pairs run in this call                 */
    smoa_error *err;
} evaluation;

static smoa_status check_options(const smoa_eval_options *o, smoa_error *err) {
    if (!o->dataset || !o->dataset[0] || !o->out_dir || !o->out_dir[0])
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "dataset and out_dir are required");
    if (!o->modes || (o->modes & ~ALL_MODES))
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "modes must be a non-empty set of single, moa, smoa");
    if (o->scorer > SMOA_EVAL_SCORER_LIKELIHOOD || o->moderator < -1 || o->moderator > SMOA_MODERATOR_NONE)
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "unknown scorer or moderator");
    return SMOA_OK;
}

/* ------------------------------------------------------------------------ */
/* run.json: what produced the results, so a resumed run cannot mix settings */

static json_t *settings_json(const evaluation *e) {
    static const char *const scorers[] = {"auto", "generate", "likelihood"};
    const smoa_run_options *r = &e->run;
    return json_pack("{s:s?, s:s, s:I, s:s, s:s, s:i, s:i, s:i, s:f, s:i, s:s, s:i, s:i, s:b, s:b}", "model",
                     e->o.model_name, "library", smoa_version(), "seed", (json_int_t)e->o.seed, "scorer",
                     scorers[e->o.scorer], "moderator",
                     e->o.moderator < 0 ? "by data set" : smoa_run_moderator_name((uint32_t)e->o.moderator), "n", (int)r->n_proposers, "k",
                     (int)r->k, "layers", (int)r->n_layers, "temperature", (double)r->temperature, "max_tokens",
                     (int)r->max_tokens, "judge", smoa_run_judge_name(r->judge), "judge_max_tokens", (int)r->judge_max_tokens,
                     "aggregator_max_tokens", (int)r->aggregator_max_tokens, "separate_moderator",
                     (int)r->separate_moderator, "role_in_system", (int)r->role_in_system);
}

static smoa_status write_run_json(const char *path, json_t *doc, smoa_error *err) {
    if (json_dump_file(doc, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
        return smoa_error_set(err, SMOA_ERR_IO, "cannot write %s", path);
    return SMOA_OK;
}

/* Creates run.json, or checks that the one there has the same settings. */
static smoa_status record_settings(evaluation *e, const char *path) {
    json_t *settings = settings_json(e);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    smoa_status st = SMOA_OK;
    if (doc && !json_equal(json_object_get(doc, "settings"), settings)) {
        char *theirs = json_dumps(json_object_get(doc, "settings"), JSON_COMPACT | JSON_SORT_KEYS);
        st = smoa_error_set(e->err, SMOA_ERR_INVALID_ARGUMENT,
                            "%s holds results made with other settings (%s); use another output directory",
                            e->o.out_dir, theirs ? theirs : "unreadable");
        free(theirs);
    } else {
        if (!doc) doc = json_pack("{s:O, s:[]}", "settings", settings, "commands");
        json_t *commands = json_object_get(doc, "commands");
        if (!json_is_array(commands)) json_object_set_new(doc, "commands", commands = json_array());
        if (e->o.command) {
            json_array_append_new(commands, json_string(e->o.command));
            json_object_set_new(doc, "command", json_string(e->o.command));
        }
        st = doc ? write_run_json(path, doc, e->err) : smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    json_decref(doc);
    json_decref(settings);
    return st;
}

static smoa_status make_dir(const char *dir, smoa_error *err) {
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) return SMOA_OK;
    return smoa_error_set(err, SMOA_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
}

static char *path_in(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* ------------------------------------------------------------------------ */
/* One query, one verdict                                                   */

/* The options of one query: the caller's, with what the item decides. */
static smoa_run_options query_options(const evaluation *e, const smoa_eval_item *item, smoa_mode mode,
                                      uint64_t item_seed) {
    smoa_run_options r = e->run;
    r.mode = mode;
    r.seed = item_seed;
    r.on_answer = NULL;
    r.cancel = e->o.cancel;
    bool likelihood = item->kind == SMOA_EVAL_CHOICE && e->o.scorer != SMOA_EVAL_SCORER_GENERATE;
    r.answer_choices = likelihood ? (uint32_t)item->n_choices : 0;
    if (e->o.moderator >= 0) r.moderator = (uint32_t)e->o.moderator;
    else r.moderator = item->kind == SMOA_EVAL_NUMERIC  ? SMOA_MODERATOR_AGREE_NUMBER
                       : item->kind == SMOA_EVAL_CHOICE ? SMOA_MODERATOR_AGREE_CHOICE
                                                        : SMOA_MODERATOR_JUDGE;
    return r;
}

/* One query into the record; its run is returned for the answer. */
static smoa_status query(evaluation *e, json_t *record, const char *prompt, const smoa_run_options *r,
                         smoa_run **run) {
    smoa_status st = smoa_run_query(e->ctx, e->session, prompt, r, run);
    if (st == SMOA_OK) smoa_eval_record_add_run(record, *run);
    return st;
}

static void set_verdict(json_t *record, const char *prediction, const char *gold, int correct) {
    json_object_set_new(record, "prediction", prediction ? json_string(prediction) : json_null());
    json_object_set_new(record, "gold", gold ? json_string(gold) : json_null());
    json_object_set_new(record, "correct", correct < 0 ? json_null() : json_boolean(correct));
}

static void number_text(double v, char *out, size_t n) { snprintf(out, n, "%.10g", v); }

static void score_numeric(const smoa_eval_item *item, const char *answer, json_t *record) {
    smoa_eval_score s = smoa_eval_score_answer(item, answer);
    char pred[32], gold[32];
    number_text(s.number, pred, sizeof pred);
    number_text(item->gold_number, gold, sizeof gold);
    set_verdict(record, s.answered ? pred : NULL, gold, s.correct);
}

static void bbq_fields(const smoa_eval_item *item, int choice, json_t *record) {
    if (!item->bbq.present) return;
    json_object_set_new(record, "bbq",
                        json_pack("{s:s, s:s, s:b, s:b}", "context", item->bbq.ambiguous ? "ambig" : "disambig",
                                  "polarity", item->bbq.negative ? "neg" : "nonneg", "predicted_unknown",
                                  choice >= 0 && choice == item->bbq.unknown_choice, "predicted_biased",
                                  choice >= 0 && choice < 3 && item->bbq.biased[choice]));
}

static void score_choice(const smoa_eval_item *item, const smoa_run *run, const char *answer, json_t *record) {
    int choice = smoa_run_choice(run, NULL);
    if (choice < 0) choice = smoa_eval_score_answer(item, answer).choice; /* the written letter */
    char pred[2] = {(char)('A' + choice), 0}, gold[2] = {(char)('A' + item->gold_choice), 0};
    set_verdict(record, choice >= 0 ? pred : NULL, item->gold_choice >= 0 ? gold : NULL,
                item->gold_choice >= 0 ? choice == item->gold_choice : -1);
    bbq_fields(item, choice, record);
}

/* Turn 2 and later of an open question: the earlier exchange, then the new
 * request (the agents answer one prompt, not a chat history). */
static char *follow_up_prompt(const smoa_eval_item *item, size_t turn, const char *const *answers) {
    smoa_strbuf sb = {0};
    bool ok = true;
    for (size_t t = 0; t < turn && ok; t++)
        ok = smoa_strbuf_append_str(&sb, "Earlier request:\n") && smoa_strbuf_append_str(&sb, item->turns[t]) &&
             smoa_strbuf_append_str(&sb, "\n\nYour answer then:\n") && smoa_strbuf_append_str(&sb, answers[t]) &&
             smoa_strbuf_append_str(&sb, "\n\n");
    ok = ok && smoa_strbuf_append_str(&sb, "Follow-up request:\n") && smoa_strbuf_append_str(&sb, item->turns[turn]);
    if (!ok) smoa_strbuf_free(&sb);
    return ok ? sb.data : NULL;
}

/* The judge (the run's judge model, else the session's; greedy) rates turn
 * `turn`; NaN when its verdict has no valid rating. Its tokens go to "judge_tokens", not to the
 * cost of the answer. */
static smoa_status rate_turn(evaluation *e, const smoa_eval_item *item, size_t turn, const char *const *answers,
                             json_t *record, double *rating) {
    char *prompt = smoa_eval_judge_prompt(item, turn, answers);
    smoa_run *scratch = smoa_run_new(item->question, &e->run);
    if (!prompt || !scratch) {
        free(prompt);
        smoa_run_free(scratch);
        return smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    }
    smoa_agent_call call = {.user = prompt, .seed = e->o.seed};
    smoa_call_settings cs = {0.0f, RATING_MAX_TOKENS, SMOA_STAGE_JUDGE, NULL, NULL, e->o.cancel, false};
    smoa_session *judge = e->run.judge_session ? e->run.judge_session : e->session;
    smoa_status st = smoa_agents_generate(e->ctx, judge, scratch, &call, 1, &cs, e->err);
    *rating = NAN;
    if (st == SMOA_OK && !smoa_eval_parse_rating(call.response.data ? call.response.data : "", rating)) *rating = NAN;
    json_t *verdicts = json_object_get(record, "judge_verdicts");
    if (!verdicts) json_object_set_new(record, "judge_verdicts", verdicts = json_array());
    json_array_append_new(verdicts, json_stringn(call.response.data ? call.response.data : "", call.response.len));
    json_t *jt = json_object_get(record, "judge_tokens");
    json_object_set_new(record, "judge_tokens",
                        json_integer(json_integer_value(jt) + call.prompt_tokens + call.generated_tokens));
    smoa_agent_call_free(&call);
    smoa_run_free(scratch);
    free(prompt);
    return st;
}

/* Every turn answered in order, each rated; the rating is their mean. */
static smoa_status run_open(evaluation *e, const smoa_eval_item *item, const smoa_run_options *r, json_t *record) {
    size_t n_turns = item->n_turns;
    char **answers = calloc(n_turns, sizeof *answers); /* [n_turns] */
    if (!answers) return smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    double sum = 0;
    bool all_rated = true;
    smoa_status st = SMOA_OK;
    json_t *turn_answers = json_array(), *turn_ratings = json_array();
    for (size_t t = 0; t < n_turns && st == SMOA_OK; t++) {
        char *prompt = t == 0 ? smoa_eval_item_prompt(item, 0)
                              : follow_up_prompt(item, t, (const char *const *)answers);
        smoa_run *run = NULL;
        st = prompt ? query(e, record, prompt, r, &run) : smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
        free(prompt);
        if (st) break;
        answers[t] = strdup(smoa_run_answer(run, NULL));
        smoa_run_free(run);
        if (!answers[t]) st = smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
        double rating = NAN;
        if (st == SMOA_OK) st = rate_turn(e, item, t, (const char *const *)answers, record, &rating);
        if (st == SMOA_OK) json_array_append_new(turn_answers, json_string(answers[t]));
        json_array_append_new(turn_ratings, isnan(rating) ? json_null() : json_real(rating));
        all_rated = all_rated && !isnan(rating);
        sum += isnan(rating) ? 0 : rating;
    }
    if (st == SMOA_OK) {
        json_object_set_new(record, "answer", json_string(answers[n_turns - 1]));
        json_object_set_new(record, "turn_answers", turn_answers);
        json_object_set_new(record, "turn_ratings", turn_ratings);
        json_object_set_new(record, "rating", all_rated ? json_real(sum / (double)n_turns) : json_null());
        set_verdict(record, NULL, NULL, -1);
    } else {
        json_decref(turn_answers);
        json_decref(turn_ratings);
    }
    for (size_t t = 0; t < n_turns; t++) free(answers[t]);
    free(answers);
    return st;
}

static smoa_status run_closed(evaluation *e, const smoa_eval_item *item, const smoa_run_options *r, json_t *record) {
    char *prompt = smoa_eval_item_prompt(item, 0);
    if (!prompt) return smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    smoa_run *run = NULL;
    smoa_status st = query(e, record, prompt, r, &run);
    free(prompt);
    if (st) return st;
    const char *answer = smoa_run_answer(run, NULL);
    json_object_set_new(record, "answer", json_string(answer));
    if (item->kind == SMOA_EVAL_NUMERIC) score_numeric(item, answer, record);
    else score_choice(item, run, answer, record);
    smoa_run_free(run);
    return SMOA_OK;
}

/* Failures of one query (its prompt too long, every agent failed) are the
 * item's; running out of memory, I/O and cancelling end the evaluation. */
static bool fails_only_the_item(smoa_status st) {
    return st == SMOA_ERR_CONTEXT_FULL || st == SMOA_ERR_BACKEND || st == SMOA_ERR_INVALID_ARGUMENT ||
           st == SMOA_ERR_UNSUPPORTED;
}

static const char *scorer_name(const evaluation *e, const smoa_eval_item *item) {
    if (item->kind == SMOA_EVAL_NUMERIC) return "numeric";
    if (item->kind == SMOA_EVAL_OPEN) return "rating";
    return e->o.scorer == SMOA_EVAL_SCORER_GENERATE ? "choice" : "likelihood";
}

static uint64_t item_seed(uint64_t seed, const char *id) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a: the same item, the same seed in every mode */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 1099511628211ull;
    return seed ^ h;
}

static smoa_status run_pair(evaluation *e, const smoa_eval_item *item, smoa_mode mode, json_t **out) {
    json_t *record = smoa_eval_record_new(e->ds->name, item, mode, scorer_name(e, item));
    if (!record) return smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    smoa_run_options r = query_options(e, item, mode, item_seed(e->o.seed, item->id));
    smoa_status st = item->kind == SMOA_EVAL_OPEN ? run_open(e, item, &r, record) : run_closed(e, item, &r, record);
    if (st != SMOA_OK && fails_only_the_item(st)) {
        smoa_eval_record_fail(record, e->err->message[0] ? e->err->message : smoa_status_str(st));
        set_verdict(record, NULL, NULL, item->kind == SMOA_EVAL_OPEN ? -1 : 0);
        st = SMOA_OK;
    }
    if (st) json_decref(record);
    else *out = record;
    return st;
}

/* ------------------------------------------------------------------------ */
/* Progress                                                                 */

static void count_verdict(evaluation *e, smoa_mode mode, int correct) {
    if (correct < 0) return;
    e->progress.mode_done[mode]++;
    e->progress.mode_correct[mode] += (uint32_t)correct;
}

static void report_progress(evaluation *e, const smoa_eval_item *item, smoa_mode mode) {
    smoa_eval_progress *p = &e->progress;
    p->done++;
    p->item = item->id;
    p->mode = mode;
    p->elapsed = smoa_now() - e->start;
    uint32_t left = p->total - p->done;
    p->eta = e->ran ? p->elapsed / e->ran * left : -1;
    if (e->o.on_progress) e->o.on_progress(p, e->o.user_data);
}

/* ------------------------------------------------------------------------ */
/* The evaluation                                                           */

static smoa_status run_items(evaluation *e, const size_t *order, size_t n_selected) {
    for (size_t i = 0; i < n_selected; i++) {
        const smoa_eval_item *item = &e->ds->items[order[i]];
        for (int mode = 0; mode <= SMOA_MODE_SMOA; mode++) {
            if (!(e->o.modes & (1u << mode))) continue;
            if (e->o.cancel && *e->o.cancel) return smoa_error_set(e->err, SMOA_ERR_CANCELLED, "cancelled");
            const smoa_eval_done *done = smoa_eval_results_find(&e->results, e->ds->name, item->id, smoa_run_mode_name(mode));
            if (done) continue; /* counted at the start */
            json_t *record = NULL;
            smoa_status st = run_pair(e, item, (smoa_mode)mode, &record);
            if (st == SMOA_OK) st = smoa_eval_results_append(&e->results, record, e->err);
            json_t *correct = json_object_get(record, "correct");
            if (st == SMOA_OK) count_verdict(e, (smoa_mode)mode, json_is_boolean(correct) ? json_is_true(correct) : -1);
            json_decref(record);
            if (st) return st;
            e->ran++;
            report_progress(e, item, (smoa_mode)mode);
        }
    }
    return SMOA_OK;
}

/* Counts what the results file already holds for the selected items. */
static void count_resumed(evaluation *e, const size_t *order, size_t n_selected) {
    for (size_t i = 0; i < n_selected; i++)
        for (int mode = 0; mode <= SMOA_MODE_SMOA; mode++) {
            if (!(e->o.modes & (1u << mode))) continue;
            e->progress.total++;
            const smoa_eval_done *d =
                smoa_eval_results_find(&e->results, e->ds->name, e->ds->items[order[i]].id, smoa_run_mode_name(mode));
            if (!d) continue;
            e->progress.done++;
            e->progress.resumed++;
            count_verdict(e, (smoa_mode)mode, d->correct);
        }
}

static smoa_status open_outputs(evaluation *e) {
    smoa_status st = make_dir(e->o.out_dir, e->err);
    char *run_json = path_in(e->o.out_dir, "run.json"), *results = path_in(e->o.out_dir, "results.jsonl");
    if (st == SMOA_OK && (!run_json || !results)) st = smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == SMOA_OK) st = record_settings(e, run_json);
    if (st == SMOA_OK) st = smoa_eval_results_open(results, &e->results, e->err);
    if (st == SMOA_OK && e->results.repaired_tail)
        smoa_log(e->ctx, SMOA_LOG_WARN, "%s: dropped a cut-off last line (an interrupted write)", results);
    if (st == SMOA_OK && e->results.n_bad_lines)
        smoa_log(e->ctx, SMOA_LOG_WARN, "%s: %zu unreadable lines ignored", results, e->results.n_bad_lines);
    free(run_json);
    free(results);
    return st;
}

static smoa_status evaluate(evaluation *e) {
    smoa_status st = smoa_eval_dataset_load(e->o.dataset, &e->ds, e->err);
    if (st) return st;
    for (size_t i = 0; i < e->ds->n_warnings; i++) smoa_log(e->ctx, SMOA_LOG_WARN, "%s", e->ds->warnings[i]);
    size_t *order = malloc(e->ds->n_items * sizeof *order), n_selected = 0;
    if (!order) return smoa_error_set(e->err, SMOA_ERR_OUT_OF_MEMORY, "out of memory");
    st = smoa_eval_dataset_select(e->ds, e->o.limit, e->o.seed, order, &n_selected);
    if (st) smoa_error_set(e->err, st, "out of memory selecting items");
    if (st == SMOA_OK) st = open_outputs(e);
    if (st == SMOA_OK) {
        e->progress.dataset = e->ds->name;
        count_resumed(e, order, n_selected);
        smoa_log(e->ctx, SMOA_LOG_INFO, "eval %s: %u runs, %u already done", e->ds->name, e->progress.total,
                 e->progress.resumed);
        st = run_items(e, order, n_selected);
    }
    free(order);
    return st;
}

smoa_status smoa_eval_run(smoa_ctx *ctx, smoa_session *session, const smoa_eval_options *options) {
    if (!ctx) return SMOA_ERR_INVALID_ARGUMENT;
    smoa_error *err = smoa_ctx_begin(ctx);
    if (!session || !options) return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "session and options are required");
    evaluation e = {.ctx = ctx, .session = session, .err = err, .start = smoa_now()};
    smoa_eval_options_init(&e.o);
    smoa_status st = smoa_options_read(&e.o, sizeof e.o, options, "smoa_eval_options", err);
    if (st || (st = check_options(&e.o, err))) return st;
    smoa_run_options_init(&e.run);
    if (e.o.run && (st = smoa_options_read(&e.run, sizeof e.run, e.o.run, "smoa_run_options", err))) return st;
    if (e.run.judge > SMOA_JUDGE_SELF) /* named in run.json before any query checks the rest */
        return smoa_error_set(err, SMOA_ERR_INVALID_ARGUMENT, "unknown judge kind %u", e.run.judge);
    e.progress.struct_size = sizeof e.progress;
    st = evaluate(&e);
    smoa_eval_results_close(&e.results);
    smoa_eval_dataset_free(e.ds);
    return st;
}
