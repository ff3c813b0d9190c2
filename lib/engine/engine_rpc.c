/* The llama.cpp engine's RPC part, apart from engine_llama.c: it speaks to
 * ggml's RPC backend (registered at run time, as llama-bench's -rpc does)
 * and reads where llama.cpp placed each layer and buffer from its log. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_rpc.h"
#include "ggml-backend.h"

/* Endpoints registered in this process: llama.cpp would add a second set
 * of devices for an endpoint registered twice. */
static struct {
    char endpoint[128];
    ggml_backend_reg_t reg;
} registered[EB_MAX_NODES * 4];
static int n_registered;

static eb_placement placed[EB_MAX_NODES];
static int n_placed;

static ggml_backend_reg_t register_endpoint(const char *ep, eb_error *err)
{
    for (int i = 0; i < n_registered; i++)
        if (strcmp(registered[i].endpoint, ep) == 0) return registered[i].reg;
    if (n_registered == (int)(sizeof registered / sizeof *registered)) {
        eb_fail(err, EB_E_INVALID_ARG, "rpc: more than %d distinct endpoints in one process",
                n_registered);
        return NULL;
    }
    ggml_backend_reg_t rpc = ggml_backend_reg_by_name("RPC");
    if (!rpc) {
        eb_fail(err, EB_E_UNSUPPORTED,
                "rpc: this llama.cpp build has no RPC backend (build it with GGML_RPC=ON)");
        return NULL;
    }
    typedef ggml_backend_reg_t (*add_fn)(const char *);
    add_fn add = (add_fn)ggml_backend_reg_get_proc_address(rpc, "ggml_backend_rpc_add_server");
    if (!add) {
        eb_fail(err, EB_E_UNSUPPORTED, "rpc: the RPC backend has no ggml_backend_rpc_add_server");
        return NULL;
    }
    ggml_backend_reg_t reg = add(ep); /* connects: the caller checked the node answers */
    if (!reg) {
        eb_fail(err, EB_E_NETWORK, "rpc: %s could not be added", ep);
        return NULL;
    }
    ggml_backend_register(reg);
    snprintf(registered[n_registered].endpoint, sizeof registered[n_registered].endpoint, "%s", ep);
    registered[n_registered++].reg = reg;
    return reg;
}

int eb_rpc_placement_begin(const char *list)
{
    n_placed = 0;
    int n = 0;
    char *copy = strdup(list), *save = NULL;
    if (!copy) return 0;
    for (char *ep = strtok_r(copy, ",", &save); ep; ep = strtok_r(NULL, ",", &save), n++) {
        while (*ep == ' ')
            ep++;
        if (n_placed == EB_MAX_NODES) continue; /* counted: the caller refuses the list */
        eb_placement *p = &placed[n_placed++];
        memset(p, 0, sizeof *p);
        snprintf(p->endpoint, sizeof p->endpoint, "%s", ep);
        p->model_mib = p->kv_mib = p->compute_mib = NAN;
    }
    free(copy);
    return n;
}

eb_status eb_rpc_devices(const char *list, ggml_backend_dev_t *devs, int cap, int *n, eb_error *err)
{
    *n = 0;
    devs[0] = NULL;
    int n_nodes = eb_rpc_placement_begin(list);
    if (n_nodes > EB_MAX_NODES) {
        n_placed = 0;
        return eb_fail(err, EB_E_INVALID_ARG, "rpc: %d nodes, llama.cpp takes at most %d", n_nodes,
                       EB_MAX_NODES);
    }
    for (int i = 0; i < n_nodes; i++) {
        eb_placement *p = &placed[i];
        ggml_backend_reg_t reg = register_endpoint(p->endpoint, err);
        if (!reg) {
            n_placed = i; /* the record holds the nodes registered */
            return err ? err->status : EB_E_NETWORK;
        }
        for (size_t d = 0; d < ggml_backend_reg_dev_count(reg); d++) {
            if (*n >= cap - 1)
                return eb_fail(err, EB_E_INVALID_ARG, "rpc: more than %d devices", cap - 1);
            ggml_backend_dev_t dev = ggml_backend_reg_dev_get(reg, d);
            devs[(*n)++] = dev;
            devs[*n] = NULL;
            /* a node with several devices: its first names it */
            if (d == 0) snprintf(p->device, sizeof p->device, "%s", ggml_backend_dev_name(dev));
        }
    }
    return EB_OK;
}

static eb_placement *by_device(const char *name)
{
    for (int i = 0; i < n_placed; i++)
        if (strcmp(placed[i].device, name) == 0) return &placed[i];
    return NULL;
}

static eb_placement *by_endpoint(const char *ep)
{
    for (int i = 0; i < n_placed; i++)
        if (strcmp(placed[i].endpoint, ep) == 0) return &placed[i];
    return NULL;
}

void eb_rpc_placement_reset(bool context_only)
{
    for (int i = 0; i < n_placed; i++) {
        placed[i].kv_mib = placed[i].compute_mib = NAN;
        if (!context_only) placed[i].layers = 0, placed[i].model_mib = NAN;
    }
}

/* "RPC0[127.0.0.1:50052] model buffer size =     0.64 MiB": the buffer's
 * endpoint and size. */
static bool buffer_line(const char *text, const char *what, char *ep, size_t cap, double *mib)
{
    const char *w = strstr(text, what);
    const char *lb = strchr(text, '[');
    if (!w || !lb || lb > w) return false;
    const char *rb = strchr(lb, ']');
    if (!rb || rb > w || (size_t)(rb - lb - 1) >= cap) return false;
    memcpy(ep, lb + 1, (size_t)(rb - lb - 1));
    ep[rb - lb - 1] = '\0';
    return sscanf(w + strlen(what), " size = %lf", mib) == 1;
}

void eb_rpc_log_line(const char *text)
{
    if (n_placed == 0) return;
    char dev[64], ep[128];
    double mib;
    /* "using device RPC0 (127.0.0.1:50052) ...": llama.cpp's name for it */
    const char *use = strstr(text, "using device ");
    if (use && sscanf(use, "using device %63s (%127[^)])", dev, ep) == 2) {
        eb_placement *p = by_endpoint(ep);
        if (p) snprintf(p->device, sizeof p->device, "%s", dev);
        return;
    }
    const char *as = strstr(text, " assigned to device ");
    if (as && strstr(text, "load_tensors: layer") &&
        sscanf(as, " assigned to device %63[^, \n]", dev) == 1) {
        eb_placement *p = by_device(dev);
        if (p) p->layers++;
        return;
    }
    eb_placement *p;
    if (strstr(text, "load_tensors:") && buffer_line(text, "model buffer", ep, sizeof ep, &mib) &&
        (p = by_endpoint(ep)))
        p->model_mib = (isnan(p->model_mib) ? 0 : p->model_mib) + mib;
    else if (strstr(text, "llama_kv_cache:") &&
             buffer_line(text, "KV buffer", ep, sizeof ep, &mib) && (p = by_endpoint(ep)))
        p->kv_mib = (isnan(p->kv_mib) ? 0 : p->kv_mib) + mib;
    else if (strstr(text, "sched_reserve:") &&
             buffer_line(text, "compute buffer", ep, sizeof ep, &mib) && (p = by_endpoint(ep)))
        p->compute_mib = mib; /* reserved again on a later pass: the last holds */
}

int eb_rpc_placement(eb_placement *out, int cap)
{
    int n = n_placed < cap ? n_placed : cap;
    memcpy(out, placed, (size_t)n * sizeof *out);
    return n;
}
