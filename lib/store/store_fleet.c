/* A fleet in the PostgreSQL store: plans queued once, devices that pull
 * their trials (SELECT ... FOR UPDATE SKIP LOCKED), leases that go back to
 * the queue when not heartbeated, and a completion that stores the record
 * and closes the claim in one transaction, accepted only from the holder of
 * the current lease, so a trial is complete exactly once. The server holds
 * all the state; there is no coordinator process. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "edgebench/fleet.h"
#include "edgebench/util.h"
#include "store_impl.h"

static const char fleet_schema[] =
    "CREATE TABLE IF NOT EXISTS fleet_devices (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL"
    " UNIQUE, facts_json TEXT, tags TEXT, registered_at TIMESTAMPTZ DEFAULT now(),"
    " last_seen TIMESTAMPTZ DEFAULT now());\n"
    "CREATE TABLE IF NOT EXISTS fleet_plans (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL,"
    " mode TEXT NOT NULL, selector TEXT, retry_limit INTEGER NOT NULL, status TEXT NOT NULL"
    " DEFAULT 'active', submitted_at TIMESTAMPTZ DEFAULT now(), n_trials INTEGER);\n"
    "CREATE TABLE IF NOT EXISTS fleet_trials (plan_id BIGINT NOT NULL REFERENCES"
    " fleet_plans(id) ON DELETE CASCADE, idx INTEGER NOT NULL, trial_key TEXT, section TEXT,"
    " config_json TEXT NOT NULL, PRIMARY KEY (plan_id, idx));\n"
    "CREATE TABLE IF NOT EXISTS fleet_items (id BIGSERIAL PRIMARY KEY, plan_id BIGINT NOT NULL"
    " REFERENCES fleet_plans(id) ON DELETE CASCADE, idx INTEGER NOT NULL, device_id BIGINT"
    " REFERENCES fleet_devices(id), state TEXT NOT NULL DEFAULT 'queued', lease_owner BIGINT"
    " REFERENCES fleet_devices(id), lease_token TEXT, lease_until TIMESTAMPTZ, attempts"
    " INTEGER NOT NULL DEFAULT 0, trial_id BIGINT, reason TEXT, updated_at TIMESTAMPTZ DEFAULT"
    " now());\n"
    /* per-device: one item per trial and device; split: device_id NULL */
    "CREATE UNIQUE INDEX IF NOT EXISTS fleet_items_one ON fleet_items (plan_id, idx,"
    " COALESCE(device_id, 0));\n"
    "CREATE INDEX IF NOT EXISTS fleet_items_state ON fleet_items (state, plan_id);\n"
    "CREATE INDEX IF NOT EXISTS fleet_items_device ON fleet_items (plan_id, device_id);\n";

eb_status eb_fleet_open(const char *spec, eb_store **out, eb_error *err)
{
    const char *target;
    const eb_store_backend *be = eb_store_backend_for(spec, &target);
    if (!(be->caps & EB_STORE_CAP_FLEET))
        return eb_fail(err, EB_E_UNSUPPORTED,
                       "a fleet is coordinated through a store many devices share with row "
                       "leases (postgresql://...); a %s store cannot",
                       be->name);
    eb_status st = eb_store_open(spec, out, err);
    if (st != EB_OK) return st;
    eb_store *s = *out;
    /* made once, by whoever comes first (the lock makes the others wait);
     * a device's role may not create tables, and need not */
    long long have = 0;
    st = eb_sq_id(s, "SELECT count(*) FROM pg_tables WHERE tablename = 'fleet_items'", 0, NULL,
                  &have, err);
    if (st == EB_OK && !have) {
        st = s->be->exec(s, "BEGIN; SELECT pg_advisory_xact_lock(7261001);", err);
        if (st == EB_OK) st = s->be->exec(s, fleet_schema, err);
        st = eb_sq_end(s, st, err);
    }
    if (st != EB_OK) {
        eb_store_close(s);
        *out = NULL;
    }
    return st;
}

