/* The llama.cpp engine's devices (engine_devices.c): what its backends
 * found here, a backend's devices by name, and a -dev list resolved. */
#ifndef EDGEBENCH_ENGINE_DEVICES_H
#define EDGEBENCH_ENGINE_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "edgebench/engine.h"
#include "ggml-backend.h"

/* The backends must be initialised (llama_backend_init) first. */
int eb_devices_list(eb_device_desc *out, int cap);
bool eb_devices_of_backend(const char *backend, char *out, size_t cap);
/* The driver and API of a device, in one line ("Vulkan 1.3.230, llvmpipe
 * Mesa 22.3.6 (LLVM 15.0.6)"); "" for a backend that does not say (the CPU,
 * RPC), "driver not available: why" when it cannot be asked. */
void eb_device_driver(ggml_backend_dev_t d, char *out, size_t cap);
/* list: "none", or names separated by ',' or '/'; devs NULL-terminated
 * (cap counts the NULL). "none" gives an empty list: the CPU alone. */
eb_status eb_devices_resolve(const char *list, ggml_backend_dev_t *devs, size_t cap, size_t *n,
                             eb_error *err);

#endif
