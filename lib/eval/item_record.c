/* item_record.c - cost and agent fields of a result line, from a run. */
#include "eval/item_record.h"

#include <stdio.h>
#include <string.h>

#include "agents/run.h"

#define AGENT_NAME_ROLE_BYTES 48 /* a persona is named by its first words */


json_t *smoa_eval_record_new(const char *dataset, const smoa_eval_item *item, smoa_mode mode, const char *scorer) {
    return json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:{s:i, s:i, s:i}, s:i, s:f, s:i, s:[]}", "dataset", dataset,
                     "item", item->id, "category", item->category, "mode", smoa_run_mode_name(mode), "scorer", scorer,
                     "status", "ok", "tokens", "prompt", 0, "prefill", 0, "generated", 0, "calls", 0, "seconds", 0.0,
                     "layers", 0, "agents");
}

static void add_integer(json_t *obj, const char *key, json_int_t v) {
    json_object_set_new(obj, key, json_integer(json_integer_value(json_object_get(obj, key)) + v));
}

/* "agent 2: You are a careful mathematician ..." - stable across items, so
 * statistics per agent add up over a data set. */
static json_t *agent_name(int index, const char *role) {
    char name[AGENT_NAME_ROLE_BYTES + 32];
    if (!role) {
        snprintf(name, sizeof name, "agent %d", index);
        return json_string(name);
    }
    size_t n = strlen(role);
    if (n > AGENT_NAME_ROLE_BYTES) { /* cut at a character boundary */
        n = AGENT_NAME_ROLE_BYTES;
        while (n > 0 && ((unsigned char)role[n] & 0xC0) == 0x80) n--;
    }
    snprintf(name, sizeof name, "agent %d: %.*s%s", index, (int)n, role, n < strlen(role) ? "..." : "");
    return json_string(name);
}

static bool index_in(json_t *array, int index) {
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v) if (json_integer_value(v) == index) return true;
    return false;
}

/* The judge's score of an agent in a layer (scoring judge), or null. */
static json_t *agent_score(json_t *layer, int index) {
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(json_object_get(layer, "judge"), "scores"), i, s)
        if (json_integer_value(json_object_get(s, "agent")) == index)
            return json_incref(json_object_get(s, "yes_minus_no"));
    return json_null();
}

static json_t *agent_json(json_t *layer, json_t *call, size_t layer_index) {
    int index = (int)json_integer_value(json_object_get(call, "agent"));
    const char *stop = json_string_value(json_object_get(call, "stop"));
    bool failed = stop && (strcmp(stop, "error") == 0 || strcmp(stop, "context full") == 0);
    return json_pack("{s:o, s:i, s:b, s:o, s:O, s:O, s:O, s:b}", "name",
                     agent_name(index, json_string_value(json_object_get(call, "role"))), "layer", (int)layer_index,
                     "kept", index_in(json_object_get(layer, "kept"), index), "score", agent_score(layer, index),
                     "prompt_tokens", json_object_get(call, "prompt_tokens"), "generated_tokens",
                     json_object_get(call, "generated_tokens"), "seconds", json_object_get(call, "seconds"), "failed",
                     failed);
}

/* From the run's trace document itself (internal), not its rendering. */
static void add_agents(json_t *record, const smoa_run *run) {
    json_t *agents = json_object_get(record, "agents");
    size_t l, p;
    json_t *layer, *call;
    json_array_foreach(run->layers, l, layer)
        json_array_foreach(json_object_get(layer, "proposers"), p, call)
            json_array_append_new(agents, agent_json(layer, call, l));
}

void smoa_eval_record_add_run(json_t *record, const smoa_run *run) {
    smoa_cost c = {.struct_size = sizeof c};
    smoa_run_cost(run, SMOA_STAGE_TOTAL, &c);
    json_t *tokens = json_object_get(record, "tokens");
    add_integer(tokens, "prompt", (json_int_t)c.prompt_tokens);
    add_integer(tokens, "prefill", (json_int_t)c.prefill_tokens);
    add_integer(tokens, "generated", (json_int_t)c.generated_tokens);
    add_integer(record, "calls", c.calls);
    add_integer(record, "layers", smoa_run_layers(run));
    json_object_set_new(record, "seconds",
                        json_real(json_real_value(json_object_get(record, "seconds")) + c.seconds));
    add_agents(record, run);
}

void smoa_eval_record_fail(json_t *record, const char *message) {
    json_object_set_new(record, "status", json_string("error"));
    json_object_set_new(record, "error", json_string(message));
}
