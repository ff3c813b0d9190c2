/* The Vulkan devices' API and driver versions, asked of the system's Vulkan
 * loader (opened with dlopen: edgebench neither links against it nor needs
 * it). A run on llama.cpp's Vulkan backend names them in its record. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgebench/gpuinfo.h"

#if defined(__has_include)
#if __has_include(<vulkan/vulkan.h>)
#define EB_HAVE_VULKAN_H 1
#endif
#endif

void eb_vulkan_device_driver_line(const eb_vulkan_device *d, char *out, size_t cap)
{
    int n = snprintf(out, cap, "Vulkan %s, %s", d->api_version,
                     d->driver_name[0] ? d->driver_name : "driver");
    if (n < 0 || (size_t)n >= cap) return;
    if (d->driver_info[0])
        snprintf(out + n, cap - (size_t)n, " %s", d->driver_info);
    else
        snprintf(out + n, cap - (size_t)n, " %s", d->driver_version);
}

#ifndef EB_HAVE_VULKAN_H

int eb_vulkan_devices(eb_vulkan_device *out, int cap, eb_error *err)
{
    (void)out;
    (void)cap;
    eb_fail(err, EB_E_NOT_AVAILABLE, "built without the Vulkan headers (libvulkan-dev)");
    return -1;
}

#else

#define VK_NO_PROTOTYPES 1
#include <vulkan/vulkan.h>

#define VENDOR_NVIDIA 0x10DEu

/* Each vendor numbers its driver its own way: NVIDIA packs 10.8.8.6 bits,
 * the others (Mesa, AMD's, Arm's, Qualcomm's on Linux) Vulkan's own
 * major.minor.patch. */
static void driver_version_text(uint32_t vendor, uint32_t v, char *out, size_t cap)
{
    if (vendor == VENDOR_NVIDIA)
        snprintf(out, cap, "%u.%u.%u.%u", (v >> 22) & 0x3ffu, (v >> 14) & 0xffu, (v >> 6) & 0xffu,
                 v & 0x3fu);
    else
        snprintf(out, cap, "%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
                 VK_API_VERSION_PATCH(v));
}

static const char *type_text(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return "CPU";
    default:
        return "other";
    }
}

typedef struct vk_api {
    PFN_vkGetInstanceProcAddr get_proc;
    PFN_vkCreateInstance create_instance;
    PFN_vkEnumerateInstanceVersion instance_version; /* NULL: a 1.0 loader */
} vk_api;

/* The loader, opened once and kept: drivers register exit handlers, so
 * closing it again is not safe. */
static void *loader(char *why, size_t cap)
{
    static void *h;
    static char reason[256];
    static int tried;
    if (!tried) {
        tried = 1;
        const char *lib = getenv("EDGEBENCH_VULKAN_LIB");
        if (!lib || !lib[0]) lib = "libvulkan.so.1";
        h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        if (!h) snprintf(reason, sizeof reason, "no Vulkan loader: %s", dlerror());
    }
    if (!h) snprintf(why, cap, "%s", reason);
    return h;
}

