/* What a GPU's driver says of itself, for the record of a run that used it:
 * the Vulkan devices as the system's Vulkan loader lists them (API version,
 * driver name, version and build), asked through the loader itself
 * (libvulkan.so.1, opened at run time so that a machine without Vulkan
 * needs nothing). */
#ifndef EDGEBENCH_GPUINFO_H
#define EDGEBENCH_GPUINFO_H

#include <stddef.h>
#include <stdint.h>

#include "edgebench/error.h"

typedef struct eb_vulkan_device {
    char name[256];          /* deviceName: what llama.cpp's Vulkan backend describes it as */
    char type[16];           /* "discrete GPU", "integrated GPU", "virtual GPU", "CPU", "other" */
    char api_version[24];    /* the device's Vulkan API version, "1.3.230" */
    char driver_version[32]; /* in the vendor's own numbering, "550.54.15" for NVIDIA */
    char
        driver_name[64]; /* "llvmpipe", "NVIDIA", "Intel open-source Mesa driver"; "" if not told */
    char driver_info[128]; /* "Mesa 22.3.6 (LLVM 15.0.6)"; "" if not told */
    uint32_t vendor_id, device_id;
} eb_vulkan_device;

/* Lists up to cap devices into out (every device the loader has: the CPU
 * ones too) and returns how many there are; -1 with err set when there is
 * no Vulkan loader or it has no instance (EB_E_NOT_AVAILABLE, with the
 * reason). $EDGEBENCH_VULKAN_LIB names another loader library. */
int eb_vulkan_devices(eb_vulkan_device *out, int cap, eb_error *err);

/* "Vulkan 1.3.230, llvmpipe Mesa 22.3.6 (LLVM 15.0.6)": the device's API
 * and driver in one line. */
void eb_vulkan_device_driver_line(const eb_vulkan_device *d, char *out, size_t cap);

#endif
