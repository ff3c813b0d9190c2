#include "edgebench/json.h"

#include <cjson/cJSON.h>
#include <math.h>

void eb_json_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}