static bool has_extension(PFN_vkEnumerateDeviceExtensionProperties list, VkPhysicalDevice pd,
                          const char *name)
{
    uint32_t n = 0;
    if (!list || list(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0) return false;
    VkExtensionProperties *e = calloc(n, sizeof *e);
    if (!e) return false;
    bool found = false;
    if (list(pd, NULL, &n, e) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(e[i].extensionName, name) == 0;
    free(e);
    return found;
}

static void describe(VkInstance inst, PFN_vkGetInstanceProcAddr gp, bool v11, VkPhysicalDevice pd,
                     eb_vulkan_device *d)
{
    PFN_vkGetPhysicalDeviceProperties props =
        (PFN_vkGetPhysicalDeviceProperties)gp(inst, "vkGetPhysicalDeviceProperties");
    PFN_vkGetPhysicalDeviceProperties2 props2 =
        v11 ? (PFN_vkGetPhysicalDeviceProperties2)gp(inst, "vkGetPhysicalDeviceProperties2") : NULL;
    PFN_vkEnumerateDeviceExtensionProperties exts =
        (PFN_vkEnumerateDeviceExtensionProperties)gp(inst, "vkEnumerateDeviceExtensionProperties");
    memset(d, 0, sizeof *d);
    VkPhysicalDeviceProperties p;
    memset(&p, 0, sizeof p);
    if (props) props(pd, &p);
    snprintf(d->name, sizeof d->name, "%s", p.deviceName);
    snprintf(d->type, sizeof d->type, "%s", type_text(p.deviceType));
    snprintf(d->api_version, sizeof d->api_version, "%u.%u.%u", VK_API_VERSION_MAJOR(p.apiVersion),
             VK_API_VERSION_MINOR(p.apiVersion), VK_API_VERSION_PATCH(p.apiVersion));
    driver_version_text(p.vendorID, p.driverVersion, d->driver_version, sizeof d->driver_version);
    d->vendor_id = p.vendorID;
    d->device_id = p.deviceID;
    /* the driver's name and build: core in 1.2, an extension before */
    bool driver_props = p.apiVersion >= VK_API_VERSION_1_2 ||
                        has_extension(exts, pd, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);
    if (props2 && driver_props) {
        VkPhysicalDeviceDriverProperties drv;
        memset(&drv, 0, sizeof drv);
        drv.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
        VkPhysicalDeviceProperties2 p2;
        memset(&p2, 0, sizeof p2);
        p2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
        p2.pNext = &drv;
        props2(pd, &p2);
        snprintf(d->driver_name, sizeof d->driver_name, "%s", drv.driverName);
        snprintf(d->driver_info, sizeof d->driver_info, "%s", drv.driverInfo);
    }
}

int eb_vulkan_devices(eb_vulkan_device *out, int cap, eb_error *err)
{
    char why[300];
    void *h = loader(why, sizeof why);
    if (!h) {
        eb_fail(err, EB_E_NOT_AVAILABLE, "%s", why);
        return -1;
    }
    vk_api api = {0};
    api.get_proc = (PFN_vkGetInstanceProcAddr)dlsym(h, "vkGetInstanceProcAddr");
    if (!api.get_proc) {
        eb_fail(err, EB_E_NOT_AVAILABLE, "the Vulkan loader has no vkGetInstanceProcAddr");
        return -1;
    }
    api.create_instance = (PFN_vkCreateInstance)api.get_proc(NULL, "vkCreateInstance");
    api.instance_version =
        (PFN_vkEnumerateInstanceVersion)api.get_proc(NULL, "vkEnumerateInstanceVersion");
    uint32_t loader_version = VK_API_VERSION_1_0;
    if (api.instance_version) api.instance_version(&loader_version);
    bool v11 = loader_version >= VK_API_VERSION_1_1;
    VkApplicationInfo app;
    memset(&app, 0, sizeof app);
    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    app.pApplicationName = "edgebench";
    app.apiVersion = v11 ? VK_API_VERSION_1_1 : VK_API_VERSION_1_0;
    VkInstanceCreateInfo ci;
    memset(&ci, 0, sizeof ci);
    ci.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    ci.pApplicationInfo = &app;
    VkInstance inst = VK_NULL_HANDLE;
    VkResult r = api.create_instance ? api.create_instance(&ci, NULL, &inst)
                                     : VK_ERROR_INITIALIZATION_FAILED;
    if (r != VK_SUCCESS) {
        eb_fail(err, EB_E_NOT_AVAILABLE, "the Vulkan loader made no instance (VkResult %d)",
                (int)r);
        return -1;
    }
    PFN_vkDestroyInstance destroy = (PFN_vkDestroyInstance)api.get_proc(inst, "vkDestroyInstance");
    PFN_vkEnumeratePhysicalDevices list =
        (PFN_vkEnumeratePhysicalDevices)api.get_proc(inst, "vkEnumeratePhysicalDevices");
    uint32_t n = 0;
    int count = -1;
    if (list && list(inst, &n, NULL) == VK_SUCCESS) {
        VkPhysicalDevice *pds = n ? calloc(n, sizeof *pds) : NULL;
        if (n && !pds) {
            eb_fail(err, EB_E_NO_MEMORY, "out of memory listing %u Vulkan devices", n);
        } else if (n && (r = list(inst, &n, pds)) != VK_SUCCESS && r != VK_INCOMPLETE) {
            eb_fail(err, EB_E_NOT_AVAILABLE,
                    "the Vulkan loader could not list its devices (VkResult %d)", (int)r);
        } else {
            for (uint32_t i = 0; i < n && (int)i < cap; i++)
                describe(inst, api.get_proc, v11, pds[i], &out[i]);
            count = (int)n;
        }
        free(pds);
    } else {
        eb_fail(err, EB_E_NOT_AVAILABLE, "the Vulkan loader could not list its devices");
    }
    if (destroy) destroy(inst, NULL);
    return count;
}

#endif