eb_status eb_fleet_submit(eb_store *s, const eb_plan *plan, const char *name, bool split,
                          const char *selector, int retry_limit, long long *plan_id, eb_error *err)
{
    char n[24], lim[24];
    snprintf(n, sizeof n, "%zu", plan->n_trials);
    snprintf(lim, sizeof lim, "%d", retry_limit);
    const char *p[] = {name, split ? "split" : "per-device",
                       selector && selector[0] ? selector : NULL, lim, n};
    eb_status st = s->be->exec(s, "BEGIN", err);
    if (st == EB_OK)
        st = eb_sq_id(s,
                      "INSERT INTO fleet_plans (name, mode, selector, retry_limit, n_trials)"
                      " VALUES ($1, $2, $3, CAST($4 AS INTEGER), CAST($5 AS INTEGER)) RETURNING id",
                      5, p, plan_id, err);
    char pid[24];
    snprintf(pid, sizeof pid, "%lld", *plan_id);
    for (size_t i = 0; st == EB_OK && i < plan->n_trials; i++) {
        const eb_trial *t = &plan->trials[i];
        cJSON *cfg = eb_trial_config_json(t);
        char *text = cJSON_PrintUnformatted(cfg);
        cJSON_Delete(cfg);
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i);
        const char *q[] = {pid, idx, t->key_hex, t->section, text};
        st = text ? eb_sq_exec(s,
                               "INSERT INTO fleet_trials (plan_id, idx, trial_key, section,"
                               " config_json) VALUES (CAST($1 AS BIGINT), CAST($2 AS INTEGER),"
                               " $3, $4, $5)",
                               5, q, err)
                  : eb_fail(err, EB_E_NO_MEMORY, "fleet: out of memory");
        free(text);
        if (st == EB_OK && split)
            st = eb_sq_exec(s,
                            "INSERT INTO fleet_items (plan_id, idx) VALUES (CAST($1 AS BIGINT),"
                            " CAST($2 AS INTEGER))",
                            2, q, err);
    }
    return eb_sq_end(s, st, err);
}

eb_status eb_fleet_register(eb_store *s, const char *name, const char *facts_json, const char *tags,
                            long long *device_id, eb_error *err)
{
    const char *p[] = {name, facts_json, tags && tags[0] ? tags : NULL};
    return eb_sq_id(s,
                    "INSERT INTO fleet_devices (name, facts_json, tags) VALUES ($1, $2, $3)"
                    " ON CONFLICT (name) DO UPDATE SET facts_json = EXCLUDED.facts_json, tags ="
                    " EXCLUDED.tags, last_seen = now() RETURNING id",
                    3, p, device_id, err);
}

/* Does a selector ("board=Raspberry Pi 5,tag=lab,ram_gib>=8") match these
 * facts and tags? Every term must: board, cpu and gpu by substring (any
 * case), hostname and arch exactly, tag among the device's tags. */
bool eb_fleet_selector_matches(const char *selector, const cJSON *facts, const char *tags)
{
    if (!selector || !selector[0]) return true;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", selector);
    for (char *save = NULL, *term = strtok_r(buf, ",", &save); term;
         term = strtok_r(NULL, ",", &save)) {
        while (*term == ' ')
            term++;
        bool ge = strstr(term, ">=") != NULL;
        char *eq = ge ? strstr(term, ">=") : strchr(term, '=');
        if (!eq) return false;
        *eq = '\0';
        const char *want = eq + (ge ? 2 : 1);
        const char *key = term;
        const char *field = !strcmp(key, "board")      ? "board_model"
                            : !strcmp(key, "cpu")      ? "cpu_model"
                            : !strcmp(key, "gpu")      ? "gpu"
                            : !strcmp(key, "hostname") ? "hostname"
                            : !strcmp(key, "arch")     ? "arch"
                                                       : NULL;
        if (!strcmp(key, "tag")) {
            bool found = false;
            char tb[512];
            snprintf(tb, sizeof tb, "%s", tags ? tags : "");
            for (char *s2 = NULL, *t = strtok_r(tb, ",", &s2); t && !found;
                 t = strtok_r(NULL, ",", &s2))
                found = !strcmp(t, want);
            if (!found) return false;
        } else if (!strcmp(key, "ram_gib")) {
            const cJSON *ram = cJSON_GetObjectItemCaseSensitive(facts, "ram_total_kib");
            double gib = cJSON_IsNumber(ram) ? ram->valuedouble / 1048576.0 : 0;
            if (!(ge ? gib >= atof(want) - 0.5 : (long)(gib + 0.5) == atol(want))) return false;
        } else if (field) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(facts, field);
            const char *have = cJSON_IsString(v) ? v->valuestring : "";
            bool exact = !strcmp(key, "hostname") || !strcmp(key, "arch");
            if (exact ? strcmp(have, want) != 0 : !eb_strstr_ci(have, want)) return false;
        } else {
            return false; /* an unknown key matches nothing (submit checks them) */
        }
    }
    return true;
}

