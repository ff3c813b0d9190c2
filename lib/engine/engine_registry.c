/* The engines edgebench can drive; a new engine is one more entry. */
#include <string.h>

#include "edgebench/engine.h"

const eb_engine_ops *const eb_engines[] = {&eb_engine_llama};
const size_t eb_engine_count = sizeof eb_engines / sizeof eb_engines[0];

const eb_engine_ops *eb_engine_default(void)
{
    return eb_engines[0];
}

const eb_engine_ops *eb_engine_find(const char *name)
{
    for (size_t i = 0; i < eb_engine_count; i++)
        if (strcmp(eb_engines[i]->name, name) == 0) return eb_engines[i];
    return NULL;
}
