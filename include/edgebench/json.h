/* JSON helpers every module shares (core): a number that is not finite
 * is written as null, never as 0. */
#ifndef EDGEBENCH_JSON_H
#define EDGEBENCH_JSON_H

struct cJSON;

/* o[key] = v, or null when v is NaN or infinite. */
void eb_json_number(struct cJSON *o, const char *key, double v);

#endif
