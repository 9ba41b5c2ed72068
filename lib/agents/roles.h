/* roles.h - personas for the proposers, written by the model itself from a
 * task description (as the SMoA reference does), and cached in a file so
 * that they are written once per task. */
#ifndef SMOA_AGENTS_ROLES_H
#define SMOA_AGENTS_ROLES_H

#include <stddef.h>
#include <stdint.h>

#include "agents/run.h"
#include "core/error.h"
#include "smoa.h"

/* Fills roles[0..n) (malloc'ed; free each) for the task: from the cache
 * file when it holds at least n, else by asking the model (one more try
 * when it gives fewer, then the default personas make up the rest), then
 * writing the cache. *source says which: "cache", "model" or
 * "model+defaults". A cache that cannot be written is logged, not fatal. */
smoa_status smoa_roles_for_task(smoa_ctx *ctx, smoa_session *s, smoa_run *run, const char *task,
                                const char *cache_path, size_t n, uint64_t seed, float temperature, char **roles,
                                const char **source, smoa_error *err);

#endif
