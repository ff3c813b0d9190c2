/* What the store's writers share: JSON fields as statement parameters,
 * the fingerprinted upserts of devices, builds and models, and the writers
 * of each kind of record. */
#ifndef EDGEBENCH_STORE_PUT_IMPL_H
#define EDGEBENCH_STORE_PUT_IMPL_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "store_impl.h"

/* Parameters of one statement: the most any insert of a record binds. */
#define MAXP 96
typedef struct params {
    int n;
    bool overflow; /* more than MAXP: the statement is not run */
    const char *v[MAXP];
    unsigned char num[MAXP]; /* the value is a number (see the backend) */
    char buf[MAXP][40];
} params;

const char *sp_jtext(const cJSON *o, const char *key, char *buf, size_t cap);
const cJSON *sp_jobj(const cJSON *o, const char *key);
void sp_p_json(params *p, const cJSON *o, const char *key);
void sp_p_str(params *p, const char *s);
void sp_p_id(params *p, long long id);
void sp_p_num(params *p, double d);
eb_status sp_upsert(eb_store *s, const char *table, const cJSON *o, const char *const *columns,
                    const char *const *fp_keys, long long *id, eb_error *err);
eb_status sp_put_device(eb_store *s, const cJSON *rec, long long *id, eb_error *err);
eb_status sp_put_build(eb_store *s, const cJSON *rec, long long *id, eb_error *err);
eb_status sp_put_model(eb_store *s, const cJSON *rec, long long *id, eb_error *err);
eb_status sp_put_trial(eb_store *s, const cJSON *rec, long long ids[3], long long *trial_id,
                       eb_error *err);
eb_status sp_put_distributed(eb_store *s, long long trial_id, const cJSON *rec, eb_error *err);
eb_status sp_put_serving(eb_store *s, long long trial_id, const cJSON *rec, eb_error *err);
eb_status sp_put_windows(eb_store *s, long long trial_id, const cJSON *sustained, eb_error *err);
eb_status sp_put_run(eb_store *s, long long trial_id, const cJSON *rep, eb_error *err);
eb_status sp_put_timeline(eb_store *s, long long trial_id, const cJSON *tl, eb_error *err);
eb_status sp_put_lb_tests(eb_store *s, long long trial_id, const cJSON *tests, eb_error *err);
bool sp_is_kind(const cJSON *rec, const char *kind);
eb_status sp_put_quality(eb_store *s, const cJSON *rec, const long long ids[3], long long *id,
                         eb_error *err);
eb_status sp_put_probe(eb_store *s, const cJSON *rec, const long long ids[3], long long *id,
                       eb_error *err);

/* llama-bench's per-test rows */
extern const char sp_insert_lb_test[];

#endif