bool eb_fleet_selector_valid(const char *selector, char *why, size_t cap)
{
    if (!selector || !selector[0]) return true;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", selector);
    for (char *save = NULL, *term = strtok_r(buf, ",", &save); term;
         term = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(term, '=');
        if (!eq) {
            snprintf(why, cap, "selector term '%s' is not key=value", term);
            return false;
        }
        size_t k = (size_t)(eq - term) - (eq > term && eq[-1] == '>');
        static const char *const keys[] = {"board", "cpu", "gpu",    "hostname",
                                           "arch",  "tag", "ram_gib"};
        bool known = false;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            known |= strlen(keys[i]) == k && !strncmp(term, keys[i], k);
        if (!known) {
            snprintf(why, cap,
                     "selector key '%.*s' is not one of board, cpu, gpu, hostname, arch, tag, "
                     "ram_gib",
                     (int)k, term);
            return false;
        }
    }
    return true;
}

static void token(char out[33])
{
    FILE *f = fopen("/dev/urandom", "rb");
    unsigned char b[16] = {0};
    if (f) {
        if (fread(b, 1, sizeof b, f) != sizeof b) memset(b, 0, sizeof b);
        fclose(f);
    }
    if (!f) {
        uint64_t r = (uint64_t)time(NULL) ^ (uint64_t)clock();
        memcpy(b, &r, sizeof r);
    }
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

eb_status eb_fleet_claim(eb_store *s, long long device_id, const cJSON *facts, const char *tags,
                         int lease_s, eb_fleet_item *item, bool *pending, eb_error *err)
{
    memset(item, 0, sizeof *item);
    *pending = false;
    char dev[24], lease[24];
    snprintf(dev, sizeof dev, "%lld", device_id);
    snprintf(lease, sizeof lease, "%d", lease_s);
    /* the active plans this device matches */
    eb_table plans;
    eb_status st = eb_sq_query(s,
                               "SELECT id, mode, selector FROM fleet_plans WHERE status ="
                               " 'active' ORDER BY id",
                               0, NULL, NULL, &plans, err);
    if (st != EB_OK) return st;
    /* the plan ids as a PostgreSQL array literal, sized for every plan */
    size_t cap = 3 + plans.nrow * 22, n = 1;
    char *ids = malloc(cap);
    if (!ids) {
        eb_table_free(&plans);
        return eb_fail(err, EB_E_NO_MEMORY, "fleet: out of memory");
    }
    ids[0] = '{';
    for (size_t i = 0; i < plans.nrow; i++) {
        const char *sel = eb_table_cell(&plans, i, 2);
        if (!eb_fleet_selector_matches(sel, facts, tags)) continue;
        n += (size_t)snprintf(ids + n, cap - n, "%s%s", n > 1 ? "," : "",
                              eb_table_cell(&plans, i, 0));
        /* per-device: this device's own items, made once, the first time it
         * asks (not a scan of the plan's trials at every claim) */
        if (!strcmp(eb_table_cell(&plans, i, 1), "per-device") && st == EB_OK) {
            const char *q[] = {eb_table_cell(&plans, i, 0), dev};
            st = eb_sq_exec(s,
                            "INSERT INTO fleet_items (plan_id, idx, device_id) SELECT plan_id,"
                            " idx, CAST($2 AS BIGINT) FROM fleet_trials WHERE plan_id = CAST($1"
                            " AS BIGINT) AND NOT EXISTS (SELECT 1 FROM fleet_items WHERE plan_id"
                            " = CAST($1 AS BIGINT) AND device_id = CAST($2 AS BIGINT))"
                            " ON CONFLICT DO NOTHING",
                            2, q, err);
        }
    }
    snprintf(ids + n, cap - n, "}");
    eb_table_free(&plans);
    if (st != EB_OK || n == 1) {
        free(ids);
        return st;
    }
    char tok[33];
    token(tok);
    eb_table t;
    st = s->be->exec(s, "BEGIN", err);
    /* queued, or leased and not heartbeated in time; not past the retries */
    const char *q[] = {ids, dev, tok, lease};
    if (st == EB_OK)
        st = eb_sq_query(
            s,
            "WITH c AS (SELECT i.id FROM fleet_items i JOIN fleet_plans p ON p.id = i.plan_id"
            " WHERE i.plan_id = ANY(CAST($1 AS BIGINT[])) AND (i.device_id IS NULL OR i.device_id"
            " = CAST($2 AS BIGINT)) AND (i.state = 'queued' OR (i.state = 'leased' AND"
            " i.lease_until < now())) AND i.attempts < p.retry_limit ORDER BY i.plan_id, i.idx"
            " LIMIT 1 FOR UPDATE OF i SKIP LOCKED)"
            " UPDATE fleet_items f SET state = 'leased', lease_owner = CAST($2 AS BIGINT),"
            " lease_token = $3, lease_until = now() + CAST($4 AS INTEGER) * interval '1 second',"
            " attempts = f.attempts + 1, updated_at = now() FROM c WHERE f.id = c.id"
            " RETURNING f.id, f.plan_id, f.idx, f.attempts",
            4, q, NULL, &t, err);
    if (st == EB_OK && t.nrow == 1) {
        item->id = atoll(eb_table_cell(&t, 0, 0));
        item->plan_id = atoll(eb_table_cell(&t, 0, 1));
        item->idx = atoi(eb_table_cell(&t, 0, 2));
        item->attempts = atoi(eb_table_cell(&t, 0, 3));
        snprintf(item->token, sizeof item->token, "%s", tok);
    }
    if (st == EB_OK) eb_table_free(&t);
    st = eb_sq_end(s, st, err);
    if (st != EB_OK) {
        free(ids);
        return st;
    }
    char iid[24];
    snprintf(iid, sizeof iid, "%lld", item->id);
    if (item->id) {
        const char *r[] = {iid};
        st = eb_sq_query(s,
                         "SELECT t.config_json, t.trial_key, t.section, p.name, p.retry_limit"
                         " FROM fleet_items i JOIN fleet_trials t ON t.plan_id = i.plan_id AND"
                         " t.idx = i.idx JOIN fleet_plans p ON p.id = i.plan_id WHERE i.id ="
                         " CAST($1 AS BIGINT)",
                         1, r, NULL, &t, err);
        if (st == EB_OK && t.nrow == 1) {
            item->config = cJSON_Parse(eb_table_cell(&t, 0, 0));
            snprintf(item->trial_key, sizeof item->trial_key, "%s", eb_table_cell(&t, 0, 1));
            snprintf(item->section, sizeof item->section, "%s", eb_table_cell(&t, 0, 2));
            snprintf(item->plan_name, sizeof item->plan_name, "%s", eb_table_cell(&t, 0, 3));
            item->retry_limit = atoi(eb_table_cell(&t, 0, 4));
        }
        if (st == EB_OK) eb_table_free(&t);
        free(ids);
        return st;
    }
    /* nothing to claim: is something leased by another still to finish? */
    long long left = 0;
    const char *r[] = {ids, dev};
    st = eb_sq_id(s,
                  "SELECT count(*) FROM fleet_items i JOIN fleet_plans p ON p.id = i.plan_id"
                  " WHERE i.plan_id = ANY(CAST($1 AS BIGINT[])) AND (i.device_id IS NULL OR"
                  " i.device_id = CAST($2 AS BIGINT)) AND i.state IN ('queued', 'leased') AND"
                  " i.attempts < p.retry_limit",
                  2, r, &left, err);
    *pending = left > 0;
    free(ids);
    return st;
}

eb_status eb_fleet_heartbeat(eb_store *s, const eb_fleet_item *item, int lease_s, bool *held,
                             eb_error *err)
{
    char iid[24], lease[24];
    snprintf(iid, sizeof iid, "%lld", item->id);
    snprintf(lease, sizeof lease, "%d", lease_s);
    const char *p[] = {iid, item->token, lease};
    long long n = 0;
    eb_status st = eb_sq_id(s,
                            "WITH u AS (UPDATE fleet_items SET lease_until = now() + CAST($3 AS"
                            " INTEGER) * interval '1 second' WHERE id = CAST($1 AS BIGINT) AND"
                            " lease_token = $2 AND state = 'leased' RETURNING 1) SELECT count(*)"
                            " FROM u",
                            3, p, &n, err);
    *held = n > 0;
    return st;
}

eb_status eb_fleet_complete(eb_store *s, const eb_fleet_item *item, const cJSON *record, bool ok,
                            const char *reason, bool *accepted, eb_error *err)
{
    *accepted = false;
    char iid[24];
    snprintf(iid, sizeof iid, "%lld", item->id);
    eb_status st = eb_store_batch_begin(s, err);
    /* the lease is ours only while its token is the item's */
    long long mine = 0;
    const char *p[] = {iid, item->token};
    if (st == EB_OK)
        st = eb_sq_id(s,
                      "SELECT id FROM fleet_items WHERE id = CAST($1 AS BIGINT) AND"
                      " lease_token = $2 AND state = 'leased' FOR UPDATE",
                      2, p, &mine, err);
    bool final = ok || item->attempts >= item->retry_limit;
    long long trial_id = 0;
    /* a failure to be retried is not stored: the trial completes once */
    if (st == EB_OK && mine && final) st = eb_store_put_json(s, record, &trial_id, err);
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", trial_id);
    const char *q[] = {iid,
                       ok      ? "done"
                       : final ? "failed"
                               : "queued",
                       trial_id ? tid : NULL, reason};
    if (st == EB_OK && mine)
        st = eb_sq_exec(s,
                        "UPDATE fleet_items SET state = $2, trial_id = CAST($3 AS BIGINT),"
                        " reason = $4, lease_token = NULL, lease_until = NULL, updated_at ="
                        " now() WHERE id = CAST($1 AS BIGINT)",
                        4, q, err);
    if (st == EB_OK) {
        st = eb_store_batch_end(s, err);
        *accepted = st == EB_OK && mine;
    } else {
        s->in_batch = false;
        eb_error ignored = {0};
        s->be->exec(s, "ROLLBACK", &ignored);
    }
    return st;
}

eb_status eb_fleet_cancel(eb_store *s, const char *plan, long long *n_items, eb_error *err)
{
    const char *p[] = {plan};
    eb_status st = s->be->exec(s, "BEGIN", err);
    if (st == EB_OK)
        st = eb_sq_id(s,
                      "WITH u AS (UPDATE fleet_items SET state = 'cancelled', updated_at = now()"
                      " WHERE state IN ('queued', 'leased') AND plan_id IN (SELECT id FROM"
                      " fleet_plans WHERE name = $1 OR CAST(id AS TEXT) = $1) RETURNING 1)"
                      " SELECT count(*) FROM u",
                      1, p, n_items, err);
    if (st == EB_OK)
        st = eb_sq_exec(s,
                        "UPDATE fleet_plans SET status = 'cancelled' WHERE name = $1 OR"
                        " CAST(id AS TEXT) = $1",
                        1, p, err);
    return eb_sq_end(s, st, err);
}

eb_status eb_fleet_status(eb_store *s, eb_table *devices, eb_table *plans, eb_error *err)
{
    eb_status st = eb_sq_query(
        s,
        "SELECT d.name AS device, d.tags, to_char(d.last_seen, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS"
        " last_seen, (SELECT p.name || ' #' || i.idx FROM fleet_items i JOIN fleet_plans p ON"
        " p.id = i.plan_id WHERE i.lease_owner = d.id AND i.state = 'leased' LIMIT 1) AS"
        " running, (SELECT count(*) FROM fleet_items i WHERE i.lease_owner = d.id AND i.state"
        " = 'done') AS done FROM fleet_devices d ORDER BY d.name",
        0, NULL, NULL, devices, err);
    if (st != EB_OK) return st;
    st = eb_sq_query(
        s,
        "SELECT p.id AS plan_id, p.name AS plan, p.mode, p.selector, p.status, p.n_trials,"
        " count(*) FILTER (WHERE i.state = 'queued') AS queued, count(*) FILTER (WHERE i.state"
        " = 'leased') AS running, count(*) FILTER (WHERE i.state = 'done') AS done, count(*)"
        " FILTER (WHERE i.state = 'failed') AS failed, count(*) FILTER (WHERE i.state ="
        " 'cancelled') AS cancelled, (CASE WHEN count(*) FILTER (WHERE i.state = 'done') > 0"
        " THEN round(CAST(extract(epoch FROM (max(i.updated_at) FILTER (WHERE i.state ="
        " 'done') - p.submitted_at)) / count(*) FILTER (WHERE i.state = 'done') * count(*)"
        " FILTER (WHERE i.state IN ('queued', 'leased')) AS NUMERIC), 0) END) AS eta_s"
        " FROM fleet_plans p LEFT JOIN fleet_items i ON i.plan_id = p.id GROUP BY p.id ORDER"
        " BY p.id",
        0, NULL, NULL, plans, err);
    if (st != EB_OK) eb_table_free(devices);
    return st;
}
