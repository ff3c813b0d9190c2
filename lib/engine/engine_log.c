#include "engine_log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void eb_llama_log_load_reset(eb_llama_log_facts *f)
{
    f->layers = f->layers_away = 0;
    f->offloaded = f->offload_total = -1;
}

void eb_llama_log_ctx_reset(eb_llama_log_facts *f, int flash_attn_asked)
{
    memset(&f->ctx, 0, sizeof f->ctx);
    f->ctx.kv_mib = f->ctx.k_mib = f->ctx.v_mib = NAN;
    f->ctx.flash_attn = flash_attn_asked;
}

static bool layer_line(eb_llama_log_facts *f, const char *text)
{
    const char *as = strstr(text, " assigned to device ");
    char dev[64] = "";
    if (!as || !strstr(text, "load_tensors: layer") ||
        sscanf(as, " assigned to device %63[^, \n]", dev) != 1)
        return false;
    f->layers++;
    if (strcmp(dev, "CPU") != 0) f->layers_away++;
    return true;
}

static bool offload_line(eb_llama_log_facts *f, const char *text)
{
    const char *off = strstr(text, "offloaded ");
    int done, total;
    if (!off || !strstr(off, "layers to GPU") || sscanf(off, "offloaded %d/%d", &done, &total) != 2)
        return false;
    f->offloaded = done;
    f->offload_total = total;
    return true;
}

static bool kv_line(eb_llama_log_facts *f, const char *text)
{
    const char *kv = strstr(text, "llama_kv_cache: size = ");
    double mib, k, v;
    unsigned cells;
    char tk[16], tv[16];
    if (!kv || sscanf(kv, "llama_kv_cache: size = %lf MiB (%u cells", &mib, &cells) != 2)
        return false;
    const char *kp = strstr(kv, "K ("), *vp = strstr(kv, "V (");
    if (!kp || !vp || sscanf(kp, "K (%15[^)]): %lf", tk, &k) != 2 ||
        sscanf(vp, "V (%15[^)]): %lf", tv, &v) != 2)
        return false;
    eb_ctx_info *c = &f->ctx;
    /* a model with sliding-window layers has two caches: summed */
    bool first = isnan(c->kv_mib);
    c->kv_mib = (first ? 0 : c->kv_mib) + mib;
    c->k_mib = (first ? 0 : c->k_mib) + k;
    c->v_mib = (first ? 0 : c->v_mib) + v;
    c->kv_cells = cells;
    snprintf(c->type_k, sizeof c->type_k, "%s", tk);
    snprintf(c->type_v, sizeof c->type_v, "%s", tv);
    return true;
}

static bool flash_line(eb_llama_log_facts *f, const char *text)
{
    if (strstr(text, "Flash Attention enabled") || strstr(text, "flash_attn = enabled"))
        f->ctx.flash_attn = 1;
    else if (strstr(text, "Flash Attention not supported") || strstr(text, "flash_attn = disabled"))
        f->ctx.flash_attn = 0;
    else
        return false;
    return true;
}

bool eb_llama_log_line(eb_llama_log_facts *f, const char *line)
{
    return layer_line(f, line) || offload_line(f, line) || kv_line(f, line) || flash_line(f, line);
}
